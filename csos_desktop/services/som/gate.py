"""The SOM acknowledgement every signing path requires, and the disposition of flagged orders.

A flagged order (21 CFR 1301.74(b)) is signed only with a recorded
justification: given now (CLI ``--som-justification``, the GUI signing
dialog) or recorded by the editor since the draft last changed. The check uses
the cached history and the distributor's policy when the sync has cached it,
and says so when either is missing or stale. A flagged order that is voided
keeps a record of its flags and what became of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from csos_desktop.domain.errors import ItemRefused
from csos_desktop.domain.order import Order
from csos_desktop.services.orders.catalogue import active_catalogue
from csos_desktop.services.som.review import (
    SomReview,
    acknowledge_warnings,
    judge,
    load_history,
    policy_for,
)
from csos_desktop.som import Assessment, Decision, History
from csos_desktop.store import lifecycle, som_cache
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store

Clock = Callable[[], datetime]

#: The distributor's history older than this is called stale in every SOM message.
STALE_AFTER = timedelta(days=7)


class SomJustificationRequired(ItemRefused):
    """A flagged order needs a written justification before the PIN is asked."""

    exit_code = 2  # the command needs --som-justification, or the order changed


@dataclass(frozen=True)
class SomCheck:
    """The review of one order and where its inputs came from."""

    review: SomReview
    policy_note: str
    history_note: str

    @property
    def assessment(self) -> Assessment:
        return self.review.assessment

    @property
    def flagged(self) -> bool:
        return self.review.needs_acknowledgement

    def describe(self) -> str:
        a = self.assessment
        lines = [f"Suspicious Order Monitoring: {a.decision.value.upper()} ({self.policy_note})"]
        lines += [f"  [{f.severity.value}] {f.explanation}" for f in a.flags]
        lines.append(f"  {self.history_note}")
        return "\n".join(lines)


def history_note(store: Store, purchaser_dea: str, now: datetime) -> str:
    fetched = som_cache.history_fetched_at(store)
    if fetched is None:
        return (
            "No order history from the distributor is cached: the check sees only local "
            "orders and may miss what the distributor would flag (run `csos sync`)."
        )
    if now - fetched > STALE_AFTER:
        return (
            f"The cached order history is stale (last fetched {fetched:%Y-%m-%d}); run "
            "`csos sync` so the check sees recent orders."
        )
    return f"Order history from the distributor cached {fetched:%Y-%m-%d %H:%M} UTC."


def check_som(store: Store, order: Order, *, now: datetime) -> SomCheck:
    """The assessment of every controlled line; a line whose product nobody knows is a
    "not judged: product unknown" flag, which needs a justification like a warning.

    The same evaluation as the editor's review, without its charts; the history is read
    once per purchaser and day and reused while the cache does not change (a batch of
    drafts reads it once).
    """
    policy, note = policy_for(store)
    catalogue = active_catalogue(store)  # the imported catalogue, as the editor uses
    day = now.astimezone(UTC).date()
    judged = judge(
        store, order, policy, catalogue, day, lambda dea, n: _cached_history(store, dea, day, n)
    )
    dea = judged.placed.review.purchaser_dea
    return SomCheck(SomReview(judged.assessment, ()), note, history_note(store, dea, now))


#: (database, purchaser, day, days, cache version) → History; a handful of entries at most.
_HISTORY: dict[tuple[object, ...], History] = {}


def _cached_history(store: Store, dea: str, day: date, days: int) -> History:
    # Rows counted through the purchaser index, and when the sync last wrote the history.
    (rows,) = store.conn.execute(
        "SELECT count(*) FROM order_history WHERE purchaser_dea = ?", (dea,)
    ).fetchone()
    key = (str(store.path), dea, day, days, rows, som_cache.history_fetched_at(store))
    history = _HISTORY.get(key)
    if history is None:
        if len(_HISTORY) >= 8:
            _HISTORY.clear()
        history = _HISTORY[key] = load_history(store, dea, day, days)
    return history


def acknowledged_since_last_change(store: Store, order_id: str) -> bool:
    """The editor (or an earlier attempt) recorded a justification for this draft as it is."""
    last_ack = last_change = 0
    for e in store.audit.entries(order_id=order_id):
        if e.event == AuditEvent.SOM_WARNING_ACKNOWLEDGED:
            last_ack = e.entry_id
        elif e.event in (AuditEvent.ORDER_DRAFT_CHANGED, AuditEvent.ORDER_IMPORTED):
            last_change = e.entry_id
    return last_ack > last_change


def require_justification(
    store: Store,
    order: Order,
    check: SomCheck | None,
    justification: str | None,
    *,
    stored: bool,
    by: str | None,
    clock: Clock,
) -> None:
    """Pass a clean order; record the justification of a flagged one; refuse otherwise."""
    if check is None or not check.flagged:
        return
    if stored and acknowledged_since_last_change(store, order.order_id):
        return  # recorded in the editor or an earlier attempt, for the draft as it is now
    if justification and justification.strip():
        if stored:
            acknowledge_warnings(
                store,
                order.order_id,
                check.assessment,
                justification,
                acknowledged_by=by,
                clock=clock,
            )
        record_disposition(store, order, check.assessment, "cleared", justification, clock=clock)
        return
    raise SomJustificationRequired(
        f"Order {order.order_number} is flagged and needs a written justification before it "
        f"is signed (21 CFR 1301.74(b)).\n{check.describe()}\n"
        "Give it with --som-justification TEXT (kept in the audit log), or change the order."
    )


def record_disposition(
    store: Store,
    order: Order,
    assessment: Assessment,
    disposition: str,
    reason: str,
    *,
    clock: Clock,
) -> None:
    """What became of a flagged order: its flags, lines, parties and the decision, audited."""
    if assessment.decision is Decision.OK:
        return
    in_store = store.orders.number_taken(order.purchaser.dea_number.value, order.order_number)
    lifecycle.record_event(
        store,
        AuditEvent.SOM_DISPOSITION,
        now=clock(),
        order_id=order.order_id if in_store else None,
        details={
            "order_id": order.order_id,
            "order_number": order.order_number,
            "disposition": disposition,
            "reason": " ".join(reason.split()),
            "date": clock().astimezone(UTC).date().isoformat(),
            "purchaser_dea": order.purchaser.dea_number.value,
            "supplier_dea": order.supplier.dea_number.value,
            "decision": assessment.decision.value,
            "policy_id": assessment.policy_id,
            "lines": [
                {"line_no": ln.line_no, "ndc": ln.ndc.digits, "quantity": ln.quantity}
                for ln in order.lines
            ],
            "flags": [
                {"code": f.code.value, "severity": f.severity.value, "explanation": f.explanation}
                for f in assessment.flags
            ],
        },
    )
