"""What the front ends show about orders, as plain values read in one place.

The CLI's order commands ask these instead of reading the store's repositories; each
returns frozen records, never a repository or a cursor.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from csos_desktop.domain.order_state import OrderState

if TYPE_CHECKING:  # `order list` loads the orders repository only (docs/gui.md, start-up)
    from csos_desktop.domain.balance import LineBalance
    from csos_desktop.domain.order import Order
    from csos_desktop.domain.receipt import Receipt
    from csos_desktop.store.audit import AuditEntry
    from csos_desktop.store.local_store import Store
    from csos_desktop.store.orders import OrderRecord
    from csos_desktop.store.signed import SignedRecord
    from csos_desktop.store.statements import Statement
    from csos_desktop.store.x12 import StoredInterchange


def orders(store: Store, states: Collection[OrderState] = ()) -> list[OrderRecord]:
    """The orders in the store (only in *states* when given), oldest first."""
    return store.orders.list(states)


def order_count(
    store: Store, states: Collection[OrderState] = (), search: str | None = None
) -> int:
    """How many orders match (for a table that loads rows as they are scrolled to)."""
    return store.orders.count(states, search)


def order_page(
    store: Store,
    offset: int,
    limit: int,
    states: Collection[OrderState] = (),
    search: str | None = None,
) -> list[OrderRecord]:
    """One page of matching orders, newest first."""
    return store.orders.page(offset, limit, states, search)


def order_record(store: Store, ref: str) -> OrderRecord:
    """The order named by *ref* (id, id prefix or order number); ``OrderNotFound`` if none."""
    return store.orders.resolve(ref)


def stored_order(store: Store, order_id: str) -> Order:
    """The order as stored (a draft's current form; a signed one's is ``signed_order``)."""
    return store.orders.order(order_id)


def statements_for(store: Store, order_id: str) -> tuple[Statement, ...]:
    """The distributor's statements about one order, oldest first."""
    return tuple(store.statements.for_order(order_id))


def known_parties(
    store: Store, limit: int = 50
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The purchaser and the suppliers of the latest *limit* orders, to fill a new order."""
    purchaser = None
    suppliers: dict[str, dict[str, Any]] = {}
    for rec in store.orders.page(0, limit):
        order = store.orders.order(rec.order_id)
        purchaser = purchaser or order.purchaser.to_document()
        suppliers.setdefault(order.supplier.dea_number.value, order.supplier.to_document())
    return purchaser, list(suppliers.values())


def draft_ids(store: Store, refs: Sequence[str], *, every_draft: bool = False) -> list[str]:
    """The ids of the drafts named by *refs* (id, id prefix or order number), or of every
    draft; a ref that names nothing raises ``OrderNotFound``."""
    if every_draft:
        return [r.order_id for r in store.orders.list([OrderState.DRAFT])]
    return [store.orders.resolve(ref).order_id for ref in refs]


def drafts(store: Store, ids: Sequence[str]) -> list[Order]:
    """The drafts among *ids*; the others (gone, no longer drafts) are left out: the check
    stage refuses them with the reason."""
    from csos_desktop.domain.errors import CsosError

    out = []
    for order_id in ids:
        try:
            if store.orders.get(order_id).state is OrderState.DRAFT:
                out.append(store.orders.order(order_id))
        except CsosError:
            continue
    return out


def signed_order(store: Store, order_id: str) -> Order:
    """The order as it was signed (read from the signed bytes, never re-serialised)."""
    from csos_desktop.domain.canonical import load_document
    from csos_desktop.domain.order import Order

    return Order.from_document(load_document(store.signed.get(order_id).document))


def order_number(store: Store, order_id: str) -> str:
    return store.orders.get(order_id).order_number


def signed_copy(store: Store, order_id: str) -> SignedRecord:
    """The signed bytes and signature of an order, exactly as kept."""
    return store.signed.get(order_id)


def signed_850(store: Store, order_id: str) -> StoredInterchange | None:
    """The order's X12 850 as signed with it (``--x12``), or None if none was."""
    return store.x12.signed_850(order_id)


@dataclass(frozen=True)
class OrderDetails:
    """Everything `order show` prints about one order."""

    record: OrderRecord
    order: Order
    signed: SignedRecord | None
    receipts: tuple[Receipt, ...]
    statements: tuple[Statement, ...]
    #: statement id → {line number: packages voided by the supplier}
    voided: Mapping[int, Mapping[int, int]]
    notices: tuple[dict[str, object], ...]
    balances: tuple[LineBalance, ...]
    trail: tuple[AuditEntry, ...]


def order_details(store: Store, ref: str) -> OrderDetails:
    from csos_desktop.services.orders.notices import notice_summary, order_balances

    rec = store.orders.resolve(ref)
    statements = tuple(store.statements.for_order(rec.order_id))
    return OrderDetails(
        rec,
        store.orders.order(rec.order_id),
        store.signed.find(rec.order_id),
        tuple(r.receipt for r in store.receipts.for_order(rec.order_id)),
        statements,
        {s.statement_id: store.statements.void_lines(s.statement_id) for s in statements},
        tuple(notice_summary(store, rec.order_id)),
        order_balances(store, rec.order_id),
        tuple(store.audit.entries(order_id=rec.order_id)),
    )


#: Order states the Home screen's cards count.
AWAITING_RECEIPT = (OrderState.SHIPPED, OrderState.SHIPPED_PARTIAL, OrderState.RECEIVED_PARTIAL)
ATTENTION = (OrderState.INTERCEPTED, OrderState.REJECTED)
DRAFTS = (OrderState.DRAFT,)


@dataclass(frozen=True)
class OrdersSummary:
    """What the order cards show: counts, the first few orders, and reasons in words."""

    awaiting: int
    awaiting_first: tuple[OrderRecord, ...]
    attention: int
    attention_first: tuple[tuple[OrderRecord, str], ...]
    waiting_to_send: int
    drafts: int = 0
    drafts_first: tuple[OrderRecord, ...] = ()


def _attention_reason(store: Store, rec: OrderRecord) -> str:
    if rec.state is OrderState.INTERCEPTED:
        return (
            "held for review by the distributor's Suspicious Order Monitoring; it will be "
            "released or rejected"
        )
    statements = store.statements.for_order(rec.order_id)
    why = statements[-1].reason if statements else "no reason was given"
    return f"rejected by the distributor: {why}. Re-issue it as a new order if still needed"


def orders_summary(store: Store, shown: int = 5) -> OrdersSummary:
    """Counts and the first *shown* orders of each card: a few indexed queries, safe on the
    UI thread's own connection."""
    awaiting = store.orders.page(0, shown, AWAITING_RECEIPT)
    attention = store.orders.page(0, shown, ATTENTION)
    return OrdersSummary(
        store.orders.count(AWAITING_RECEIPT),
        tuple(awaiting),
        store.orders.count(ATTENTION),
        tuple((r, _attention_reason(store, r)) for r in attention),
        len(store.outbox.pending(1000)),
        store.orders.count(DRAFTS),
        tuple(store.orders.page(0, shown, DRAFTS)),
    )
