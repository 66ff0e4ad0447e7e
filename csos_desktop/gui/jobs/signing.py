"""Signing jobs that run on the token thread: a batch of orders, or one receipt.

Each job has two steps the signing dialog submits to the token worker:
``preview`` (no PIN: what will be signed, with which certificate, what is
refused and why) and ``sign`` (one login, then the services sign and store).
The store and the token are opened inside each step, once for the step (docs/decisions.md,
"the signing dialog opens it per step"): the PIN wait between the two has no bound.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order import Order
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.domain.token_errors import TokenError
from csos_desktop.domain.token_state import TokenInfo
from csos_desktop.gui.jobs.token_thread import Progress
from csos_desktop.services.orders import queries
from csos_desktop.services.orders.batch import OrderSigner
from csos_desktop.services.orders.check_stage import check_drafts
from csos_desktop.services.orders.lifecycle import sign_orders_on_token
from csos_desktop.services.orders.order_signer import SignedOrder
from csos_desktop.services.orders.receipts import check_receipt, receipt_session, sign_receipt
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.signing import (
    IdentityChoice,
    SigningPurpose,
    signing_session,
)

# What to sign with: defined with the token layer, re-exported for the GUI's other modules.
from csos_desktop.services.signing import TokenTarget as TokenTarget
from csos_desktop.services.signing.picker import (
    Picker,
    pickers,
    remember_choice,
    remembered_choices,
)
from csos_desktop.services.som.gate import FlaggedOrder, SomJustificationRequired
from csos_desktop.services.sync.as2_settings import signs_as_x12
from csos_desktop.services.tokens.status import CertificateStatus

log = logging.getLogger(__name__)

SignerWrapper = Callable[[OrderSigner], OrderSigner]


class SigningCancelled(TokenError):
    """The user stopped the batch between two orders.

    A TokenError on purpose: ``services.orders.batch.sign_orders`` stops a batch cleanly
    (signed orders kept, the rest left as drafts, the stop audited) only on errors
    that would fail every later order the same way, and a cancel does exactly that.
    """

    def __init__(self) -> None:
        super().__init__("You stopped the batch: this order was not signed and is still a draft.")


class PinBox:
    """The typed PIN, handed to the token thread once; taking it leaves nothing behind."""

    def __init__(self, pin: str | None) -> None:
        self._pin = pin

    def take(self) -> str | None:
        pin, self._pin = self._pin, None
        return pin


@dataclass(frozen=True)
class Notice:
    """A sentence for the dialog while the job runs (e.g. the PIN-pad prompt)."""

    text: str
    pin_pad: bool = False


@dataclass(frozen=True)
class Step:
    """Batch progress: about to sign item ``index`` (0-based) of ``total``."""

    index: int
    total: int
    label: str


class GuiInteraction:
    """The dialog's side of ``services.interaction.Interaction``, called on the token thread."""

    def __init__(self, pin: PinBox, progress: Progress) -> None:
        self._pin = pin
        self._progress = progress

    def ask_pin(self, token: TokenInfo, warning: str | None) -> str | None:
        if warning:
            self._progress(Notice(warning))
        return self._pin.take()

    def show_pin_pad_prompt(self, token: TokenInfo) -> None:
        self._progress(
            Notice(
                f"Enter your PIN on the reader's keypad for token '{token.label}'.", pin_pad=True
            )
        )

    def notify(self, message: str) -> None:
        self._progress(Notice(message))


@dataclass(frozen=True)
class Refusal:
    label: str
    reason: str


@dataclass(frozen=True)
class Preview:
    """What the dialog shows before the PIN is asked."""

    token: TokenInfo
    certificate: CertificateStatus
    orders: tuple[Order, ...]  # the ones that will be signed
    refused: tuple[Refusal, ...]
    receipt_lines: tuple[ReceiptLine, ...] = ()
    noun: str = "order"
    #: For jobs that sign something other than orders (renewal, revocation request).
    description_html: str | None = None
    #: From the pre-PIN checks: revocation not checkable, clock not verifiable.
    warnings: tuple[str, ...] = ()
    #: Flagged orders (SOM, 21 CFR 1301.74(b)), one row each in the dialog: their flags,
    #: and the justification accepted for each or why none is yet.
    flagged: tuple[FlaggedOrder, ...] = ()
    #: Several locations: per purchaser DEA number, the certificates that can sign its
    #: orders and the one preselected (the dialog shows a picker when there is a choice).
    pickers: tuple[Picker, ...] = ()
    #: Every certificate that will sign, when more than one does (a mixed-location batch).
    certificates: tuple[CertificateStatus, ...] = ()

    @property
    def signable(self) -> int:
        return len(self.orders) if self.description_html is None else 1


@dataclass(frozen=True)
class Outcome:
    """Per item: signed, or not signed with the reason; and why the batch stopped early."""

    signed: tuple[str, ...]
    unsigned: tuple[Refusal, ...]
    stopped: str | None = None
    details: dict[str, str] = field(default_factory=dict)


class SigningJob(Protocol):
    """What the signing dialog drives; both methods run on the token thread."""

    title: str

    def preview(self, progress: Progress) -> Preview: ...

    def sign(self, pin: PinBox, cancel: threading.Event, progress: Progress) -> Outcome: ...


@runtime_checkable
class ChoosesCertificate(Protocol):
    """A job whose certificate the signing dialog's picker may choose per purchaser."""

    def choose(self, dea: str, key_id: str) -> None: ...


class _BatchSigner:
    """Reports each order before it is signed and stops the batch when cancelled."""

    def __init__(
        self,
        inner: OrderSigner,
        progress: Progress,
        cancel: threading.Event,
        first: int,
        total: int,
    ) -> None:
        self.identity = inner.identity
        self._inner = inner
        self._progress = progress
        self._cancel = cancel
        self._index = first
        self._total = total

    @property
    def next_index(self) -> int:
        return self._index

    def sign(self, order: Order) -> SignedOrder:
        if self._cancel.is_set():
            raise SigningCancelled()
        self._progress(Step(self._index, self._total, order.order_number))
        self._index += 1
        return self._inner.sign(order)


class OrderBatch:
    """Sign drafts with one login; each is committed as soon as it is signed."""

    title = "Sign orders"

    def __init__(
        self,
        store_path: Path,
        order_ids: Sequence[str],
        target: TokenTarget,
        *,
        signer_wrapper: SignerWrapper | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._path = store_path
        self._ids = list(order_ids)
        self._target = target
        self._wrap = signer_wrapper
        self._clock = clock
        self._ready: list[str] = []
        self._refused: list[Refusal] = []
        #: Order id → the justification typed in that order's row of the dialog; checked
        #: before the PIN, recorded only with the order's signature (never on Cancel).
        self.som_justifications: dict[str, str] = {}
        #: Purchaser DEA number → CKA_ID (hex): remembered, then the dialog's picks.
        self.choices: dict[str, str] = remembered_choices()

    def choose(self, dea: str, key_id: str) -> None:
        """The pharmacist picked *key_id* for purchaser *dea*: used now and remembered."""
        self.choices[dea] = key_id
        remember_choice(dea, key_id)

    def preview(self, progress: Progress) -> Preview:
        """Every check the service makes before the PIN, so refusals show first.

        With the store's checks (``services.orders.pre_sign``): a signer without power of
        attorney stops the job; a flagged order waits for a justification.
        """
        now = self._clock()
        with open_store(self._path) as store, self._session() as session:
            offered = pickers(session, queries.drafts(store, self._ids), self.choices, now)
            self.choices.update({p.dea: p.chosen for p in offered})
            session.choose(self.choices)
            checked = check_drafts(
                store, self._ids, session, now, som_justifications=self.som_justifications
            )
            ready, refused = checked.ready, checked.refused
            token = session.token_info()
            certs = tuple(
                CertificateStatus.of(i, now, *(o.purchaser.dea_number.value for o in ready))
                for i in checked.signers or (session.identity,)
            )
            warnings = checked.warnings
        # A flagged order waiting for its justification is shown in its own row, not in
        # the summary; its result says why in the dialog's words.
        why = {f.order_id: f.problem for f in checked.flagged if f.problem}
        self._refused = [
            Refusal(u.order_number or u.order_id[:8], why.get(u.order_id) or u.reason)
            for u in refused
        ]
        others = tuple(
            Refusal(u.order_number or u.order_id[:8], u.reason)
            for u in refused
            if u.code != SomJustificationRequired.__name__
        )
        self._ready = [o.order_id for o in ready]
        return Preview(
            token,
            certs[0],
            tuple(ready),
            others,
            warnings=warnings,
            flagged=checked.flagged,
            pickers=offered,
            certificates=certs if len(certs) > 1 else (),
        )

    @contextmanager
    def _session(self) -> Iterator[IdentityChoice]:
        # Each order's purchaser chooses the certificate (several locations on one token);
        # the status bar's certificate is not imposed on orders of another location.
        target = replace(self._target, cert_id=None)
        with signing_session(
            target, SigningPurpose.ORDER, clock=self._clock, by_purchaser=True
        ) as session:
            session.choose(self.choices)
            yield session

    def sign(self, pin: PinBox, cancel: threading.Event, progress: Progress) -> Outcome:
        ids = self._ready
        if not ids:
            return Outcome((), tuple(self._refused))
        with open_store(self._path) as store, self._session() as session:
            # One service call: its checks, the one login, the audit of a failed login
            # (1311.150); the wrapped signer reports progress and honours Stop.
            # Called once per location's certificate: the count goes on across them.
            made: list[_BatchSigner] = []

            def wrap(signer: OrderSigner) -> OrderSigner:
                inner = self._wrap(signer) if self._wrap is not None else signer
                first = made[-1].next_index if made else 0
                made.append(_BatchSigner(inner, progress, cancel, first, len(ids)))
                return made[-1]

            result = sign_orders_on_token(
                store,
                ids,
                session,
                GuiInteraction(pin, progress),
                wrap=wrap,
                som_justifications=self.som_justifications,
                x12=signs_as_x12(),  # AS2 carries the signed 850
            )
        signed = tuple(r.order_number for r in result.signed)
        unsigned = tuple(
            Refusal(u.order_number or u.order_id[:8], u.reason) for u in result.unsigned
        )
        return Outcome(signed, (*self._refused, *unsigned), result.stopped)


class ReceiptJob:
    """Sign one electronic receipt (21 CFR 1305.22(g)) for delivered lines of one order."""

    title = "Sign receipt"

    def __init__(
        self,
        store_path: Path,
        order_id: str,
        lines: Sequence[ReceiptLine],
        target: TokenTarget,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._path = store_path
        self._order_id = order_id
        self._lines = tuple(lines)
        self._target = target
        self._clock = clock

    def _session(self) -> AbstractContextManager[IdentityChoice]:
        return signing_session(
            self._target, SigningPurpose.RECEIPT, clock=self._clock, by_purchaser=True
        )

    def preview(self, progress: Progress) -> Preview:
        now = self._clock()
        with open_store(self._path) as store, self._session() as opened:
            session = receipt_session(store, self._order_id, opened)
            check_receipt(store, self._order_id, self._lines, session.identity, clock=self._clock)
            session.check_session(now)
            order = queries.signed_order(store, self._order_id)
            token = session.token_info()
            cert = CertificateStatus.of(session.identity, now, order.purchaser.dea_number.value)
        return Preview(token, cert, (order,), (), self._lines, noun="receipt")

    def sign(self, pin: PinBox, cancel: threading.Event, progress: Progress) -> Outcome:
        with open_store(self._path) as store, self._session() as session:
            number = queries.order_number(store, self._order_id)
            progress(Step(0, 1, f"receipt for {number}"))
            try:
                receipt, rec = sign_receipt(
                    store, self._order_id, self._lines, session, GuiInteraction(pin, progress)
                )
            except TokenError:
                raise  # the dialog explains PIN and token problems itself
            except CsosError as exc:
                return Outcome((), (Refusal(f"Receipt for {number}", exc.message),))
        return Outcome(
            (f"Receipt for {rec.order_number}",),
            (),
            details={"receipt_id": receipt.receipt_id, "state": rec.state.value},
        )
