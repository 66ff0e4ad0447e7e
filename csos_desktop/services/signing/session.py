"""The one entry point for signing with the token: open, check, log in, sign.

Every signing path, GUI or CLI, opens a :class:`SigningSession` with
:func:`signing_session` and then:

1. ``check(items)``: the ``pre_pin_checks`` stage (``checks.default_checks``),
   before any PIN; a refusal is a typed ``PrePinRefusal`` with an actionable message;
2. ``log_in(interaction)``: runs the session checks once more, then asks the PIN
   once (or the PIN pad) and never retries it;
3. ``sign(document)``: a detached CMS signature made on the token and verified
   before it is returned, so a bad signature is never kept.

The bytes passed to ``sign`` are the bytes to keep and send, exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from csos_desktop import paths
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.domain.order import Order
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.cms_parse import parse_signed_data, signature_valid
from csos_desktop.services.interaction import Interaction, log_in
from csos_desktop.services.signing.checks import (
    PrePinChecks,
    SigningFacts,
    SigningPurpose,
    default_checks,
)
from csos_desktop.services.signing.locations import choose_for_purchaser, order_schedules_covered
from csos_desktop.token.identity import SigningIdentity, TokenTarget, open_identity
from csos_desktop.token.session import TokenSession
from csos_desktop.token.signer import TokenSigner
from csos_desktop.token.slots import TokenInfo, describe, refreshed


class SignatureSelfCheckFailed(CsosError):
    """The token returned a signature that does not verify; nothing is kept."""


class SigningSession:
    """One identity on one token session, with the checks to run before the PIN."""

    def __init__(
        self,
        ts: TokenSession,
        identity: SigningIdentity,
        chain: Sequence[bytes],
        purpose: SigningPurpose,
        *,
        checks: PrePinChecks | None = None,
        clock: Clock = utc_now,
        locations: Locations | None = None,
    ) -> None:
        self.ts = ts
        self.identity = identity
        self.chain = list(chain)
        self.purpose = purpose
        self.checks = default_checks() if checks is None else checks
        self.clock = clock
        #: Warnings from the checks (revocation unknown, clock unverified): show them.
        self.warnings: list[str] = []
        self._cms: CmsSigner | None = None
        #: Orders: the certificate is chosen per order by its purchaser (several locations).
        self.locations = locations
        self._siblings: dict[bytes, SigningSession] = {}

    # -- several locations: one certificate per purchaser, one login ----------------------
    @property
    def chooses_per_order(self) -> bool:
        """True when each order's purchaser chooses the certificate (``for_order``)."""
        return self.locations is not None

    @property
    def mixes_locations(self) -> bool:
        """Several certificates, none chosen: a certificate that cannot sign now refuses
        only its own location's orders, not the batch."""
        loc = self.locations
        return loc is not None and loc.cert_id is None and len(loc.identities) > 1

    def for_order(self, order: Order, now: datetime | None = None) -> SigningSession:
        """The session that signs *order*: this one, or, when the certificate is chosen per
        order, the one of the certificate for the order's purchaser (same token session,
        same login, same warnings). Raises an ``ItemRefused`` before the PIN when no
        certificate, or several, fit (``locations.choose_for_purchaser``)."""
        if self.locations is None:
            return self
        when = self.clock() if now is None else now
        dea = order.purchaser.dea_number.value
        loc = self.locations

        def usable(identity: SigningIdentity) -> str | None:
            try:
                self._sibling(identity).check_session(when)
            except CsosError as exc:
                return exc.message
            return order_schedules_covered(identity, order)

        chosen = choose_for_purchaser(
            loc.identities,
            dea,
            cert_id=loc.cert_id or loc.chosen.get(dea),
            usable=usable,
            known=lambda i: loc.known(i, dea),
        )
        return self._sibling(chosen)

    def usable_for(self, orders: Sequence[Order], now: datetime) -> list[SigningIdentity]:
        """The certificates that match the purchaser of *orders* (one purchaser) and can
        sign all of them now: the signing dialog's picker offers these."""
        if self.locations is None or not orders:
            return [self.identity]
        dea = orders[0].purchaser.dea_number.value
        out = []
        for identity in self.locations.identities:
            if not identity.info.matches_dea(dea):
                continue
            try:
                self._sibling(identity).check_session(now)
            except CsosError:
                continue
            if all(order_schedules_covered(identity, o) is None for o in orders):
                out.append(identity)
        return out

    def choose(self, choices: Mapping[str, str]) -> None:
        """The signer's choice per purchaser DEA number (hex CKA_ID), e.g. the dialog's."""
        if self.locations is not None:
            self.locations = replace(self.locations, chosen=dict(choices))

    def _sibling(self, identity: SigningIdentity) -> SigningSession:
        if identity.key_id not in self._siblings:
            assert self.locations is not None
            sibling = SigningSession(
                self.ts,
                identity,
                self.locations.chain_of(identity),
                self.purpose,
                checks=self.checks,
                clock=self.clock,
            )
            sibling.warnings = self.warnings  # one list: all are shown before the PIN
            self._siblings[identity.key_id] = sibling
        return self._siblings[identity.key_id]

    def used(self) -> list[SigningSession]:
        """The sessions that signed or will sign: this one, or the per-order ones chosen."""
        return list(self._siblings.values()) if self.locations is not None else [self]

    # -- before the PIN ---------------------------------------------------------------
    def token_info(self) -> TokenInfo:
        """The token's label, model and current PIN state (flags read afresh)."""
        return describe(refreshed(self.ts.token))

    def facts(self, now: datetime | None = None) -> SigningFacts:
        return SigningFacts(
            self.purpose,
            self.identity,
            tuple(self.chain),
            self.ts.info,
            self.clock() if now is None else now,
            self.warnings,
        )

    def check_session(self, now: datetime | None = None) -> None:
        """The session checks: raises a ``SessionRefused`` when nothing may be signed
        (per order: those of each certificate chosen so far)."""
        if self.locations is not None:
            for session in self.used():
                session.check_session(now)
            return
        self.checks.run_session(self.facts(now))

    def check_item(self, item: object, now: datetime | None = None) -> None:
        """The item checks for one order, prescription, ...: raises ``ItemRefused``."""
        if self.locations is not None and isinstance(item, Order):
            self.for_order(item, now).check_item(item, now)
            return
        self.checks.run_item(self.facts(now), item)

    def check(self, items: Sequence[object] = (), now: datetime | None = None) -> None:
        """The whole ``pre_pin_checks`` stage: session checks, then each item's."""
        if self.locations is not None:
            for item in items:
                session = self.for_order(item, now) if isinstance(item, Order) else self
                session.check_session(now)
                session.check_item(item, now)
            return
        self.checks.run(self.facts(now), items)

    # -- the PIN and the signature ------------------------------------------------------
    def log_in(self, interaction: Interaction) -> None:
        """Session checks once more, then one login; the PIN is never retried or kept."""
        self.check_session()
        for warning in self.warnings:  # seen before the PIN is asked (CLI, GUI, services)
            interaction.notify(f"warning: {warning}")
        log_in(self.ts, interaction)

    def sign(self, document: bytes, now: datetime | None = None) -> bytes:
        """A detached CMS signature over *document*, verified before it is returned."""
        if self.locations is not None:  # the certificate is chosen per order: for_order()
            raise InputError(
                "Several CSOS certificates are on the token and none was chosen for this "
                "document; choose one with --cert-id."
            )
        if self._cms is None:
            signer = TokenSigner(self.ts, self.identity.key_id)
            self._cms = CmsSigner(signer, self.identity.certificate_der, self.chain)
        signature = self._cms.sign(document, self.clock() if now is None else now)
        if not signature_valid(parse_signed_data(signature)):
            raise SignatureSelfCheckFailed(
                "The token produced a signature that does not verify; nothing was signed "
                "or kept. Check that the certificate on the token belongs to its key."
            )
        return signature


@dataclass(frozen=True)
class Locations:
    """What a session needs to choose a certificate per order (several locations)."""

    identities: tuple[SigningIdentity, ...]
    chain_of: Callable[[SigningIdentity], list[bytes]]
    #: The signer's explicit choice (``--cert-id``, the dialog's picker), hex CKA_ID.
    cert_id: str | None = None
    #: The DEA number the app knows for a certificate, given the purchaser's number.
    known: Callable[[SigningIdentity, str], str | None] = lambda _i, _dea: None
    #: Purchaser DEA number → hex CKA_ID chosen in the dialog's picker.
    chosen: Mapping[str, str] = field(default_factory=dict)


def known_number(identity: SigningIdentity, dea: str) -> str | None:
    """The DEA number the app knows for *identity* (purchaser, enrolment, settings), only
    when its hash matches: a number that does not match says nothing about the location."""
    from csos_desktop.enrol.known_dea import known_dea  # enrolment records

    known = known_dea(identity, dea)
    return known.number if known is not None and known.matches else None


@contextmanager
def signing_session(
    target: TokenTarget,
    purpose: SigningPurpose,
    *,
    checks: PrePinChecks | None = None,
    clock: Clock = utc_now,
    rw: bool = False,
    stored_chain: Path | None = None,
    by_purchaser: bool = False,
) -> Iterator[SigningSession]:
    """Open the token and find the identity and chain without a PIN; closes on exit.

    ``stored_chain`` defaults to the chain saved at enrolment (``paths.chain_file()``);
    ``rw`` is for renewal, which writes a new key and certificate. ``by_purchaser``
    (orders): the certificate is chosen per order (``SigningSession.for_order``).
    """
    chain_path = paths.chain_file() if stored_chain is None else stored_chain
    # Prescriptions and grant approvals may use a CSP certificate without DEA extensions.
    epcs = purpose in (SigningPurpose.PRESCRIPTION, SigningPurpose.GRANT_APPROVAL)
    with open_identity(
        target, stored_chain=chain_path, rw=rw, epcs=epcs, by_purchaser=by_purchaser
    ) as opened:
        locations = (
            Locations(opened.identities, opened.chain_of, target.cert_id, known_number)
            if by_purchaser
            else None
        )
        yield SigningSession(
            opened.session,
            opened.identity,
            opened.chain,
            purpose,
            checks=checks,
            clock=clock,
            locations=locations,
        )
