"""The SOM acknowledgement every signing path requires, and the disposition of flagged orders.

A flagged order (21 CFR 1301.74(b)) is signed only with a justification of its
own, given at signing (CLI ``--som-justification``, the GUI signing dialog's row
for that order; the editor's, for the draft as it is now, is offered again) and
checked by ``som.justification``. It is recorded with the signature, in the same
transaction, by the signing certificate's subject: never before, so a cancelled
signature leaves none. The check uses
the cached history and the distributor's policy when the sync has cached it,
and says so when either is missing or stale. A flagged order that is voided
keeps a record of its flags and what became of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from csos_desktop.domain.clock import Clock
from csos_desktop.domain.errors import ItemRefused
from csos_desktop.domain.order import Order
from csos_desktop.services.orders.catalogue import active_catalogue
from csos_desktop.services.som.review import (
    SomReview,
    acknowledgement_details,
    judge,
    load_history,
    policy_for,
)
from csos_desktop.som import Assessment, Decision, History
from csos_desktop.som.justification import JustificationRefused, check_justification
from csos_desktop.store import lifecycle, som_cache
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store

#: The distributor's history older than this is called stale in every SOM message.
STALE_AFTER = timedelta(days=7)


class SomJustificationRequired(ItemRefused):
    """A flagged order needs a written justification before the PIN is asked."""

    exit_code = 2  # the command needs a justification, or the order changed


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


def editor_justification(store: Store, order_id: str) -> str | None:
    """The justification the editor saved for this draft as it is now, if any: offered
    again at signing (the signer adopts it, and it is recorded with the signature)."""
    text: str | None = None
    for e in store.audit.entries(order_id=order_id):
        if e.event == AuditEvent.SOM_WARNING_ACKNOWLEDGED:
            text = str(e.details.get("justification") or "") or None
        elif e.event in (AuditEvent.ORDER_DRAFT_CHANGED, AuditEvent.ORDER_IMPORTED):
            text = None
    return text


@dataclass(frozen=True)
class FlaggedOrder:
    """A flagged draft in a signing batch: its flags one per line, and the justification
    accepted for it (recorded with its signature, never before) or why none is yet."""

    order_id: str
    label: str
    flags: tuple[str, ...]
    assessment: Assessment
    justification: str | None
    #: Why it cannot be signed yet, in a sentence (None once a justification is accepted).
    problem: str | None
    #: The whole SOM result (decision, policy, flags, history), for the refusal message.
    summary: str = ""
    #: The text offered (given now, or saved in the editor), accepted or not.
    offered: str | None = None

    def refusal(self) -> SomJustificationRequired:
        return SomJustificationRequired(f"{self.problem}\n{self.summary}")


def justify(
    store: Store, order: Order, check: SomCheck | None, given: str | None, *, stored: bool
) -> FlaggedOrder | None:
    """None for a clean order; else the flagged order with the justification *given* for
    it (or the editor's, for a stored draft) checked by ``check_justification``. Nothing
    is written: the record stage keeps it in the signature's transaction."""
    if check is None or not check.flagged:
        return None
    flags = tuple(f"[{f.severity.value}] {f.explanation}" for f in check.assessment.flags)
    text = given if given and given.strip() else None
    if text is None and stored:
        text = editor_justification(store, order.order_id)
    accepted: str | None = None
    problem: str | None = None
    if text is None:
        problem = (
            f"Order {order.order_number} is flagged and needs a written justification before "
            "it is signed (21 CFR 1301.74(b))."
        )
    else:
        try:
            accepted = check_justification(text, [f.explanation for f in check.assessment.flags])
        except JustificationRefused as exc:
            problem = f"Order {order.order_number}: {exc.message}"
    return FlaggedOrder(
        order.order_id,
        order.order_number,
        flags,
        check.assessment,
        accepted,
        problem,
        check.describe(),
        text,
    )


def require_justification(
    store: Store, order: Order, check: SomCheck | None, given: str | None, *, stored: bool
) -> FlaggedOrder | None:
    """``justify``, refusing a flagged order without an acceptable justification."""
    flagged = justify(store, order, check, given, stored=stored)
    if flagged is not None and flagged.problem is not None:
        raise flagged.refusal()
    return flagged


def justification_entries(
    flagged: FlaggedOrder,
    order: Order,
    signer_subject: str,
    day: date,
    certificate: Mapping[str, object],
) -> list[tuple[AuditEvent, dict[str, object]]]:
    """The audit entries a justified order's signature carries, in its transaction: the
    warnings read and why (by the signing certificate's subject, with what identifies that
    certificate: its hash and the subject's serialNumber), and "cleared"."""
    assert flagged.justification is not None
    ack = acknowledgement_details(
        flagged.assessment, flagged.justification, acknowledged_by=signer_subject
    )
    ack.update(certificate)
    cleared = disposition_details(order, flagged.assessment, "cleared", flagged.justification, day)
    return [
        (AuditEvent.SOM_WARNING_ACKNOWLEDGED, ack),
        (AuditEvent.SOM_DISPOSITION, cleared),
    ]


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
    now = clock()
    lifecycle.record_event(
        store,
        AuditEvent.SOM_DISPOSITION,
        now=now,
        order_id=order.order_id if in_store else None,
        details=disposition_details(
            order, assessment, disposition, reason, now.astimezone(UTC).date()
        ),
    )


def disposition_details(
    order: Order, assessment: Assessment, disposition: str, reason: str, day: date
) -> dict[str, object]:
    """The flags, lines, parties and decision of a flagged order, and what became of it."""
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "disposition": disposition,
        "reason": " ".join(reason.split()),
        "date": day.isoformat(),
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
    }
