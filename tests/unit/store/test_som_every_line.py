"""SOM judges every controlled line before signing, or flags it as not judged.

A line's drug family comes from the imported catalogue, else the purchaser's cached
distributor history for its NDC, else the DEA code table by its ingredient. A line
none of them knows needs a justification like a warning; the gate never passes it
silently. Real SQLite store, no catalogue imported (as on a fresh install).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csos_desktop.doctor.catalogue import catalogue_check
from csos_desktop.doctor.result import Status
from csos_desktop.domain.order import parse_order_input
from csos_desktop.services.orders import catalogue as catalogue_service
from csos_desktop.services.som import gate as som_gate
from csos_desktop.som import Decision, FlagCode
from csos_desktop.store import Store, open_store
from csos_desktop.store.history import HistoryRow
from tests.unit.store.helpers import BRAND_NDC, brand_order_input


@pytest.fixture()
def fresh_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """No catalogue before an import, as on a real install (the fixtures' seam reset)."""
    monkeypatch.setattr(catalogue_service, "_before_import", catalogue_service.no_catalogue)


@pytest.fixture()
def store(tmp_path: Path, fresh_install: None) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db") as s:
        yield s


def _history(store: Store, ndc: str, code: int) -> None:
    today = datetime.now(UTC).date()
    rows = [
        HistoryRow(f"h-{i:03d}", 1, today - timedelta(days=700 - 14 * i), "AB1234563", ndc,
                   code, 200, "15 mg tablet")
        for i in range(50)
    ]  # fmt: skip
    with store.transaction():
        store.history.upsert(rows, source="distributor", fetched_at=datetime.now(UTC))


def test_a_real_ndc_in_the_cached_history_is_judged_by_the_historys_drug_code(
    store: Store,
) -> None:
    _history(store, BRAND_NDC.replace("-", ""), 9143)
    order = parse_order_input(brand_order_input(packages=40), now=datetime.now(UTC))
    check = som_gate.check_som(store, order, now=datetime.now(UTC))
    assert check is not None
    codes = {f.code for f in check.assessment.flags}
    assert FlagCode.PRODUCT_UNKNOWN not in codes
    assert FlagCode.ORDER_UNITS in codes  # 4,000 units against a usual 200
    [size] = [f for f in check.assessment.flags if f.code is FlagCode.ORDER_UNITS]
    assert size.drug_code == 9143 and "Oxycodone (9143)" in size.explanation


def test_a_line_naming_a_known_ingredient_is_judged_by_the_dea_code_table(
    store: Store,
) -> None:
    _history(store, "00406012301", 9193)  # this pharmacy has ordered hydrocodone only
    data = brand_order_input()
    data["lines"][0]["item_name"] = "Oxycodone hydrochloride 15 mg tablet"
    check = som_gate.check_som(
        store, parse_order_input(data, now=datetime.now(UTC)), now=datetime.now(UTC)
    )
    assert check is not None
    assert FlagCode.PRODUCT_UNKNOWN not in {f.code for f in check.assessment.flags}
    [new] = [f for f in check.assessment.flags if f.code is FlagCode.NEW_FAMILY]
    assert new.drug_code == 9143 and "Oxycodone (9143)" in new.explanation


def test_a_product_nobody_knows_is_flagged_not_judged_and_needs_a_justification(
    store: Store,
) -> None:
    order = parse_order_input(brand_order_input(), now=datetime.now(UTC))
    check = som_gate.check_som(store, order, now=datetime.now(UTC))
    assert check is not None and check.flagged
    assert check.assessment.decision is Decision.WARN
    [flag] = check.assessment.flags
    assert flag.code is FlagCode.PRODUCT_UNKNOWN and "not judged: product unknown" in (
        flag.explanation
    )
    with pytest.raises(som_gate.SomJustificationRequired, match="not judged: product unknown"):
        som_gate.require_justification(store, order, check, None, stored=False)


def test_an_unreadable_cached_policy_is_reported_and_the_fallback_is_the_built_in_default(
    store: Store,
) -> None:
    _, absent = som_gate.policy_for(store)
    assert absent.startswith("built-in default") and "not cached yet" in absent
    (store.path.parent / "som-policy.json").write_text("{not json", encoding="utf-8")
    _, broken = som_gate.policy_for(store)
    assert "cannot be read" in broken and "not cached" not in broken
    assert broken.startswith("built-in default") and "sandbox" not in broken


def test_a_fresh_install_without_a_catalogue_says_so_with_the_import_command(
    store: Store,
) -> None:
    result = catalogue_check(store.path)
    assert result.status is Status.WARNING
    assert "csos catalogue import product.txt package.txt" in result.fix
    assert not catalogue_service.active_catalogue(store).products  # no synthetic stand-in
    catalogue_service.import_synthetic(store, at=datetime.now(UTC))
    assert catalogue_check(store.path).status is Status.OK


def test_a_line_placed_by_history_synced_without_a_catalogue_is_no_strength_change(
    store: Store,
) -> None:
    today = datetime.now(UTC).date()
    rows = [
        HistoryRow(f"s-{i:03d}", 1, today - timedelta(days=700 - 14 * i), "AB1234563",
                   BRAND_NDC.replace("-", ""), 9143, 100, "")
        for i in range(50)
    ]  # fmt: skip
    with store.transaction():
        store.history.upsert(rows, source="distributor", fetched_at=datetime.now(UTC))
    order = parse_order_input(brand_order_input(packages=1), now=datetime.now(UTC))
    check = som_gate.check_som(store, order, now=datetime.now(UTC))
    assert check.assessment.decision is Decision.OK, check.describe()
