"""Receipts: the purchaser signs what was delivered (1305.22(g)), checked before the PIN,
signed outside any transaction, then kept and queued for the distributor in one."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.config.local_time import pharmacy_zone
from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.order import Order
from csos_desktop.domain.order_state import RECEIVABLE, IllegalTransition, OrderState
from csos_desktop.domain.receipt import Receipt, ReceiptLine, build_receipt, fully_received
from csos_desktop.services.audit.checkpoint import checkpoint_after_session
from csos_desktop.services.interaction import Interaction
from csos_desktop.services.orders.order_signer import OrderNotSignable
from csos_desktop.services.signing import Signing, SigningSession
from csos_desktop.services.signing.documents import DocumentSigner, TokenDocumentSigner
from csos_desktop.store import legal, lifecycle
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import OrderRecord
from csos_desktop.store.sent_order import sent_order
from csos_desktop.token.identity import SigningIdentity


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
