"""Order use cases on the local store, shared by the CLI and the GUI: the batch signing
run (check, one login, sign per certificate) and, under one name, the use cases beside it.

Each job has its own module: drafts (import, edit, void, reissue), check_stage (every
check before the PIN), batch (sign and record one order at a time), receipts, export.
Many callers (tests and benchmarks above all) reach them as ``lifecycle.<name>``; the
names in ``__all__`` keep that working. Code in the package imports from the module
that does the job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from csos_desktop.domain.clock import Clock
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order import Order
from csos_desktop.domain.token_errors import TokenError
from csos_desktop.services.audit.checkpoint import checkpoint_after_session
from csos_desktop.services.interaction import Interaction
from csos_desktop.services.orders.batch import (
    BatchResult,
    OrderSigner,
    Unsigned,
    audit_stop,
    prepare_for_signing,
    sign_orders,
    signed_details,
    unsigned_entry,
)
from csos_desktop.services.orders.check_stage import CheckedBatch, check_drafts
from csos_desktop.services.orders.drafts import (
    ImportRefused,
    import_orders,
    reissue_order,
    update_draft,
    void_order,
)
from csos_desktop.services.orders.export import NotSigned, export_order, order_record_files
from csos_desktop.services.orders.order_signer import OrderSigningSession
from csos_desktop.services.orders.receipts import (
    check_receipt,
    receipt_session,
    record_receipt,
    sign_receipt,
)
from csos_desktop.services.signing import Signing, SigningSession
from csos_desktop.services.signing.documents import DocumentSigner, TokenDocumentSigner
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import OrderRecord

__all__ = [
    "FACTS_KEPT",
    "BatchResult",
    "BatchStopped",
    "CheckedBatch",
    "DocumentSigner",
    "ImportRefused",
    "NotSigned",
    "OrderSigner",
    "TokenDocumentSigner",
    "Unsigned",
    "check_drafts",
    "check_receipt",
    "export_order",
    "import_orders",
    "order_record_files",
    "prepare_for_signing",
    "receipt_session",
    "record_receipt",
    "reissue_order",
    "sign_orders",
    "sign_orders_on_token",
    "sign_receipt",
    "signed_details",
    "update_draft",
    "void_order",
]

#: The facts a batch was checked on (chain ruling, revocation, clock) are gathered again
#: before the next signature once they are older than this, outside any transaction.
FACTS_KEPT = timedelta(seconds=60)


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
        audit_stop(store, clock, exc, 0, ready_ids, stage="login")
        raise
    signed: list[OrderRecord] = []
    unsigned: list[Unsigned] = list(checked.refused)
    stopped: str | None = None
    checkpoint_by: SigningSession | None = None
    # Several locations: each certificate signs its purchaser's orders, all under this login.
    for signing, group in _by_certificate(session, checked.ready, checked.checked_at):
        if stopped is not None:
            why = BatchStopped(f"not signed: the batch stopped ({stopped})")
            unsigned += [unsigned_entry(store, oid, why) for oid in group]
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
