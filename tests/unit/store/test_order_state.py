"""The order's life as DESIGN.md and 21 CFR 1305.25/1305.28 describe it."""

from __future__ import annotations

import itertools

import pytest

from csos_desktop.domain.order_state import (
    REISSUABLE,
    TRANSITIONS,
    IllegalTransition,
    OrderState,
    check_transition,
    is_final,
)

S = OrderState


def test_the_happy_path_is_allowed_step_by_step() -> None:
    path = [
        S.DRAFT,
        S.SIGNED,
        S.SUBMITTED,
        S.ACCEPTED,
        S.SHIPPED_PARTIAL,
        S.SHIPPED,
        S.RECEIVED_PARTIAL,
        S.RECEIVED,
    ]
    for a, b in itertools.pairwise(path):
        check_transition("26X000001", a, b)


def test_a_rejected_order_can_never_be_corrected_or_reused() -> None:
    assert is_final(S.REJECTED)
    for target in OrderState:
        with pytest.raises(IllegalTransition, match="re-issue it as a new order"):
            check_transition("26X000001", S.REJECTED, target)
    assert S.REJECTED in REISSUABLE


@pytest.mark.parametrize("state", [S.DRAFT, S.SIGNED])
def test_drafts_and_signed_orders_not_yet_sent_can_be_voided(state: OrderState) -> None:
    check_transition("26X000001", state, S.VOID)


@pytest.mark.parametrize("state", [S.SUBMITTED, S.ACCEPTED, S.SHIPPED])
def test_an_order_sent_to_the_distributor_is_cancelled_through_it_not_voided(
    state: OrderState,
) -> None:
    with pytest.raises(IllegalTransition) as e:
        check_transition("26X000001", state, S.VOID)
    assert e.value.current is state and e.value.wanted is S.VOID


def test_a_signed_order_never_goes_back_to_draft() -> None:
    for state in OrderState:
        if state is not S.DRAFT:
            assert S.DRAFT not in TRANSITIONS.get(state, frozenset())


def test_final_states_have_no_way_out() -> None:
    assert {s for s in OrderState if is_final(s)} == {S.REJECTED, S.RECEIVED, S.VOID, S.CANCELLED}
