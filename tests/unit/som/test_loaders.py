"""History files: bad rows are reported with their line numbers, never silently used."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.domain.errors import InputError
from csos_desktop.som.loaders import (
    HistoryFileInvalid,
    bundled_policy,
    load_history_csv,
    load_policy,
    read_history_rows,
)
from csos_desktop.som.policy import Policy, PolicyInvalid

from .builders import policy_document

TODAY = date(2025, 6, 30)
HEADER = "order_id,order_date,purchaser_dea,ndc,drug_code,dosage_units"
GOOD = "o1,2025-06-02,BS1234563,99101-0010-01,9143,300"


def _read(*rows: str, skip: bool = False) -> object:
    return read_history_rows([HEADER, *rows], bundled_catalogue(), today=TODAY, skip_bad_rows=skip)


def test_a_good_file_gives_one_row_per_line_with_family_and_strength() -> None:
    f = read_history_rows(
        [HEADER, GOOD, "o1,2025-06-02,BS1234563,99101001002,9143,500"],
        bundled_catalogue(),
        today=TODAY,
    )
    h = f.history
    assert len(h) == 2 and f.problems == ()
    assert h.order_ids == ("o1",) and h.units.tolist() == [300, 500]
    assert h.variants == ("5 mg tablet",) and h.drug_code.tolist() == [9143, 9143]


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("o2,2025-06-02,BS1234563,1234-567-01,9143,300", "ndc", "not laid out as"),
        ("o2,2025-06-02,BS1234563,99101-0010-01,9999,300", "drug_code", "not a DEA controlled"),
        ("o2,2025-06-02,BS1234563,99101-0010-01,oxy,300", "drug_code", "not a DEA controlled"),
        ("o2,2025-06-02,BS1234563,99101-0010-01,9143,-300", "dosage_units", "-300 is negative"),
        ("o2,2031-01-01,BS1234563,99101-0010-01,9143,300", "order_date", "in the future"),
        ("o2,2025-06-02,BS1234563,99101-0010-01,9143,12.5", "dosage_units", "not a whole number"),
        ("o2,2025-06-02,BS1234563,99101-0010-01,9143,0", "dosage_units", "is zero"),
        ("o2,06/02/2025,BS1234563,99101-0010-01,9143,300", "order_date", "not a date"),
        ("o2,2025-06-02,BS1234560,99101-0010-01,9143,300", "purchaser_dea", "check digit"),
        ("o1,2025-06-03,BS1234563,99101-0010-01,9143,300", "order_id", "another date"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_number(row: str, column: str, words: str) -> None:
    with pytest.raises(HistoryFileInvalid) as caught:
        _read(GOOD, row)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (3, column)
    assert words in problem.message
    assert f"line 3, {column}:" in caught.value.message
    assert "--skip-bad-rows" in caught.value.message


def test_an_ndc_outside_the_catalogue_is_judged_by_its_drug_code_and_noted_once() -> None:
    f = _read(
        GOOD,
        "o2,2025-06-09,BS1234563,12345-6789-01,9143,300",
        "o3,2025-06-16,BS1234563,12345-6789-01,9143,400",
        "o3,2025-06-16,BS1234563,99101-0010-01,9801,25",
    )
    h = f.history  # type: ignore[attr-defined]
    assert h.drug_code.tolist() == [9143, 9143, 9143, 9801]  # the row's code is authoritative
    assert [h.variants[v] for v in h.variant] == ["5 mg tablet", "", "", ""]
    assert f.problems == ()  # type: ignore[attr-defined]
    assert f.notes == (  # type: ignore[attr-defined]
        "NDC 12345-6789-01 is not in the product catalogue: judged as drug code 9143"
        " (Oxycodone), without the strength/form check (2 rows)",
        "NDC 99101-0010-01 is drug code 9143 (Oxycodone 5 mg tablet) in the catalogue; the"
        " row's drug code 9801 (Fentanyl) is used, without the strength/form check (1 row)",
    )


def test_skipping_bad_rows_judges_without_them_but_still_lists_them() -> None:
    f = _read(GOOD, "o2,2025-06-02,BS1234563,99101-0010-01,9143,-300", GOOD, skip=True)
    assert len(f.history) == 2  # type: ignore[attr-defined]
    assert [p.line for p in f.problems] == [3]  # type: ignore[attr-defined]


def test_a_file_missing_a_column_is_refused_naming_it() -> None:
    with pytest.raises(InputError, match="missing column\\(s\\) dosage_units"):
        read_history_rows(
            ["order_id,order_date,purchaser_dea,ndc,drug_code", "a,b,c,d,e"],
            bundled_catalogue(),
            today=TODAY,
        )


def test_a_history_file_is_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    assert len(load_history_csv(path, bundled_catalogue(), today=TODAY).history) == 1
    with pytest.raises(InputError, match="cannot read history file"):
        load_history_csv(tmp_path / "nope.csv", bundled_catalogue(), today=TODAY)


def test_the_default_policy_follows_its_published_json_schema() -> None:
    root = resources.files("csos_desktop").joinpath("resources")
    schema = json.loads(root.joinpath("schemas/som-policy-1.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(policy_document(), schema)
    p = bundled_policy()
    assert [c.name for c in p.classes] == ["retail", "long_term_care", "hospital"]
    assert p.class_of("BS1234563").name == "retail"


def test_a_class_overrides_only_what_differs_from_the_defaults() -> None:
    p = bundled_policy()
    hospital = p.class_of("BS1234563", "hospital")
    assert hospital.size.thin_order_floor_units == 3000
    assert hospital.size.order_warn_multiplier == p.class_of("x").size.order_warn_multiplier


def test_the_policy_assigns_a_purchaser_its_class() -> None:
    doc = policy_document()
    doc["purchaser_classes"] = {"BS1234563": "hospital"}
    assert Policy.from_document(doc).class_of("BS1234563").name == "hospital"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d["defaults"]["size"].pop("order_warn_multiplier"), "order_warn_multiplier"),
        (lambda d: d["defaults"]["pattern"].update(cadence="loud"), "off, warn, intercept"),
        (lambda d: d.update(default_class="pharmacy"), "customer class 'pharmacy'"),
        (lambda d: d["defaults"]["frequency"].update(window_days=400), "shorter than lookback"),
        (lambda d: d.update(schema="som/2"), "csos-som-policy/1"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(change: object, words: str) -> None:
    doc = policy_document()
    change(doc)  # type: ignore[operator]
    with pytest.raises(PolicyInvalid, match=words.replace("(", "\\(")):
        Policy.from_document(doc)


def test_a_policy_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(PolicyInvalid, match="is not valid JSON"):
        load_policy(path)
