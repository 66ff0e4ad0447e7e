"""An order as an X12 850 interchange, from the one order record.

A signed order's 850 is read from the document the purchaser signed, so both formats say
the same; a draft's from the draft. Each interchange gets the store's next control number
and is kept byte for byte, logged in the same transaction.
"""

from __future__ import annotations

from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.order import Order
from csos_desktop.domain.x12.order850 import TRANSACTION, build_850
from csos_desktop.store import lifecycle
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import OrderRecord
from csos_desktop.store.x12 import StoredInterchange


def order_of_record(store: Store, rec: OrderRecord) -> Order:
    """The order as signed when it is, else the draft."""
    blob = store.signed.find(rec.order_id)
    if blob is not None:
        return Order.from_document(load_document(blob.document))
    return store.orders.order(rec.order_id)


def export_850(
    store: Store, ref: str, *, clock: Clock = utc_now, usage: str = "P"
) -> StoredInterchange:
    """The 850 interchange of order *ref* (ID, number or prefix), kept and logged.

    An order signed as X12 gives the interchange signed, byte for byte, with its
    signature (``signed``); any other a new interchange with the next control number.
    """
    rec = store.orders.resolve(ref)
    now = clock()
    signed = store.x12.signed_850(rec.order_id)
    if signed is not None:
        details = {"format": "x12-850-signed", "control_number": signed.control_number}
        lifecycle.record_event(
            store, AuditEvent.ORDER_EXPORTED, now=now, order_id=rec.order_id, details=details
        )
        return signed
    order = order_of_record(store, rec)
    with store.transaction():
        kept = store.x12.write(
            rec.order_id,
            TRANSACTION,
            lambda number: build_850(order, control_number=number, prepared_at=now, usage=usage),
            now,
        )
        store.audit.append(
            AuditEvent.ORDER_EXPORTED,
            at=now,
            order_id=rec.order_id,
            details={"format": "x12-850", "control_number": kept.control_number},
        )
    return kept
