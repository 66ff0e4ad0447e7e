"""Cancelling, declaring an order lost, and reading its balances; shared by the CLI and the GUI.

Each use case has a ``check_*`` that refuses before the PIN is asked and a
signing call that repeats the check inside the store's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC

from csos_desktop.domain.balance import LineBalance
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.notices import (
    MIN_REASON,
    Cancellation,
    LostOrderStatement,
    cancellable_quantities,
)
from csos_desktop.services.orders.order_signer import OrderNotSignable
from csos_desktop.store import legal
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import OrderRecord
from csos_desktop.token.identity import SigningIdentity


def _new_id() -> str:
    return str(uuid.uuid4())


def order_balances(store: Store, ref: str, *, clock: Clock = utc_now) -> tuple[LineBalance, ...]:
    """Ordered, shipped, cancelled, voided (incl. after 60 days) and received, per line."""
    rec = store.orders.resolve(ref)
    if store.signed.find(rec.order_id) is None:
        return ()
    order, _ = legal.signed_order(store, rec.order_id)
    return legal.balances(store, order, clock().astimezone(UTC).date())


def _purchaser_signs(rec: OrderRecord, identity: SigningIdentity | None) -> None:
    if identity is not None and not identity.info.matches_dea(rec.purchaser_dea):
        raise OrderNotSignable(
            f"Order {rec.label} was placed by DEA {rec.purchaser_dea}; the certificate on the "
            "token was issued for another DEA number. Only the purchaser signs its notices."
        )


def _reason(text: str, what: str) -> str:
    reason = " ".join(text.split())
    if len(reason) < MIN_REASON:
        raise InputError(f"Give the {what} in a few words; it is signed and kept on record.")
    return reason


def check_cancel(
    store: Store,
    ref: str,
    quantities: Mapping[int, int] | None,
    reason: str,
    identity: SigningIdentity | None = None,
    *,
    clock: Clock = utc_now,
) -> OrderRecord:
    """Everything ``cancel_order`` refuses, before the PIN is asked."""
    _reason(reason, "reason for cancelling")
    rec = store.orders.resolve(ref)
    legal.check_cancellable(rec)
    _purchaser_signs(rec, identity)
    open_now = {b.line_no: b.open_balance for b in order_balances(store, ref, clock=clock)}
    _, problems = cancellable_quantities(quantities, open_now)
    if problems:
        raise legal.NothingToCancel(
            f"Order {rec.label} cannot be cancelled as asked: " + "; ".join(problems) + "."
        )
    return rec


def cancel_order(
    store: Store,
    ref: str,
    quantities: Mapping[int, int] | None,
    reason: str,
    sign: Callable[[bytes], bytes],
    *,
    identity: SigningIdentity | None = None,
    clock: Clock = utc_now,
    new_id: Callable[[], str] = _new_id,
) -> Cancellation:
    """Sign a cancellation of the named packages (all open ones when None) and queue it."""
    rec = check_cancel(store, ref, quantities, reason, identity, clock=clock)
    now = clock()
    cancellation = legal.prepare_cancellation(
        store,
        rec.order_id,
        quantities,
        _reason(reason, "reason for cancelling"),
        now=now,
        cancellation_id=new_id(),
    )
    document = cancellation.canonical_bytes()
    # Signed outside any transaction; the record refuses it if the order moved meanwhile.
    return legal.record_cancellation(store, cancellation, document, sign(document), now=now)


def check_lost(
    store: Store, ref: str, explanation: str, identity: SigningIdentity | None = None
) -> OrderRecord:
    _reason(explanation, "explanation of the loss")
    rec = store.orders.resolve(ref)
    if rec.state not in legal.LOSABLE:
        raise InputError(
            f"Order {rec.label} is {rec.state.value}: only an order sent to the distributor "
            "and not received can be declared lost (21 CFR 1305.26)."
        )
    _purchaser_signs(rec, identity)
    return rec


def declare_lost(
    store: Store,
    ref: str,
    explanation: str,
    sign: Callable[[bytes], bytes],
    *,
    identity: SigningIdentity | None = None,
    clock: Clock = utc_now,
    new_id: Callable[[], str] = _new_id,
) -> tuple[LostOrderStatement, OrderRecord]:
    """Sign the 1305.26 statement and create the replacement draft (new number), linked."""
    rec = check_lost(store, ref, explanation, identity)
    now = clock()
    statement = legal.prepare_lost_order(
        store,
        rec.order_id,
        _reason(explanation, "explanation of the loss"),
        now=now,
        statement_id=new_id(),
        replacement_id=new_id(),
    )
    document = statement.canonical_bytes()
    # Signed outside any transaction; the replacement's number was reserved before.
    return legal.record_lost_order(store, statement, document, sign(document), now=now)


def notice_summary(store: Store, order_id: str) -> list[dict[str, object]]:
    """Notices about the order (or naming it as replacement), for `order show` and exports."""
    return legal.notice_summary(store, order_id)
