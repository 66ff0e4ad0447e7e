"""csos-rx/1: what 21 CFR 1306.05, 1306.12 and 1306.22 require of a prescription."""

from __future__ import annotations

from typing import Any

import pytest

from csos_desktop.domain.canonical import canonical_bytes, load_document
from csos_desktop.domain.prescription import (
    Prescription,
    PrescriptionInvalid,
    parse_prescription_input,
)
from tests.unit.domain.rx_samples import RX_NOW, sample_rx_input


def rules_broken(data: dict[str, Any]) -> set[str]:
    with pytest.raises(PrescriptionInvalid) as err:
        parse_prescription_input(data, now=RX_NOW)
    return {p.rule for p in err.value.problems}


def test_a_complete_prescription_round_trips_through_its_signed_bytes() -> None:
    rx = parse_prescription_input(sample_rx_input(), now=RX_NOW)
    data = canonical_bytes(rx.to_document())
    assert Prescription.from_document(load_document(data)) == rx
    assert rx.rx_id and rx.created_at == RX_NOW


@pytest.mark.parametrize(
    "missing",
    ["date_of_issue", "patient", "drug", "quantity", "directions", "practitioner", "refills"],
)
def test_every_1306_05_element_is_required(missing: str) -> None:
    data = sample_rx_input()
    del data[missing]
    assert "missing" in rules_broken(data)


def test_patient_address_must_be_complete() -> None:
    data = sample_rx_input()
    del data["patient"]["address"]["postal_code"]
    assert "missing" in rules_broken(data)


def test_schedule_ii_with_refills_is_refused() -> None:
    data = sample_rx_input()
    data["refills"] = 1
    assert rules_broken(data) == {"refills-schedule-ii"}


def test_schedule_iv_allows_five_refills_but_not_six() -> None:
    data = sample_rx_input()
    data["drug"]["schedule"] = "4"
    data["refills"] = 5
    parse_prescription_input(data, now=RX_NOW)
    data["refills"] = 6
    assert rules_broken(data) == {"refills-too-many"}


def test_do_not_fill_before_is_for_schedule_ii_within_90_days() -> None:
    data = sample_rx_input()
    data["do_not_fill_before"] = "2026-12-25"
    assert parse_prescription_input(data, now=RX_NOW).do_not_fill_before is not None
    data["do_not_fill_before"] = "2027-03-01"
    assert rules_broken(data) == {"do-not-fill-beyond-90-days"}
    data["do_not_fill_before"] = "2026-11-01"
    assert rules_broken(data) == {"do-not-fill-before-issue"}
    data["do_not_fill_before"] = "2026-12-25"
    data["drug"]["schedule"] = "3"
    assert rules_broken(data) == {"do-not-fill-not-schedule-ii"}


def test_schedule_i_cannot_be_prescribed() -> None:
    data = sample_rx_input()
    data["drug"]["schedule"] = "1"
    assert rules_broken(data) == {"schedule-i-not-prescribable"}


def test_an_epcs_prescription_names_a_controlled_schedule() -> None:
    data = sample_rx_input()
    data["drug"]["schedule"] = None
    assert rules_broken(data) == {"schedule-required"}


def test_a_distributor_dea_number_cannot_prescribe() -> None:
    data = sample_rx_input()
    data["practitioner"]["dea_number"] = "RK0452716"
    assert rules_broken(data) == {"dea-not-a-prescriber"}


def test_date_of_issue_in_the_future_is_refused() -> None:
    assert rules_broken(sample_rx_input("2026-11-26")) == {"date-of-issue-future"}


def test_unknown_keys_are_refused_and_problems_are_all_listed() -> None:
    data = sample_rx_input()
    data["note"] = "x"
    data["quantity"] = 0
    data["practitioner"]["dea_number"] = "AB1234564"
    assert {"unknown-key", "dea-check-digit"} <= rules_broken(data)


def test_review_lines_show_what_1311_120_requires() -> None:
    rx = parse_prescription_input(sample_rx_input(), now=RX_NOW)
    text = "\n".join(rx.review_lines())
    for fact in (
        "Maria Lopez",
        "48 Elm Street",
        "Oxycodone Hydrochloride 5 mg tablet",
        "20",
        "every 6 hours",
        "Refills:        0",
        "Dr. Jane Smith",
        "AB1234563",
    ):
        assert fact in text


def test_review_lines_show_the_issue_date_the_fill_date_and_the_prescriber_address() -> None:
    # 1311.120(b)(9)(i), (vi) and (vii): the rest of what the practitioner reviews.
    data = sample_rx_input()
    data["do_not_fill_before"] = "2026-12-25"
    lines = parse_prescription_input(data, now=RX_NOW).review_lines()
    assert lines[0] == "Date of issue:  2026-11-25"
    assert "Do not fill before: 2026-12-25" in lines
    assert "200 Medical Plaza" in lines[-1] and lines[-1].startswith("Practitioner:")
