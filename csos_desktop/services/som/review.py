"""SOM before signing, against the store's cached history; and recording that warnings were read.

The order editor calls :func:`review_order` as lines change and
:func:`acknowledge_warnings` when the pharmacist goes on despite a warning
(21 CFR 1301.74(b)); the acknowledgement, with its justification, goes into the
hash-chained audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.clock import Clock
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import Order
from csos_desktop.services.orders.catalogue import active_catalogue
from csos_desktop.som import Assessment, Decision, History, HistoryLine, Policy, evaluate
from csos_desktop.som.explain import family_label
from csos_desktop.som.loaders import bundled_policy
from csos_desktop.som.review import review_from_order
from csos_desktop.som.series import FamilySeries, family_series
from csos_desktop.store import lifecycle
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store

#: Shortest justification accepted: a reason, not a keystroke.
MIN_JUSTIFICATION = 10


@dataclass(frozen=True)
class FamilyChart:
    """One drug family on the order: its label and the numbers behind its chart."""

    drug_code: int
    label: str
    series: FamilySeries
    flagged: bool


@dataclass(frozen=True)
class SomReview:
    """The assessment, and one chart per controlled family on the order (flagged ones first)."""

    assessment: Assessment
    charts: tuple[FamilyChart, ...]

    @property
    def needs_acknowledgement(self) -> bool:
        return self.assessment.decision is not Decision.OK


def load_history(store: Store, purchaser_dea: str, as_of: date, days: int) -> History:
    """The purchaser's cached order lines from ``days`` before ``as_of`` up to it."""
    since = as_of - timedelta(days=days)
    return History.from_lines(
        HistoryLine(
            r.order_id, r.order_date, r.purchaser_dea, r.drug_code, r.units, r.variant, r.ndc
        )
        for r in store.history.rows(purchaser_dea, since, as_of)
    )


def review_order(
    store: Store,
    order: Order,
    *,
    policy: Policy | None = None,
    catalogue: Catalogue | None = None,
    as_of: date | None = None,
) -> SomReview:
    """Judge *order* as if signed on *as_of* (default today), with a chart per family."""
    policy = policy or bundled_policy()
    catalogue = catalogue or active_catalogue(store)
    day = as_of or datetime.now(UTC).date()
    review = review_from_order(order, catalogue, as_of=day)
    rules = policy.class_of(review.purchaser_dea).history
    # Twice the baseline's look-back, so the earliest charted orders have a baseline too.
    history = load_history(store, review.purchaser_dea, day, 2 * rules.lookback_days)
    assessment = evaluate(review, history, policy, catalogue.families)
    flagged = {f.drug_code for f in assessment.flags if f.drug_code is not None}
    codes = sorted({line.drug_code for line in review.lines}, key=lambda c: (c not in flagged, c))
    charts = tuple(
        FamilyChart(
            code,
            family_label(code, catalogue.families),
            family_series(history, review, code, policy, catalogue.families),
            code in flagged,
        )
        for code in codes
    )
    return SomReview(assessment, charts)


def acknowledge_warnings(
    store: Store,
    order_id: str,
    assessment: Assessment,
    justification: str,
    *,
    acknowledged_by: str | None = None,
    clock: Clock = lambda: datetime.now(UTC),
) -> None:
    """Record in the audit log that the warnings on *order_id* were read, and why it goes on."""
    reason = " ".join(justification.split())
    if assessment.decision is Decision.OK:
        raise InputError("This order has no SOM warning to acknowledge.")
    if len(reason) < MIN_JUSTIFICATION:
        raise InputError(
            "Say why the order is legitimate despite the warning (for example "
            "'new oncology patients this month'); it is kept in the audit log."
        )
    store.orders.get(order_id)  # raises OrderNotFound: never acknowledge for nothing
    lifecycle.record_event(
        store,
        AuditEvent.SOM_WARNING_ACKNOWLEDGED,
        now=clock(),
        order_id=order_id,
        details={
            "decision": assessment.decision.value,
            "policy_id": assessment.policy_id,
            "as_of": assessment.as_of.isoformat(),
            "customer_class": assessment.customer_class,
            "flags": [
                {
                    "code": f.code.value,
                    "severity": f.severity.value,
                    "drug_code": f.drug_code,
                    "explanation": f.explanation,
                }
                for f in assessment.flags
            ],
            "justification": reason,
            "acknowledged_by": acknowledged_by,
        },
    )
