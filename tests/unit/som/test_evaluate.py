"""One decision per order; the client's judgement equals the distributor's batch judgement."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest

from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.domain.order import parse_order_input
from csos_desktop.sandbox.history import GeneratorConfig, generate_history
from csos_desktop.som.evaluate import evaluate, score
from csos_desktop.som.flags import Decision, FlagKind
from csos_desktop.som.history import History, day_number
from csos_desktop.som.loaders import bundled_policy
from csos_desktop.som.policy import Policy
from csos_desktop.som.review import OrderUnderReview, ReviewLine, UnknownProduct, review_from_order

from .builders import (
    ALPRAZOLAM,
    FAMILIES,
    OXY,
    PHARMACY,
    after,
    history,
    judge,
    order,
    policy,
    policy_document,
    weekly,
)


def _review_line(drug_code: int, variant: str, units: int) -> ReviewLine:
    """A line whose strength/form label reads back as ``variant``."""
    strength, _, form = variant.partition(" ")
    return ReviewLine(drug_code, "0", strength, form, units)


def test_decision_is_the_most_severe_flag() -> None:
    a = judge(order(after(52) - timedelta(days=2), {OXY: 7000}), history(weekly(52)))
    assert {f.kind for f in a.flags} == {FlagKind.SIZE, FlagKind.PATTERN}
    assert a.decision is Decision.INTERCEPT
    assert a.flags[0].severity.rank >= a.flags[-1].severity.rank  # most severe first


def test_warnings_spanning_every_kind_escalate_to_an_intercept() -> None:
    # Daily orders of both usual families: more often, bigger, on a Saturday; same mix.
    daily = weekly(12, start=after(52), every_days=1, prefix="d")
    saturday = after(52) + timedelta(days=12 + (5 - (day_number(after(52)) + 15) % 7) % 7)
    h = history(weekly(52), daily)
    # A week of daily orders would intercept on its own; this policy only warns on windows.
    p = policy(
        frequency={"gap_intercept_multiplier": None}, size={"window_intercept_multiplier": None}
    )
    a = judge(order(saturday, {OXY: 3000, ALPRAZOLAM: 500}), h, p)
    assert set(a.kinds) == {FlagKind.SIZE, FlagKind.FREQUENCY, FlagKind.PATTERN}
    assert all(f.severity.rank == 1 for f in a.flags)
    assert a.decision is Decision.INTERCEPT and a.escalated
    assert a.explanation.endswith("policy: that many kinds intercept.")
    doc = policy_document()
    doc["decision"]["intercept_when_warn_kinds"] = None
    doc["defaults"]["frequency"]["gap_intercept_multiplier"] = None
    doc["defaults"]["size"]["window_intercept_multiplier"] = None
    no_escalation = Policy.from_document(doc)
    late = judge(order(saturday, {OXY: 3000, ALPRAZOLAM: 500}), h, no_escalation)
    assert late.decision is Decision.WARN


def test_the_customer_class_changes_the_thin_history_floor() -> None:
    o = order(after(2), {OXY: 3000})
    h = history(weekly(2, {OXY: 100}))
    assert judge(o, h).decision is Decision.WARN  # retail floor 1,000 units
    hospital = evaluate(o, h, policy(), FAMILIES, customer_class="hospital")
    assert hospital.decision is Decision.OK and hospital.customer_class == "hospital"


def test_assessment_serialises_to_json_with_every_figure() -> None:
    a = judge(order(after(52), {OXY: 4100}), history(weekly(52)))
    doc = json.loads(json.dumps(a.to_json()))
    assert doc["decision"] == "warn" and doc["kinds"] == ["size"]
    assert doc["flags"][0]["figures"]["ratio"] == 4.1
    assert doc["flags"][0]["code"] == "order-units"


@pytest.fixture(scope="module")
def synthetic() -> tuple[History, History, dict[str, str]]:
    cfg = GeneratorConfig(
        seed=3, pharmacies=12, days=500, warmup_days=300, anomalies_per_pharmacy=3
    )
    data = generate_history(bundled_catalogue(), cfg)
    split = day_number(cfg.start) + 440
    h = data.history
    return h.select(h.day < split), h.select(h.day >= split), data.customer_classes


def test_client_decision_equals_the_distributor_batch_decision(
    synthetic: tuple[History, History, dict[str, str]],
) -> None:
    past, orders, classes = synthetic
    batch = score(past, orders, bundled_policy(), FAMILIES, customer_classes=classes)
    everything = History.concat(past, orders)
    assert (batch.decision_rank > 0).any()
    flagged = [i for i in range(len(batch)) if batch.decision_rank[i] > 0]
    sample = flagged[:15] + list(range(0, len(batch), max(1, len(batch) // 15)))
    for i in sample:
        oid = batch.order_ids[i]
        code = everything.order_ids.index(oid, len(past.order_ids))
        mine = everything.order == code
        before = ~mine & (everything.order < code) & (everything.day <= everything.day[mine][0])
        client_order = OrderUnderReview(
            oid,
            batch.purchaser_dea[i],
            batch.assessment(i).as_of,
            tuple(
                _review_line(int(c), everything.variants[v], int(u))
                for c, v, u in zip(
                    everything.drug_code[mine],
                    everything.variant[mine],
                    everything.units[mine],
                    strict=True,
                )
            ),
        )
        dea = batch.purchaser_dea[i]
        client = evaluate(
            client_order,
            everything.select(before),
            bundled_policy(),
            FAMILIES,
            customer_class=classes[dea],
        )
        assert client == batch.assessment(i), oid


def test_only_history_up_to_the_as_of_date_counts(
    synthetic: tuple[History, History, dict[str, str]],
) -> None:
    past, orders, _ = synthetic
    dea = past.purchasers[0]
    o = order(date(2023, 12, 1), {OXY: 1000}, dea=dea)
    assert evaluate(o, past, policy(), FAMILIES) == evaluate(
        o, History.concat(past, orders), policy(), FAMILIES
    )


def _sample_order(lines: list[dict[str, object]]) -> object:
    from datetime import UTC, datetime

    doc = {
        "schema": "csos-order/1",
        "order_number": "26X000123",
        "purchaser": {
            "name": "Main Street Pharmacy",
            "address": {
                "street": "1 Main St",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62701",
            },
            "dea_number": "AB1234563",
        },
        "supplier": {
            "name": "Keystone Wholesale",
            "address": {
                "street": "4500 Parkway",
                "city": "Columbus",
                "state": "OH",
                "postal_code": "43219",
            },
            "dea_number": "RK0452716",
        },
        "lines": lines,
    }
    return parse_order_input(doc, now=datetime(2026, 11, 25, 12, tzinfo=UTC))


def _line(
    n: int, ndc: str, schedule: str | None, package_size: int = 100, qty: int = 2
) -> dict[str, object]:
    return {
        "line_no": n,
        "ndc": ndc,
        "item_name": "Item",
        "strength": "10 mg",
        "dosage_form": "tablet",
        "package_size": package_size,
        "quantity": qty,
        "schedule": schedule,
    }


def test_order_lines_become_dosage_units_of_their_drug_family() -> None:
    o = _sample_order([_line(1, "99101-0010-01", "2", 100, 3), _line(2, "65862-017-05", None)])
    r = review_from_order(o, bundled_catalogue())  # type: ignore[arg-type]
    assert r.purchaser_dea == "AB1234563" and r.as_of == date(2026, 11, 25)
    (line,) = r.lines
    assert (line.drug_code, line.units, line.variant) == (OXY, 300, "5 mg tablet")


def test_a_controlled_line_the_catalogue_lacks_is_an_error_naming_the_line() -> None:
    o = _sample_order([_line(1, "0406-0552-01", "2")])
    with pytest.raises(UnknownProduct, match="line 1 \\(NDC 00406-0552-01"):
        review_from_order(o, bundled_catalogue())  # type: ignore[arg-type]


def test_an_order_with_no_controlled_lines_is_ok() -> None:
    o = OrderUnderReview("x", PHARMACY, after(52), ())
    assert judge(o, history(weekly(52))).decision is Decision.OK
    assert np.all(np.asarray([1]))
