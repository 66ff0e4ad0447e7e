"""Signing jobs for the legal workflow: cancel, lost order, grant, accept and revoke a power
of attorney.

Each is one signed document. The preview runs the service's own pre-PIN check,
so a refusal shows before the PIN is asked; the sign step logs in once and
calls the same service the CLI calls. Both run on the token thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from csos_desktop.gui.jobs.signing import (
    GuiInteraction,
    Outcome,
    PinBox,
    Preview,
    TokenTarget,
)
from csos_desktop.gui.jobs.token_thread import Progress
from csos_desktop.services.orders import notices as order_notices
from csos_desktop.services.orders import poa, poa_acceptance
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.signing import (
    SigningIdentity,
    SigningPurpose,
    SigningSession,
    signing_session,
)
from csos_desktop.services.signing.documents import TokenDocumentSigner
from csos_desktop.services.tokens.status import CertificateStatus

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore

Sign = Callable[[bytes], bytes]


class _DocumentJob:
    """One document signed on the token: ``check`` before the PIN, ``run`` after it."""

    title = "Sign"

    def __init__(self, store_path: Path, target: TokenTarget) -> None:
        self._path = store_path
        self._target = target

    def check(self, store: OpenStore, ident: SigningIdentity) -> str:
        """Raise what the service refuses; return the HTML saying what will be signed."""
        raise NotImplementedError

    def run(self, store: OpenStore, ident: SigningIdentity, sign: Sign) -> str:
        """Sign and keep; return the sentence for the result list."""
        raise NotImplementedError

    def _session(self) -> AbstractContextManager[SigningSession]:
        # Notices about orders and powers of attorney sign with the order certificate.
        return signing_session(self._target, SigningPurpose.ORDER)

    def preview(self, progress: Progress) -> Preview:
        with open_store(self._path) as store, self._session() as session:
            session.check_session()
            html = self.check(store, session.identity)
            cert = CertificateStatus.of(session.identity, datetime.now(UTC))
            token = session.token_info()
        return Preview(token, cert, (), (), description_html=html)

    def sign(self, pin: PinBox, cancel: threading.Event, progress: Progress) -> Outcome:
        with open_store(self._path) as store, self._session() as session:
            self.check(store, session.identity)
            session.log_in(GuiInteraction(pin, progress))
            done = self.run(store, session.identity, TokenDocumentSigner(session).sign)
        return Outcome((done,), ())


class CancelJob(_DocumentJob):
    """Cancel packages of a sent order (21 CFR 1305.28); sent with the next sync."""

    title = "Cancel order"

    def __init__(
        self,
        store_path: Path,
        target: TokenTarget,
        order_id: str,
        quantities: Mapping[int, int] | None,
        reason: str,
    ) -> None:
        super().__init__(store_path, target)
        self._order_id, self._quantities, self._reason = order_id, quantities, reason

    def check(self, store: OpenStore, ident: SigningIdentity) -> str:
        rec = order_notices.check_cancel(
            store, self._order_id, self._quantities, self._reason, ident
        )
        what = (
            "every package not yet shipped"
            if self._quantities is None
            else ", ".join(f"line {n}: {q}" for n, q in sorted(self._quantities.items()))
        )
        return (
            f"<h3>Cancel order {escape(rec.order_number)} (21 CFR 1305.28)</h3>"
            f"<p>Cancel {escape(what)}. Reason: <b>{escape(self._reason)}</b>.</p>"
            "<p>The signed cancellation goes to the distributor with the next sync; packages "
            "it has already shipped cannot be cancelled.</p>"
        )

    def run(self, store: OpenStore, ident: SigningIdentity, sign: Sign) -> str:
        done = order_notices.cancel_order(
            store, self._order_id, self._quantities, self._reason, sign, identity=ident
        )
        return f"Cancellation of order {done.order_number} signed; it is sent with the next sync"


class LostOrderJob(_DocumentJob):
    """The 1305.26 statement for a lost order, and its replacement draft."""

    title = "Declare order lost"

    def __init__(
        self, store_path: Path, target: TokenTarget, order_id: str, explanation: str
    ) -> None:
        super().__init__(store_path, target)
        self._order_id, self._explanation = order_id, explanation

    def check(self, store: OpenStore, ident: SigningIdentity) -> str:
        rec = order_notices.check_lost(store, self._order_id, self._explanation, ident)
        return (
            f"<h3>Order {escape(rec.order_number)} of {escape(rec.date_signed or '')} was lost "
            "(21 CFR 1305.26)</h3>"
            f"<p>You sign a statement naming this order and its date: "
            f"<b>{escape(self._explanation)}</b>. A replacement draft with a new number is "
            "created and linked to it; sign it afterwards. The statement goes to the "
            "distributor with the next sync, so the original is not accepted if it turns "
            "up later.</p>"
        )

    def run(self, store: OpenStore, ident: SigningIdentity, sign: Sign) -> str:
        statement, replacement = order_notices.declare_lost(
            store, self._order_id, self._explanation, sign, identity=ident
        )
        return (
            f"Lost-order statement for {statement.order_number} signed; replacement draft "
            f"{replacement.order_number} created"
        )


class PoaGrantJob(_DocumentJob):
    """A power of attorney in the 1305.05(c) form, signed on the registrant's token."""

    title = "Grant power of attorney"

    def __init__(
        self,
        store_path: Path,
        target: TokenTarget,
        *,
        holder_name: str,
        holder_certificates: Sequence[bytes],
        address: str,
        place: str,
    ) -> None:
        super().__init__(store_path, target)
        self._holder, self._certs = holder_name, list(holder_certificates)
        self._address, self._place = address, place

    def check(self, store: OpenStore, ident: SigningIdentity) -> str:
        reg = poa.check_registrant(store, ident)
        poa.holder_fingerprints(reg.dea_number, self._certs)
        return (
            f"<h3>Power of attorney for DEA {escape(reg.dea_number)} (21 CFR 1305.05)</h3>"
            f"<p>I, <b>{escape(reg.name)}</b>, appoint <b>{escape(self._holder)}</b> to sign "
            f"orders for schedule I and II controlled substances ({len(self._certs)} "
            "certificate(s)). Signed with your token, in the form 1305.05(c) gives. "
            f"{escape(self._holder)} then accepts it with their own token "
            "(Accept (attorney)); until then they sign no schedule I/II order.</p>"
        )

    def run(self, store: OpenStore, ident: SigningIdentity, sign: Sign) -> str:
        rec = poa.grant(
            store,
            ident,
            sign,
            holder_name=self._holder,
            holder_certificates=self._certs,
            registrant_address=self._address,
            place=self._place,
        )
        return f"Power of attorney granted to {rec.holder_name}; pending their acceptance"


class PoaAcceptJob(_DocumentJob):
    """The attorney-in-fact's acceptance (1305.05(c)), signed on their own token."""

    title = "Accept power of attorney"

    def __init__(self, store_path: Path, target: TokenTarget, poa_id: str) -> None:
        super().__init__(store_path, target)
        self._poa_id = poa_id

    def check(self, store: OpenStore, ident: SigningIdentity) -> str:
        rec = poa_acceptance.check_acceptor_audited(store, ident, self._poa_id)
        return (
            f"<h3>Accept the power of attorney for DEA {escape(rec.dea_number)} "
            "(21 CFR 1305.05(c))</h3>"
            f"<p>I, <b>{escape(rec.holder_name)}</b>, hereby affirm that I am the person named "
            "herein as attorney-in-fact and that the signature affixed hereto is my "
            f"signature. Granted on {escape(rec.granted_on)}; signed with your own token "
            f"({escape(ident.info.subject)}).</p>"
        )

    def sign(self, pin: PinBox, cancel: threading.Event, progress: Progress) -> Outcome:
        # The service asks the PIN itself, after its own check, and ends with the checkpoint.
        with open_store(self._path) as store, self._session() as session:
            rec = poa_acceptance.accept(store, session, GuiInteraction(pin, progress), self._poa_id)
        return Outcome((f"{rec.holder_name} accepted the power of attorney",), ())


class PoaRevokeJob(_DocumentJob):
    """The notice of revocation (1305.05(d)); the CSOS CA must then be told (1311.45)."""

    title = "Revoke power of attorney"

    def __init__(
        self, store_path: Path, target: TokenTarget, poa_id: str, reason: str, place: str
    ) -> None:
        super().__init__(store_path, target)
        self._poa_id, self._reason, self._place = poa_id, reason, place

    def check(self, store: OpenStore, ident: SigningIdentity) -> str:
        reg = poa.check_registrant(store, ident)
        rec = poa.check_revocable(store, self._poa_id, reg)
        return (
            f"<h3>Revoke the power of attorney of {escape(rec.holder_name)}</h3>"
            f"<p>Reason: <b>{escape(self._reason)}</b>. From now on they cannot sign orders. "
            "Tell the CSOS Certification Authority within 6 hours (21 CFR 1311.45).</p>"
        )

    def run(self, store: OpenStore, ident: SigningIdentity, sign: Sign) -> str:
        rec = poa.revoke(store, ident, sign, self._poa_id, reason=self._reason, place=self._place)
        return f"Power of attorney of {rec.holder_name} revoked; tell the CSOS CA within 6 hours"
