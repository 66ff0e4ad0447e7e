"""Order use cases on the local store, shared by the CLI and the GUI.

Import drafts, sign a batch with one token login, void, record a receipt,
export for an inspector. A batch commits each order as soon as it is signed:
if the token is pulled or locks half-way, the signed orders stay signed, the
rest stay drafts, and the result says which and why.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from csos_desktop.config.local_time import local_date, pharmacy_zone
from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import CsosError, InputError, ItemRefused, SessionRefused
from csos_desktop.domain.order import Order, OrderInvalid, format_timestamp, parse_order_input
from csos_desktop.domain.order_state import (
    RECEIVABLE,
    IllegalTransition,
    OrderState,
    check_transition,
)
from csos_desktop.domain.receipt import Receipt, ReceiptLine, build_receipt, fully_received
from csos_desktop.domain.token_errors import TokenError
from csos_desktop.services.audit.checkpoint import checkpoint_after_session
from csos_desktop.services.interaction import Interaction
from csos_desktop.services.orders import pre_sign
from csos_desktop.services.orders.export import NotSigned, export_order, order_record_files
from csos_desktop.services.orders.order_signer import (
    OrderNotSignable,
    OrderSigningSession,
    SignatureSelfCheckFailed,
    SignedOrder,
)
from csos_desktop.services.signing import Signing, SigningSession
from csos_desktop.services.som import gate as som_gate
from csos_desktop.store import legal, lifecycle
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.db import StoreError
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import ConcurrentChange, OrderNotFound, OrderRecord
from csos_desktop.store.sent_order import sent_order
from csos_desktop.token.identity import SigningIdentity

# Exports live in services/orders/export.py; these names are kept for existing callers.
__all__ = ["NotSigned", "export_order", "order_record_files"]


class OrderSigner(Protocol):
    """Signs one order (``OrderSigningSession`` on a logged-in token)."""

    identity: SigningIdentity

    def sign(self, order: Order) -> SignedOrder: ...


class DocumentSigner(Protocol):
    """Signs a receipt document's bytes (``TokenDocumentSigner``)."""

    identity: SigningIdentity

    def sign(self, document: bytes) -> bytes: ...


class ImportRefused(InputError):
    """Some orders in the file are invalid; none was imported."""


# -- import -----------------------------------------------------------------------


def import_orders(
    store: Store,
    data: object,
    *,
    source: str,
    clock: Clock = utc_now,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> list[OrderRecord]:
    """Create drafts from one order object or a list of them; all are imported or none.

    An order without ``order_number`` gets the purchaser's next number (26X000001, ...).
    """
    items = data if isinstance(data, list) else [data]
    now = clock()
    drafts: list[tuple[Order, bool]] = []
    problems: list[str] = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            problems.append(f"order {i}: must be a JSON object")
            continue
        auto = "order_number" not in item
        # A placeholder in the right format; the real number is drawn inside the transaction.
        year = local_date(now).year
        fields = {**item, "order_number": f"{year % 100:02d}X000000"} if auto else item
        try:
            drafts.append((parse_order_input(fields, now=now, new_id=new_id), auto))
        except OrderInvalid as exc:
            problems += [f"order {i}: {p}" for p in exc.problems]
    if problems:
        raise ImportRefused(
            "Nothing was imported; fix these and import the file again:\n" + "\n".join(problems)
        )
    if not drafts:
        raise ImportRefused("The file holds no orders.")
    return lifecycle.create_drafts(store, drafts, now=now, source=source)


# -- batch signing ----------------------------------------------------------------


@dataclass(frozen=True)
class Unsigned:
    """An order the batch left unsigned, and why."""

    order_id: str
    order_number: str | None
    reason: str
    code: str


@dataclass(frozen=True)
class BatchResult:
    signed: tuple[OrderRecord, ...]
    unsigned: tuple[Unsigned, ...]
    #: Why the batch stopped early (token removed, PIN locked, ...); None if it ran through.
    stopped: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "signed": [
                {"order_id": r.order_id, "order_number": r.order_number, "state": r.state.value}
                for r in self.signed
            ],
            "unsigned": [
                {
                    "order_id": u.order_id,
                    "order_number": u.order_number,
                    "reason": u.reason,
                    "code": u.code,
                }
                for u in self.unsigned
            ],
            "stopped": self.stopped,
        }


# The token or the store is unusable: every later order would fail the same way.
_STOPS_BATCH: tuple[type[CsosError], ...] = (
    TokenError,
    SignatureSelfCheckFailed,
    SessionRefused,
    StoreError,
)
# Only this order is affected; the batch goes on.
_SKIPS_ORDER: tuple[type[CsosError], ...] = (
    ItemRefused,
    OrderInvalid,
    IllegalTransition,
    OrderNotFound,
    ConcurrentChange,
)


def _code(exc: Exception) -> str:
    return type(exc).__name__


def update_draft(
    store: Store, ref: str, data: Mapping[str, object], *, clock: Clock = utc_now
) -> OrderRecord:
    """Replace a draft's content from order input; it keeps its id, number and creation time."""
    rec = store.orders.resolve(ref)
    current = store.orders.order(rec.order_id)
    fields = {
        **data,
        "order_id": rec.order_id,
        "order_number": rec.order_number,
        "created_at": format_timestamp(current.created_at),
    }
    order = parse_order_input(fields, now=clock())
    return lifecycle.update_draft(store, order, now=clock())


#: The facts a batch was checked on (chain ruling, revocation, clock) are gathered again
#: before the next signature once they are older than this, outside any transaction.
FACTS_KEPT = timedelta(seconds=60)


def sign_orders(
    store: Store,
    ids: Sequence[str],
    signer: OrderSigner,
    *,
    clock: Clock = utc_now,
    before_each: Callable[[datetime], None] | None = None,
    justified: Mapping[str, som_gate.FlaggedOrder] | None = None,
) -> BatchResult:
    """Sign each draft in turn: prepare (its number in the signing year), sign on the token
    outside any transaction, then record (signed bytes, audit entry, submit message in one
    short transaction). ``before_each`` runs before each signature, with no lock held (the
    batch gathers stale facts again there). ``justified`` (by order id): a flagged order's
    accepted justification, recorded in its signature's transaction and nowhere else."""
    ident = signer.identity
    # The certificate carries only a hash of the DEA number; precheck matches each order's
    # purchaser to it, and that number is what the archive records (dea_number=None).
    info = lifecycle.SignerInfo(ident.info.subject, None, ident.certificate_der)
    signed: list[OrderRecord] = []
    unsigned: list[Unsigned] = []
    for i, order_id in enumerate(ids):
        try:
            now = clock()
            if before_each is not None:
                before_each(now)
            order, renumbered_from = prepare_for_signing(store, order_id, now)
            made = signer.sign(order)
            details = signed_details(made, info, renumbered_from)
            flagged = (justified or {}).get(order_id)
            carried = (
                som_gate.justification_entries(
                    flagged,
                    made.order,
                    info.subject,
                    local_date(now),
                    {
                        "certificate_sha256": details["certificate_sha256"],
                        "subject_serial": ident.info.subject_serial,
                    },
                )
                if flagged is not None and flagged.justification is not None
                else []
            )
            record = lifecycle.SignedOrderRecord(
                made.order,
                made.document,
                made.signature,
                info,
                details,
                carried,
                None
                if made.x12 is None
                else (made.x12.control_number, made.x12.interchange, made.x12.signed),
            )
            signed.append(lifecycle.record_signed(store, order_id, record, now=now))
        except _STOPS_BATCH as exc:
            rest = [_unsigned(store, oid, exc) for oid in ids[i:]]
            unsigned += rest
            _audit_stop(store, clock, exc, len(signed), [u.order_id for u in rest])
            return BatchResult(tuple(signed), tuple(unsigned), exc.message)
        except _SKIPS_ORDER as exc:
            unsigned.append(_unsigned(store, order_id, exc))
    return BatchResult(tuple(signed), tuple(unsigned))


def prepare_for_signing(store: Store, order_id: str, now: datetime) -> tuple[Order, str | None]:
    """The draft as it will be signed, and the number it had if it moved to the signing
    year (1305.21(b)(1)): a generated number is redone, the new one reserved in the store."""
    rec = store.orders.get(order_id)
    check_transition(rec.label, rec.state, OrderState.SIGNED)
    order = store.orders.order(order_id)
    year = pre_sign.signing_year(order, rec.number_auto, now)
    if year is None:
        return order, None
    number = lifecycle.reserve_number(store, rec.purchaser_dea, year)
    return replace(order, order_number=number), order.order_number


def signed_details(
    signed: SignedOrder, signer: lifecycle.SignerInfo, renumbered_from: str | None
) -> dict[str, object]:
    """The ``order.signed`` audit entry: what was signed, by whom, with digests."""
    order = signed.order
    details: dict[str, object] = {
        "order_number": order.order_number,
        "date_signed": None if order.date_signed is None else order.date_signed.isoformat(),
        "document_sha256": hashlib.sha256(signed.document).hexdigest(),
        "signature_sha256": hashlib.sha256(signed.signature).hexdigest(),
        "signer_subject": signer.subject,
        "signer_dea": signer.dea_number or order.purchaser.dea_number.value,
        "certificate_sha256": hashlib.sha256(signer.certificate_der).hexdigest(),
    }
    if renumbered_from is not None:
        details["renumbered_from"] = renumbered_from
    if signed.x12 is not None:
        details["x12_control_number"] = signed.x12.control_number
        details["x12_signature_sha256"] = hashlib.sha256(signed.x12.signed).hexdigest()
    return details


@dataclass(frozen=True)
class CheckedBatch:
    """The check stage's verdict, before any PIN: what will be signed, with which
    certificates, what is refused and why, and what the signer must see."""

    ready: tuple[Order, ...]
    refused: tuple[Unsigned, ...]
    #: Every certificate that will sign; its session checks ran (once each).
    signers: tuple[SigningIdentity, ...]
    warnings: tuple[str, ...]
    checked_at: datetime
    #: Every flagged draft, ready (its justification accepted) or refused (why not).
    flagged: tuple[som_gate.FlaggedOrder, ...] = ()

    @property
    def justified(self) -> dict[str, som_gate.FlaggedOrder]:
        """The ready flagged orders by id: the record stage keeps their justification."""
        ready = {o.order_id for o in self.ready}
        return {f.order_id: f for f in self.flagged if f.order_id in ready}


def check_drafts(
    store: Store,
    ids: Sequence[str],
    session: Signing,
    now: datetime,
    *,
    som_justifications: Mapping[str, str] | None = None,
) -> CheckedBatch:
    """The pre-PIN stage for a batch, as a value (no I/O inside a transaction).

    Each draft gets its certificate first (several locations: the one for its purchaser);
    then every session check runs for every certificate that will sign, whatever chose it;
    then each order's checks, and those that need the store (``pre_sign``): who may sign
    for the DEA number, and the SOM justification of a flagged order: its own, from
    ``som_justifications`` (by order id), checked here and recorded only with its
    signature. A ``SessionRefused`` (expired certificate, a signer
    without power of attorney, ...) is raised: nothing could be signed; in a batch that
    mixes locations it refuses only that certificate's orders.
    """
    refused: list[Unsigned] = []
    chosen: list[tuple[OrderRecord, Order, SigningSession]] = []
    for order_id in ids:
        try:
            rec = store.orders.get(order_id)
            if rec.state is not OrderState.DRAFT:
                raise IllegalTransition(rec.label, rec.state, OrderState.SIGNED)
            order = store.orders.order(order_id)
            chosen.append((rec, order, session.for_order(order, now)))
        except _SKIPS_ORDER as exc:
            refused.append(_unsigned(store, order_id, exc))
    failed: dict[bytes, SessionRefused] = {}
    for signing in {s.identity.key_id: s for _, _, s in chosen}.values():
        try:
            signing.check_session(now)
        except SessionRefused as exc:
            # One location's certificate cannot sign: only its orders are refused when the
            # batch mixes locations (docs/signing.md).
            if not session.mixes_locations:
                raise
            failed[signing.identity.key_id] = exc
    ready: list[Order] = []
    flagged: list[som_gate.FlaggedOrder] = []
    for rec, order, signing in chosen:
        try:
            if signing.identity.key_id in failed:
                raise failed[signing.identity.key_id]
            signing.check_item(pre_sign.as_signed(order, rec.number_auto, now), now)
            som = pre_sign.store_checks(
                store,
                order,
                signing.identity,
                now,
                stored=True,
                som_justification=(som_justifications or {}).get(order.order_id),
            )
            flagged += [som] if som is not None else []
            if som is not None and som.problem is not None:
                raise som.refusal()
            ready.append(order)
        except _SKIPS_ORDER as exc:
            refused.append(_unsigned(store, order.order_id, exc))
        except SessionRefused as exc:
            if not session.mixes_locations:
                raise
            refused.append(_unsigned(store, order.order_id, exc))
    signers = {s.identity.key_id: s.identity for _, o, s in chosen if o in ready}
    return CheckedBatch(
        tuple(ready),
        tuple(refused),
        tuple(signers.values()),
        tuple(session.warnings),
        now,
        tuple(flagged),
    )


def sign_orders_on_token(
    store: Store,
    ids: Sequence[str],
    session: Signing,
    interaction: Interaction,
    *,
    wrap: Callable[[OrderSigner], OrderSigner] | None = None,
    som_justifications: Mapping[str, str] | None = None,
    x12: bool = False,
) -> BatchResult:
    """Check every order before the PIN, log in once, then sign the batch.

    ``x12``: each order is also signed as an X12 850 in the same login (the distributor
    takes X12); the record stage keeps the interchange and its signature with the order.

    ``wrap`` decorates the token signer (the GUI reports progress and stops between
    orders through it; a TokenError it raises stops the batch cleanly).
    ``som_justifications`` holds each flagged order's own justification by order id; it
    is recorded with that order's signature. A flagged order without an acceptable one
    (here or from the editor) is left unsigned with its flags.
    """
    clock = session.clock
    checked = check_drafts(store, ids, session, clock(), som_justifications=som_justifications)
    if not checked.ready:
        return BatchResult((), checked.refused)
    ready_ids = [o.order_id for o in checked.ready]
    try:
        session.log_in(interaction)
    except TokenError as exc:  # wrong PIN, locked, removed: 1311.150 failed authentication
        _audit_stop(store, clock, exc, 0, ready_ids, stage="login")
        raise
    signed: list[OrderRecord] = []
    unsigned: list[Unsigned] = list(checked.refused)
    stopped: str | None = None
    checkpoint_by: SigningSession | None = None
    # Several locations: each certificate signs its purchaser's orders, all under this login.
    for signing, group in _by_certificate(session, checked.ready, checked.checked_at):
        if stopped is not None:
            why = BatchStopped(f"not signed: the batch stopped ({stopped})")
            unsigned += [_unsigned(store, oid, why) for oid in group]
            continue
        signer: OrderSigner = OrderSigningSession(
            signing, _control_numbers(store, clock) if x12 else None
        )
        result = sign_orders(
            store,
            group,
            wrap(signer) if wrap else signer,
            clock=clock,
            before_each=_fresh_facts(signing, checked.checked_at),
            justified=checked.justified,
        )
        signed += result.signed
        unsigned += result.unsigned
        stopped = result.stopped
        if result.signed and checkpoint_by is None:
            checkpoint_by = signing
    if checkpoint_by is not None:
        # The session ends by signing the audit chain's head (keyed audit log).
        checkpoint_after_session(store, checkpoint_by)
    return BatchResult(tuple(signed), tuple(unsigned), stopped)


def _control_numbers(store: Store, clock: Clock) -> Callable[[], int]:
    """Reserves the next X12 control number, in its own short transaction."""
    return lambda: store.x12.reserve(None, "850", clock())


def _fresh_facts(signing: SigningSession, checked_at: datetime) -> Callable[[datetime], None]:
    """Before each signature: the session checks again once their facts are older than
    ``FACTS_KEPT`` (a long batch never signs on a stale chain ruling or clock reading)."""
    last = [checked_at]

    def before(now: datetime) -> None:
        if now - last[0] >= FACTS_KEPT:
            signing.check_session(now)
            last[0] = now

    return before


class BatchStopped(CsosError):
    """The batch stopped before this order's certificate signed (token pulled, ...)."""


def _by_certificate(
    session: Signing, orders: Sequence[Order], now: datetime
) -> list[tuple[SigningSession, list[str]]]:
    """The ready orders grouped by the session of their certificate, in batch order."""
    groups: dict[bytes, tuple[SigningSession, list[str]]] = {}
    for order in orders:
        signing = session.for_order(order, now)
        groups.setdefault(signing.identity.key_id, (signing, []))[1].append(order.order_id)
    return list(groups.values())


def _unsigned(store: Store, order_id: str, exc: CsosError) -> Unsigned:
    try:
        number: str | None = store.orders.get(order_id).order_number
    except (CsosError, StoreError):
        number = None
    return Unsigned(order_id, number, exc.message, _code(exc))


def _audit_stop(
    store: Store,
    clock: Clock,
    exc: CsosError,
    signed: int,
    left: Sequence[str],
    stage: str = "signing",
) -> None:
    # 1311.150: failed authentication and interrupted signing are auditable events.
    # If the store itself is what failed, the caller reports that original error instead.
    with contextlib.suppress(StoreError):
        lifecycle.record_event(
            store,
            AuditEvent.SIGNING_STOPPED,
            now=clock(),
            details={
                "stage": stage,
                "reason": _code(exc),
                "signed": signed,
                "left_unsigned": list(left),
            },
        )


# -- void, receive ------------------------------------------------------------------


def void_order(store: Store, ref: str, reason: str, *, clock: Clock = utc_now) -> OrderRecord:
    if not reason.strip():
        raise InputError("Give the reason the order is voided (--reason); it is kept on record.")
    rec = store.orders.resolve(ref)
    voided = lifecycle.void(store, rec.order_id, reason.strip(), now=clock())
    # A flagged order that goes no further keeps its flags and what became of it (1301.74(b)).
    order = store.orders.order(rec.order_id)
    check = som_gate.check_som(store, order, now=clock())
    if check is not None:
        som_gate.record_disposition(
            store, order, check.assessment, "declined (voided)", reason, clock=clock
        )
    return voided


class TokenDocumentSigner:
    """Signs receipts and other documents in a logged-in signing session, like orders.

    The checks ran before the PIN (``log_in`` and the check stage); signing runs no check
    of its own, so nothing here reaches the network (callers sign outside transactions)."""

    def __init__(self, session: SigningSession) -> None:
        self.session = session
        self.identity = session.identity

    def sign(self, document: bytes) -> bytes:
        return self.session.sign(document, self.session.clock())


@dataclass(frozen=True)
class _ReceiptDraft:
    rec: OrderRecord
    order: Order
    earlier: tuple[Receipt, ...]
    receipt: Receipt


def _receipt_draft(
    store: Store,
    ref: str,
    lines: Sequence[ReceiptLine],
    identity: SigningIdentity | None,
    now: datetime,
    receipt_id: str,
) -> _ReceiptDraft:
    rec = store.orders.resolve(ref)
    if rec.state not in RECEIVABLE:
        raise IllegalTransition(rec.label, rec.state, OrderState.RECEIVED_PARTIAL)
    if identity is not None and not identity.info.matches_dea(rec.purchaser_dea):
        raise OrderNotSignable(
            f"Order {rec.label} was placed by DEA {rec.purchaser_dea}; your certificate was "
            "issued for another DEA number (its hash does not match). The purchaser records "
            "its own receipt."
        )
    blob = store.signed.get(rec.order_id)
    order = Order.from_document(load_document(blob.document))
    earlier = tuple(r.receipt for r in store.receipts.for_order(rec.order_id))
    # The receipt names the signature the distributor holds: the 850's, if sent over AS2.
    _, sent_signature = sent_order(store, rec.order_id)
    receipt = build_receipt(
        order,
        hashlib.sha256(sent_signature).hexdigest(),
        lines,
        earlier=earlier,
        now=now,
        receipt_id=receipt_id,
        zone=pharmacy_zone(),
        balances=legal.balances(store, order, now.astimezone(pharmacy_zone()).date()),
    )
    return _ReceiptDraft(rec, order, earlier, receipt)


def check_receipt(
    store: Store,
    ref: str,
    lines: Sequence[ReceiptLine],
    identity: SigningIdentity | None = None,
    *,
    clock: Clock = utc_now,
) -> OrderRecord:
    """Everything ``record_receipt`` refuses, checked before the PIN is asked."""
    return _receipt_draft(store, ref, lines, identity, clock(), str(uuid.uuid4())).rec


def record_receipt(
    store: Store,
    ref: str,
    lines: Sequence[ReceiptLine],
    signer: DocumentSigner,
    *,
    clock: Clock = utc_now,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> tuple[Receipt, OrderRecord]:
    """Sign a receipt for delivered lines outside any transaction, then keep it and queue
    it for the distributor in one (1305.22(g))."""
    now = clock()
    draft = _receipt_draft(store, ref, lines, signer.identity, now, new_id())
    document = draft.receipt.canonical_bytes()
    signature = signer.sign(document)
    new = (
        OrderState.RECEIVED
        if fully_received(draft.order, [*draft.earlier, draft.receipt])
        else OrderState.RECEIVED_PARTIAL
    )
    kept = lifecycle.ReceiptRecord(draft.receipt, document, signature, new, len(draft.earlier))
    return draft.receipt, lifecycle.record_receipt(store, draft.rec.order_id, kept, now=now)


def receipt_session(store: Store, ref: str, session: Signing) -> SigningSession:
    """The session that signs the receipt of order *ref*: the purchaser records its own
    receipt, so with certificates chosen per purchaser (several locations on one token) it is
    the one for the order's purchaser. Refuses before the PIN when none or several fit."""
    if isinstance(session, SigningSession):
        return session
    rec = store.orders.resolve(ref)
    order = Order.from_document(load_document(store.signed.get(rec.order_id).document))
    return session.for_order(order)


def sign_receipt(
    store: Store,
    ref: str,
    lines: Sequence[ReceiptLine],
    session: Signing,
    interaction: Interaction,
) -> tuple[Receipt, OrderRecord]:
    """Check the receipt before the PIN, log in once, then sign and keep it."""
    clock = session.clock
    session = receipt_session(store, ref, session)
    check_receipt(store, ref, lines, session.identity, clock=clock)
    session.check_session()
    session.log_in(interaction)
    recorded = record_receipt(store, ref, lines, TokenDocumentSigner(session), clock=clock)
    checkpoint_after_session(store, session)  # the session ends by signing the audit head
    return recorded


def reissue_order(
    store: Store,
    ref: str,
    *,
    clock: Clock = utc_now,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> OrderRecord:
    """A rejected, void or cancelled order's lines as a new draft with a new number (1305.25)."""
    rec = store.orders.resolve(ref)
    return lifecycle.reissue(store, rec.order_id, now=clock(), new_id=new_id())
