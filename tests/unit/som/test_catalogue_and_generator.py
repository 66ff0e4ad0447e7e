"""The synthetic catalogue and the synthetic history generator."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from csos_desktop.domain.catalogue import Catalogue, CatalogueInvalid, bundled_catalogue
from csos_desktop.domain.schedule import Schedule
from csos_desktop.sandbox.history import ANOMALIES, GeneratorConfig, generate_history
from csos_desktop.som.history import day_number


def test_catalogue_has_20_to_40_families_with_their_dea_codes_and_schedules() -> None:
    cat = bundled_catalogue()
    assert 20 <= len(cat.families) <= 40
    assert cat.families[9143].name == "Oxycodone" and cat.families[9143].schedule is Schedule.II
    assert cat.families[1100].is_schedule_ii  # amphetamine, II non-narcotic
    assert not cat.families[2882].is_schedule_ii  # alprazolam, IV


def test_catalogue_ndcs_are_obviously_synthetic() -> None:
    cat = bundled_catalogue()
    assert cat.synthetic
    assert all(ndc.startswith("991") and len(ndc) == 11 for ndc in cat.products)
    assert all(p.drug_code in cat.families and p.package_size > 0 for p in cat.products.values())


def test_a_product_naming_an_unknown_family_is_refused() -> None:
    doc = {
        "schema": "csos-catalogue/1",
        "families": [{"drug_code": 9143, "name": "Oxycodone", "schedule": "2"}],
        "products": [
            {
                "ndc": "99101001001",
                "item_name": "x",
                "strength": "5 mg",
                "dosage_form": "tablet",
                "package_size": 100,
                "drug_code": 9999,
                "schedule": "2",
            }
        ],
    }
    with pytest.raises(CatalogueInvalid, match="unknown drug code 9999"):
        Catalogue.from_document(doc)


CONFIG = GeneratorConfig(seed=5, pharmacies=40, days=540, warmup_days=300, anomalies_per_pharmacy=3)


@pytest.fixture(scope="module")
def generated() -> object:
    return generate_history(bundled_catalogue(), CONFIG)


def test_the_same_seed_gives_the_same_history(generated: object) -> None:
    again = generate_history(bundled_catalogue(), CONFIG)
    h1, h2 = generated.history, again.history  # type: ignore[attr-defined]
    assert h1.order_ids == h2.order_ids and np.array_equal(h1.units, h2.units)
    assert generated.anomalies == again.anomalies  # type: ignore[attr-defined]
    other = generate_history(bundled_catalogue(), GeneratorConfig(seed=6, pharmacies=40, days=540))
    assert other.history.order_ids != h1.order_ids


def test_every_kind_of_anomaly_is_planted_after_the_warm_up(generated: object) -> None:
    anomalies = generated.anomalies  # type: ignore[attr-defined]
    assert set(Counter(a.anomaly for a in anomalies)) == set(ANOMALIES)
    warm = day_number(CONFIG.start) + CONFIG.warmup_days
    assert all(day_number(a.first_day) >= warm and a.order_ids for a in anomalies)


def test_generated_rows_are_valid_history(generated: object) -> None:
    g = generated
    h = g.history  # type: ignore[attr-defined]
    cat = bundled_catalogue()
    assert (h.units > 0).all()
    assert {f"{n:011d}" for n in np.unique(h.ndc)} <= set(cat.products)
    assert set(g.customer_classes.values()) == {"retail", "long_term_care", "hospital"}  # type: ignore[attr-defined]
    lines_per_order = np.bincount(h.order)
    assert lines_per_order.min() >= 1


def test_anomalies_have_the_promised_shape(generated: object) -> None:
    from csos_desktop.sandbox.history import Anomaly

    anomalies = generated.anomalies  # type: ignore[attr-defined]
    bursts = [a for a in anomalies if a.anomaly is Anomaly.BURST]
    assert bursts
    for a in bursts:
        assert 3 <= len(a.order_ids) <= 5 and (a.last_day - a.first_day).days <= 7
        assert a.cadence_days in (7, 14, 28)
    jumps = [a for a in anomalies if a.anomaly is Anomaly.SIZE_JUMP]
    assert jumps and all(3.5 <= a.factor <= 6.0 for a in jumps)
    ramps = [a for a in anomalies if a.anomaly is Anomaly.SLOW_RAMP]
    assert ramps and all(4 <= len(a.order_ids) <= 12 and 2.5 <= a.factor <= 4 for a in ramps)


def test_families_keep_their_cadence_and_some_pharmacies_open_late() -> None:
    config = GeneratorConfig(
        seed=9, pharmacies=30, days=400, warmup_days=399, anomalies_per_pharmacy=0, thin_share=0.3
    )
    h = generate_history(bundled_catalogue(), config).history
    first = day_number(config.start)
    opened = [int(h.day[h.purchaser == p].min()) - first for p in range(len(h.purchasers))]
    assert sum(d > 14 for d in opened) >= 3  # thin histories: opened part-way through
    gaps = []
    for p in range(len(h.purchasers)):
        for code in np.unique(h.drug_code[h.purchaser == p]):
            days = np.unique(h.day[(h.purchaser == p) & (h.drug_code == code)])
            if len(days) > 4:
                gaps.append(float(np.median(np.diff(days))))
    # Each family's median gap sits near 7, 14 or 28 days (jitter and weekday schedules).
    near = [min(abs(g - c) for c in (7, 14, 28)) for g in gaps]
    assert np.mean(np.asarray(near) <= 4) > 0.9
    assert {min((7, 14, 28), key=lambda c: abs(g - c)) for g in gaps} == {7, 14, 28}
