"""Drafts and the moves that are not signatures: import a file of orders, edit a draft,
void an order, reissue a refused one as a new draft."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import Order, OrderInvalid, format_timestamp, parse_order_input
from csos_desktop.services.som import gate as som_gate
from csos_desktop.store import lifecycle
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import OrderRecord


class ImportRefused(InputError):
    """Some orders in the file are invalid; none was imported."""


# -- import -----------------------------------------------------------------------


def import_orders(
    store: Store,
    data: object,
    *,
    source: str,
    clock: Clock = utc_now,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> list[OrderRecord]:
    """Create drafts from one order object or a list of them; all are imported or none.

    An order without ``order_number`` gets the purchaser's next number (26X000001, ...).
    """
    items = data if isinstance(data, list) else [data]
    now = clock()
    drafts: list[tuple[Order, bool]] = []
    problems: list[str] = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            problems.append(f"order {i}: must be a JSON object")
            continue
        auto = "order_number" not in item
        # A placeholder in the right format; the real number is drawn inside the transaction.
        year = local_date(now).year
        fields = {**item, "order_number": f"{year % 100:02d}X000000"} if auto else item
        try:
            drafts.append((parse_order_input(fields, now=now, new_id=new_id), auto))
        except OrderInvalid as exc:
            problems += [f"order {i}: {p}" for p in exc.problems]
    if problems:
        raise ImportRefused(
            "Nothing was imported; fix these and import the file again:\n" + "\n".join(problems)
        )
    if not drafts:
        raise ImportRefused("The file holds no orders.")
    return lifecycle.create_drafts(store, drafts, now=now, source=source)


def update_draft(
    store: Store, ref: str, data: Mapping[str, object], *, clock: Clock = utc_now
) -> OrderRecord:
    """Replace a draft's content from order input; it keeps its id, number and creation time."""
    rec = store.orders.resolve(ref)
    current = store.orders.order(rec.order_id)
    fields = {
        **data,
        "order_id": rec.order_id,
        "order_number": rec.order_number,
        "created_at": format_timestamp(current.created_at),
    }
    order = parse_order_input(fields, now=clock())
    return lifecycle.update_draft(store, order, now=clock())


def void_order(store: Store, ref: str, reason: str, *, clock: Clock = utc_now) -> OrderRecord:
    if not reason.strip():
        raise InputError("Give the reason the order is voided (--reason); it is kept on record.")
    rec = store.orders.resolve(ref)
    voided = lifecycle.void(store, rec.order_id, reason.strip(), now=clock())
    # A flagged order that goes no further keeps its flags and what became of it (1301.74(b)).
    order = store.orders.order(rec.order_id)
    check = som_gate.check_som(store, order, now=clock())
    if check is not None:
        som_gate.record_disposition(
            store, order, check.assessment, "declined (voided)", reason, clock=clock
        )
    return voided


def reissue_order(
    store: Store,
    ref: str,
    *,
    clock: Clock = utc_now,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> OrderRecord:
    """A rejected, void or cancelled order's lines as a new draft with a new number (1305.25)."""
    rec = store.orders.resolve(ref)
    return lifecycle.reissue(store, rec.order_id, now=clock(), new_id=new_id())
