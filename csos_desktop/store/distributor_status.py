"""A status the distributor reports, applied to an order: forward only, and kept beside it.

The feed can be behind what the pharmacy knows: the distributor says "shipped" for the
balance of an order the pharmacist already recorded part of. The order then stays
received-partial (a receipt is never undone by a report) and the distributor's word is
kept in ``orders.distributor_status``, with its audit entry, in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from csos_desktop.domain.order_state import OrderState, after_report
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.lifecycle import STATUS_UPDATES
from csos_desktop.store.local_store import Store
from csos_desktop.store.order_events import audit_order, move
from csos_desktop.store.orders import OrderRecord


def apply_report(
    store: Store, order_id: str, reported: OrderState, *, now: datetime
) -> OrderRecord:
    """Keep *reported* beside the order and move the order to it if that is a step forward.

    A report the order is already at is kept without an audit entry (the entry of the move
    that got it there stands); one behind the order gets an entry saying it was kept only.
    Writes nothing when the report is the one already kept and moves nothing.
    """
    with store.transaction():
        rec = store.orders.get(order_id)
        new = after_report(rec.state, reported) if reported in STATUS_UPDATES else rec.state
        if new is rec.state and store.orders.distributor_status(order_id) == reported.value:
            return rec
        store.orders.note_distributor_status(order_id, reported.value)
        if new is not rec.state:
            move(store, rec, new, now)
        elif reported is rec.state:
            return store.orders.get(order_id)
        audit_order(
            store,
            AuditEvent.ORDER_STATUS,
            rec,
            now,
            {
                "from": rec.state.value,
                "to": new.value,
                "note": "distributor",
                "distributor_status": reported.value,
            },
        )
        return store.orders.get(order_id)
