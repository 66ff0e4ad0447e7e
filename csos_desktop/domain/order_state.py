"""The life of a CSOS order: its states and the only moves between them.

draft → signed → submitted → accepted | intercepted | rejected → shipped
(partial/complete) → received (partial/complete). An order only moves forward:
a status the distributor reports later never takes back a receipt the
pharmacist recorded (it is kept beside the order instead). Drafts and signed
orders not yet sent can be voided; a submitted order is cancelled through the distributor
(21 CFR 1305.28). A rejected order is final: nobody corrects a defective order,
the purchaser issues a new one (1305.25).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from csos_desktop.domain.errors import CsosError


class OrderState(StrEnum):
    """Where an order is in its life; the value is what the store and the CLI show."""

    DRAFT = "draft"
    SIGNED = "signed"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    INTERCEPTED = "intercepted"
    REJECTED = "rejected"
    SHIPPED_PARTIAL = "shipped-partial"
    SHIPPED = "shipped"
    RECEIVED_PARTIAL = "received-partial"
    RECEIVED = "received"
    VOID = "void"
    CANCELLED = "cancelled"


S = OrderState

#: Every allowed move. A state missing as a key has no way out.
TRANSITIONS: Mapping[OrderState, frozenset[OrderState]] = {
    S.DRAFT: frozenset({S.SIGNED, S.VOID}),
    # Void only while nothing was sent: once submitted, the supplier holds the order.
    S.SIGNED: frozenset({S.SUBMITTED, S.VOID}),
    S.SUBMITTED: frozenset(
        {
            S.ACCEPTED,
            S.INTERCEPTED,
            S.REJECTED,
            S.CANCELLED,
            S.SHIPPED_PARTIAL,
            S.SHIPPED,
            S.RECEIVED_PARTIAL,
            S.RECEIVED,
        }
    ),
    # A SOM intercept ends in release (accepted) or non-acceptance (rejected).
    S.INTERCEPTED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.ACCEPTED: frozenset(
        {S.SHIPPED_PARTIAL, S.SHIPPED, S.CANCELLED, S.RECEIVED_PARTIAL, S.RECEIVED}
    ),
    S.SHIPPED_PARTIAL: frozenset(
        {S.SHIPPED_PARTIAL, S.SHIPPED, S.CANCELLED, S.RECEIVED_PARTIAL, S.RECEIVED}
    ),
    S.SHIPPED: frozenset({S.RECEIVED_PARTIAL, S.RECEIVED}),
    # The balance of a partial fill may ship later (1305.22(e)); receipts keep adding up,
    # and the distributor's "shipped" for that balance is kept beside the order, not in it.
    S.RECEIVED_PARTIAL: frozenset({S.RECEIVED_PARTIAL, S.RECEIVED}),
}

#: How far along its life each state is; every move in TRANSITIONS goes up or stays.
#: The final states (rejected, void, cancelled) end the life wherever it was.
PROGRESS: Mapping[OrderState, int] = {
    S.DRAFT: 0,
    S.SIGNED: 1,
    S.SUBMITTED: 2,
    S.INTERCEPTED: 3,
    S.ACCEPTED: 4,
    S.SHIPPED_PARTIAL: 5,
    S.SHIPPED: 6,
    S.RECEIVED_PARTIAL: 7,
    S.RECEIVED: 8,
    S.REJECTED: 9,
    S.VOID: 9,
    S.CANCELLED: 9,
}

#: States in which goods can arrive and be recorded as received (1305.22(g)).
RECEIVABLE: frozenset[OrderState] = frozenset(
    {S.SUBMITTED, S.ACCEPTED, S.SHIPPED_PARTIAL, S.SHIPPED, S.RECEIVED_PARTIAL}
)

#: States an order can be re-issued from, as a new order with a new number.
REISSUABLE: frozenset[OrderState] = frozenset({S.REJECTED, S.VOID, S.CANCELLED})

_WHY_NOT = {
    S.REJECTED: "a rejected order can never be corrected or reused; re-issue it as a new order "
    "(csos order reissue)",
    S.VOID: "a voided order stays void; re-issue it as a new order if it is still needed",
    S.CANCELLED: "a cancelled order stays cancelled; re-issue it as a new order if needed",
    S.RECEIVED: "the order has been received in full",
}

_VOID_AFTER_SENDING = (
    "it has been sent to the distributor; cancel it through the distributor instead (1305.28)"
)


class IllegalTransition(CsosError):
    """A move the order's life does not allow; nothing was changed."""

    def __init__(self, order_label: str, current: OrderState, wanted: OrderState) -> None:
        self.current = current
        self.wanted = wanted
        if current in _WHY_NOT:
            why = _WHY_NOT[current]
        elif wanted is OrderState.VOID and current is not OrderState.DRAFT:
            why = _VOID_AFTER_SENDING
        else:
            why = f"only {_list(allowed_from(current))} can follow"
        super().__init__(
            f"Order {order_label} is {current.value} and cannot become {wanted.value}: {why}."
        )


def allowed_from(state: OrderState) -> frozenset[OrderState]:
    return TRANSITIONS.get(state, frozenset())


def is_final(state: OrderState) -> bool:
    return not allowed_from(state)


def check_transition(order_label: str, current: OrderState, wanted: OrderState) -> None:
    """Raise IllegalTransition unless ``current → wanted`` is in the table."""
    if wanted not in allowed_from(current):
        raise IllegalTransition(order_label, current, wanted)


def after_report(current: OrderState, reported: OrderState) -> OrderState:
    """The state an order takes when the distributor reports *reported*: a step forward
    the order's rules allow, otherwise where it is (the feed is behind what we know, e.g.
    "shipped" after the pharmacist recorded a receipt)."""
    if reported in allowed_from(current) and PROGRESS[reported] > PROGRESS[current]:
        return reported
    return current


def _list(states: frozenset[OrderState]) -> str:
    names = sorted(s.value for s in states)
    return ", ".join(names) if names else "nothing"
