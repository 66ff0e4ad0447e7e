"""The two steps every order event takes inside its transaction: a checked state change
and an audit entry that names the order and its number."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from csos_desktop.domain.order import Order
from csos_desktop.domain.order_state import OrderState, check_transition
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import OrderRecord


def move(store: Store, rec: OrderRecord, to: OrderState, now: datetime) -> None:
    """Change *rec*'s state to *to*, refusing a transition the order's rules forbid."""
    check_transition(rec.label, rec.state, to)
    store.orders.set_state(rec.order_id, rec.state, to, now)


def audit_order(
    store: Store,
    event: AuditEvent,
    rec: OrderRecord | Order,
    now: datetime,
    details: Mapping[str, object] | None = None,
) -> None:
    """Append *event* about *rec*; its details start with the order number."""
    store.audit.append(
        event,
        at=now,
        order_id=rec.order_id,
        details={"order_number": rec.order_number, **(details or {})},
    )
