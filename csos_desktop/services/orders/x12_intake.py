"""855, 856 and 997 from a distributor, and the receipt they pre-fill.

Taking them in (kept byte for byte, linked, logged) is ``sync.x12_intake``: the sync
worker does it for the distributor's REST feed, ``csos x12 receive`` for files. The
856s of an order give the quantities
``csos receive --from-856`` and the Receiving screen pre-fill: the pharmacist still
confirms them and signs the receipt.
"""

from __future__ import annotations

from datetime import date

from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.domain.x12.replies import ShipNotice, read_reply
from csos_desktop.store.local_store import Store
from csos_desktop.sync.x12_intake import UNKNOWN_ORDER, ReceivedX12, receive_x12

__all__ = ["UNKNOWN_ORDER", "ReceivedX12", "prefill_from_856", "receive_x12", "ship_notices"]


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
    notices = ship_notices(store, order_id)
    by_ndc: dict[str, int] = {}
    if any(ln.line_no == 0 for n in notices for ln in n.lines):
        # An 856 without line numbers (another supplier's software): the line by its NDC.
        # Its lines and NDCs as stored (signing dates the order, it changes no line).
        by_ndc = {ln.ndc.digits: ln.line_no for ln in store.orders.order(order_id).lines}
    for notice in notices:
        for ln in notice.lines:
            line_no = ln.line_no or by_ndc.get(ln.ndc.digits, 0)
            if line_no == 0:
                continue  # a product this order does not hold: nothing to pre-fill
            shipped[line_no] = shipped.get(line_no, 0) + ln.quantity_shipped
            when[line_no] = ln.shipped_on
    for stored in store.receipts.for_order(order_id):
        for r in stored.receipt.lines:
            shipped[r.line_no] = shipped.get(r.line_no, 0) - r.quantity_received
    return [ReceiptLine(n, q, when[n]) for n, q in sorted(shipped.items()) if q > 0]
