"""What the front ends show about orders, as plain values read in one place.

The CLI's order commands ask these instead of reading the store's repositories; each
returns frozen records, never a repository or a cursor.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


def orders(store: Store, states: Collection[OrderState] = ()) -> list[OrderRecord]:
    """The orders in the store (only in *states* when given), oldest first."""
    return store.orders.list(states)


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
