"""SOM before signing, against the store's cached history; and recording that warnings were read.

The order editor calls :func:`review_order` as lines change and
:func:`acknowledge_warnings` when the pharmacist goes on despite a warning
(21 CFR 1301.74(b)); the acknowledgement, with its justification, goes into the
hash-chained audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import Order
from csos_desktop.services.orders.catalogue import active_catalogue
from csos_desktop.som import Assessment, Decision, History, HistoryLine, Policy, evaluate
from csos_desktop.som.explain import family_label
from csos_desktop.som.justification import MIN_CHARS, check_justification
from csos_desktop.som.loaders import bundled_policy
from csos_desktop.som.policy import PolicyInvalid
from csos_desktop.som.review import PlacedOrder, place_order
from csos_desktop.som.series import FamilySeries, family_series
from csos_desktop.som.unjudged import with_unjudged
from csos_desktop.store import lifecycle, som_cache
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store

#: Shortest justification accepted: a reason, not a keystroke (``som.justification``).
MIN_JUSTIFICATION = MIN_CHARS


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


def policy_for(store: Store) -> tuple[Policy, str]:
    """The distributor's cached policy, else the built-in default; and a note saying which.

    A cached policy that cannot be read is reported as such, never passed over as if
    nothing were cached.
    """
    path = som_cache.policy_path(store)
    if not path.exists():
        return bundled_policy(), (
            "built-in default policy: the distributor's policy is not cached yet (run `csos sync`)"
        )
    cached = som_cache.load_policy_document(store)
    problem = "it is not a JSON policy document"
    if cached is not None:
        doc, fetched = cached
        try:
            policy = Policy.from_document(doc)
            return policy, f"distributor policy {policy.policy_id}, fetched {fetched:%Y-%m-%d}"
        except PolicyInvalid as exc:
            problem = str(exc)
    return bundled_policy(), (
        f"built-in default policy: the cached distributor policy {path} cannot be read "
        f"({problem}); run `csos sync` to fetch it again"
    )


def load_history(store: Store, purchaser_dea: str, as_of: date, days: int) -> History:
    """The purchaser's cached order lines from ``days`` before ``as_of`` up to it."""
    since = as_of - timedelta(days=days)
    return History.from_lines(
        HistoryLine(
            r.order_id, r.order_date, r.purchaser_dea, r.drug_code, r.units, r.variant, r.ndc
        )
        for r in store.history.rows(purchaser_dea, since, as_of)
    )


#: Reads the purchaser's history: (purchaser DEA, days back from the order's day).
HistoryReader = Callable[[str, int], History]


@dataclass(frozen=True)
class Judged:
    """An order placed line by line, the history it was judged against, and the verdict
    (with a "not judged" flag per controlled line whose product nobody knows)."""

    placed: PlacedOrder
    history: History
    assessment: Assessment


def judge(
    store: Store,
    order: Order,
    policy: Policy,
    catalogue: Catalogue,
    day: date,
    history_of: HistoryReader | None = None,
) -> Judged:
    """The one evaluation every path uses: the editor, and the gate before each signature.

    A line's drug family comes from the catalogue, else the purchaser's cached history
    rows for its NDC, else the DEA code table; a line none of them knows is flagged.
    """
    dea = order.purchaser.dea_number.value
    missing = [
        ln.ndc.digits
        for ln in order.lines
        if ln.schedule is not None and catalogue.product(ln.ndc.digits) is None
    ]
    known = store.history.drug_codes(dea, missing) if missing else {}
    placed = place_order(order, catalogue, known_codes=known, as_of=day)
    # Twice the baseline's look-back, so the earliest charted orders have a baseline too.
    days = 2 * policy.class_of(dea).history.lookback_days
    history = (history_of or (lambda d, n: load_history(store, d, day, n)))(dea, days)
    assessment = evaluate(placed.review, history, policy, placed.families)
    return Judged(placed, history, with_unjudged(assessment, placed.unplaced))


def review_order(
    store: Store,
    order: Order,
    *,
    policy: Policy | None = None,
    catalogue: Catalogue | None = None,
    as_of: date | None = None,
) -> SomReview:
    """Judge *order* as if signed on *as_of* (default today), with a chart per family."""
    policy = policy or policy_for(store)[0]
    catalogue = catalogue or active_catalogue(store)
    day = as_of or datetime.now(UTC).date()
    judged = judge(store, order, policy, catalogue, day)
    review, history, assessment = judged.placed.review, judged.history, judged.assessment
    families = judged.placed.families
    flagged = {f.drug_code for f in assessment.flags if f.drug_code is not None}
    codes = sorted({line.drug_code for line in review.lines}, key=lambda c: (c not in flagged, c))
    charts = tuple(
        FamilyChart(
            code,
            family_label(code, families),
            family_series(history, review, code, policy, families),
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
    clock: Clock = utc_now,
) -> None:
    """Record in the audit log that the warnings on *order_id* were read, and why it goes on."""
    reason = " ".join(justification.split())
    if assessment.decision is Decision.OK:
        raise InputError("This order has no SOM warning to acknowledge.")
    reason = check_justification(reason, [f.explanation for f in assessment.flags])
    store.orders.get(order_id)  # raises OrderNotFound: never acknowledge for nothing
    lifecycle.record_event(
        store,
        AuditEvent.SOM_WARNING_ACKNOWLEDGED,
        now=clock(),
        order_id=order_id,
        details=acknowledgement_details(assessment, reason, acknowledged_by=acknowledged_by),
    )


def acknowledgement_details(
    assessment: Assessment, justification: str, *, acknowledged_by: str | None
) -> dict[str, object]:
    """The warnings read, and why the order goes on, as the audit log keeps them."""
    return {
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
        "justification": " ".join(justification.split()),
        "acknowledged_by": acknowledged_by,
    }
