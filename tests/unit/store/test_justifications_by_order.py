"""Which justification belongs to which order of a batch, as the CLI gives them."""

from __future__ import annotations

import pytest

from csos_desktop.domain.errors import InputError
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.orders.justifications import justifications_by_order
from csos_desktop.store import Store
from tests.unit.store.helpers import flagged_order_input

WHY = "new hospice patients admitted this week"


def _drafts(store: Store, n: int) -> list[tuple[str, str]]:
    recs = svc.import_orders(store, [flagged_order_input()] * n, source="test")
    return [(r.order_id, r.order_number) for r in recs]


def test_plain_text_goes_to_the_one_order_signed(store: Store) -> None:
    [(order_id, _)] = _drafts(store, 1)
    assert justifications_by_order(store, [order_id], [WHY]) == {order_id: WHY}
    # A sentence with "=" in it is still plain text.
    assert justifications_by_order(store, [order_id], ["dose = usual, new patients"]) == {
        order_id: "dose = usual, new patients"
    }


def test_a_batch_needs_order_eq_text_for_each_flagged_order(store: Store) -> None:
    (a, a_number), (b, _) = _drafts(store, 2)
    with pytest.raises(InputError, match="ORDER=TEXT"):
        justifications_by_order(store, [a, b], [WHY])
    given = [f"{a_number}={WHY}", f"{b}=stock lost in a flood"]
    assert justifications_by_order(store, [a, b], given) == {
        a: WHY,
        b: "stock lost in a flood",
    }


def test_a_justification_for_an_order_outside_the_batch_or_twice_is_refused(
    store: Store,
) -> None:
    (a, a_number), (b, _) = _drafts(store, 2)
    with pytest.raises(InputError, match="not among the drafts"):
        justifications_by_order(store, [a], [f"{b}={WHY}"])
    with pytest.raises(InputError, match="twice"):
        justifications_by_order(store, [a, b], [f"{a}={WHY}", f"{a_number}={WHY}"])
