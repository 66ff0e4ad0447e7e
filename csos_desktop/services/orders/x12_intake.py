"""855, 856 and 997 from a distributor: kept byte for byte, linked to the order they name.

Whatever arrives is kept, readable or not, with the reason it could not be read; a
readable 855 or 856 is linked to the order whose ID and number it carries, and its
reception is logged in the same transaction. The 856s of an order give the quantities
``csos receive --from-856`` and the Receiving screen pre-fill: the pharmacist still
confirms them and signs the receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.domain.x12.replies import OrderAck, Reply, ShipNotice, read_reply
from csos_desktop.domain.x12.syntax import X12Error
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import OrderNotFound

#: Kept with an 855/856 that names no order of this store.
UNKNOWN_ORDER = "x12-unknown-order"


@dataclass(frozen=True)
class ReceivedX12:
    control_number: int  # our row (the sender's control number is inside the bytes)
    transaction_set: str
    order_id: str | None
    problem: str | None
    document: Reply | None


def receive_x12(store: Store, data: bytes, *, clock: Clock = utc_now) -> ReceivedX12:
    """Keep *data* and link it to its order; never loses the bytes."""
    now = clock()
    problem: str | None = None
    doc: Reply | None = None
    kind = "?"
    order_id: str | None = None
    try:
        _, doc = read_reply(data)
    except X12Error as exc:
        problem = f"{exc.reason.value}: {exc}"
    if isinstance(doc, OrderAck | ShipNotice):
        kind = "855" if isinstance(doc, OrderAck) else "856"
        order_id, problem = _linked(store, doc.order_id, doc.order_number)
    elif doc is not None:
        kind = "997"
    with store.transaction():
        kept = store.x12.received(order_id, kind, data, problem, now)
        store.audit.append(
            AuditEvent.X12_RECEIVED,
            at=now,
            order_id=order_id,
            details={
                "transaction_set": kind,
                "control_number": kept.control_number,
                "problem": problem,
            },
        )
    return ReceivedX12(kept.control_number, kind, order_id, problem, doc)


def _linked(store: Store, order_id: str, order_number: str) -> tuple[str | None, str | None]:
    try:
        rec = store.orders.get(order_id)
    except OrderNotFound:
        return None, f"{UNKNOWN_ORDER}: no order {order_id} ({order_number}) in this store"
    if rec.order_number != order_number:
        return None, (
            f"{UNKNOWN_ORDER}: order {order_id} is number {rec.order_number}, not {order_number}"
        )
    return order_id, None


def ship_notices(store: Store, order_id: str) -> list[ShipNotice]:
    """The readable 856s linked to the order, oldest first."""
    out = []
    for kept in store.x12.for_order(order_id):
        if kept.direction == "received" and kept.transaction_set == "856" and not kept.problem:
            _, doc = read_reply(kept.document)
            if isinstance(doc, ShipNotice):
                out.append(doc)
    return out


def prefill_from_856(store: Store, order_id: str) -> list[ReceiptLine]:
    """Per line, what the 856s say was shipped and the receipts do not yet hold.

    The date is the ship date of the line's latest 856; the pharmacist changes it to
    the day the packages arrived if it differs.
    """
    shipped: dict[int, int] = {}
    when: dict[int, date] = {}
    for notice in ship_notices(store, order_id):
        for ln in notice.lines:
            shipped[ln.line_no] = shipped.get(ln.line_no, 0) + ln.quantity_shipped
            when[ln.line_no] = ln.shipped_on
    for stored in store.receipts.for_order(order_id):
        for r in stored.receipt.lines:
            shipped[r.line_no] = shipped.get(r.line_no, 0) - r.quantity_received
    return [ReceiptLine(n, q, when[n]) for n, q in sorted(shipped.items()) if q > 0]
