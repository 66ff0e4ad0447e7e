"""What the Receiving screen shows, as plain values read in one place.

The screen asks these instead of reading the orders, signed-order and receipt
repositories; the ship notices and balances load only when an order is opened.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from csos_desktop.domain.errors import CsosError

if TYPE_CHECKING:
    from csos_desktop.domain.order import Order
    from csos_desktop.domain.order_state import OrderState
    from csos_desktop.store.local_store import Store
    from csos_desktop.store.orders import OrderRecord


def awaiting_receipt(
    store: Store, states: Collection[OrderState], limit: int = 500
) -> tuple[OrderRecord, ...]:
    """The newest *limit* orders in *states* (those a receipt can be signed for)."""
    return tuple(store.orders.page(0, limit, states))


@dataclass(frozen=True)
class ReceivingView:
    """One order as it is received against: as signed, and what is known of its delivery."""

    record: OrderRecord
    order: Order  # read from the signed bytes, never re-serialised
    received_before: Mapping[int, int]  # line → packages earlier receipts hold
    #: line → packages the distributor reported shipped (its words: absent when it has not said)
    shipped: Mapping[int, str]
    #: line → packages the 856s shipped that no receipt holds; None without any 856
    shipped_not_received: Mapping[int, int] | None


def receiving_view(store: Store, order_id: str) -> ReceivingView:
    """The order to receive; ``CsosError`` (e.g. no signed record) when there is none."""
    from csos_desktop.domain.receipt import received_so_far
    from csos_desktop.services.orders.queries import signed_order

    record = store.orders.get(order_id)
    order = signed_order(store, order_id)
    before = received_so_far(r.receipt for r in store.receipts.for_order(order_id))
    return ReceivingView(
        record,
        order,
        before,
        shipped_by_line(store, order_id),
        _shipped_not_received(store, order_id),
    )


def shipped_by_line(store: Store, order_id: str) -> dict[int, str]:
    """Packages the distributor reported shipped, per line (none when it has not said)."""
    from csos_desktop.services.orders.notices import order_balances

    try:
        balances = order_balances(store, order_id)
    except CsosError:
        return {}
    return {b.line_no: str(b.shipped) for b in balances if b.shipped is not None}


def _shipped_not_received(store: Store, order_id: str) -> dict[int, int] | None:
    from csos_desktop.services.orders.x12_intake import prefill_from_856, ship_notices

    if not ship_notices(store, order_id):
        return None
    return {ln.line_no: ln.quantity_received for ln in prefill_from_856(store, order_id)}
