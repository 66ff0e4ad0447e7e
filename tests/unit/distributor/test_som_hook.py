"""The SOM hook: the engine of csos_desktop.som judges against the seeded two-year history."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import select

from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.domain.order import Order, parse_order_input
from csos_desktop.sandbox.distributor.db import history, open_database
from csos_desktop.sandbox.distributor.resources import ServedDocuments
from csos_desktop.sandbox.distributor.seed import seed_history
from csos_desktop.sandbox.distributor.som_hook import (
    EngineSomPolicy,
    HistoryItem,
    NoOpSomPolicy,
    default_policy,
)
from tests.unit.domain.samples import PURCHASER_DEA, sample_order_input

TODAY = date(2026, 3, 2)


def _history() -> list[HistoryItem]:
    engine = open_database("sqlite://")
    seed_history(engine, PURCHASER_DEA, today=TODAY)
    with engine.connect() as conn:
        return [
            HistoryItem(r.order_id, r.order_date, r.drug_code, r.dosage_units, r.variant, r.ndc)
            for r in conn.execute(select(history))
        ]


def _order_of(ndc: str, packages: int) -> Order:
    product = bundled_catalogue().product(ndc)
    assert product is not None
    data = sample_order_input()
    data["order_number"] = f"{TODAY:%y}X000777"
    data["lines"] = [
        {
            "line_no": 1,
            "ndc": ndc,
            "item_name": product.item_name,
            "strength": product.strength,
            "dosage_form": product.dosage_form,
            "package_size": product.package_size,
            "quantity": packages,
            "schedule": product.schedule.value,
        }
    ]
    now = datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC)
    return parse_order_input(data, now=now).with_date_signed(TODAY)


def test_bundled_policy_and_catalogue_wire_the_engine() -> None:
    docs = ServedDocuments.load()
    policy = default_policy(docs.policy, docs.catalogue)
    assert isinstance(policy, EngineSomPolicy) and policy.name.startswith("engine:")


def test_usual_order_passes_and_a_huge_one_is_intercepted() -> None:
    docs = ServedDocuments.load()
    engine = EngineSomPolicy(docs.policy, docs.catalogue)
    past = _history()
    ndc, _ = Counter(h.ndc for h in past).most_common(1)[0]
    units = sorted(h.dosage_units for h in past if h.ndc == ndc)
    usual = units[len(units) // 2]
    size = bundled_catalogue().product(ndc).package_size  # type: ignore[union-attr]
    normal = engine.assess(_order_of(ndc, max(1, usual // size)), past, customer_class="retail")
    huge = engine.assess(_order_of(ndc, 50 * max(1, usual // size)), past, customer_class="retail")
    assert normal.decision in ("ok", "warn")
    assert huge.intercepted and huge.flags, huge.explanation


def test_no_op_policy_names_itself_in_every_verdict() -> None:
    verdict = NoOpSomPolicy().assess(_order_of("99101001001", 1), [], customer_class="retail")
    assert verdict.decision == "ok" and "no-op" in verdict.explanation
