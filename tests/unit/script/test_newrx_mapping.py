"""A prescription written as a SCRIPT 2017071 NewRx reads back as the same prescription."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given

from csos_desktop.domain.pharmacy import Pharmacy
from csos_desktop.domain.prescription import Prescription
from csos_desktop.domain.schedule import Schedule
from csos_desktop.domain.script.mapping_2017071 import TABLE
from csos_desktop.domain.script.newrx import (
    SCRIPT_NAMESPACE,
    DigitalSignature,
    NewRxInvalid,
    SignatureIndicator,
    build_newrx,
    read_newrx,
    signed_bytes,
    with_signature,
)
from csos_desktop.domain.script.safe_xml import parse_xml
from tests.unit.domain.strategies import FAST
from tests.unit.script.samples import sample_pharmacy, sample_prescription
from tests.unit.script.strategies import pharmacies, prescriptions

FAKE = DigitalSignature("SHA256", b"d" * 32, b"s" * 256, b"c" * 100)


@FAST
@given(prescriptions(), pharmacies())
def test_prescription_to_newrx_and_back_is_the_same_prescription(
    rx: Prescription, pharmacy: Pharmacy
) -> None:
    root = build_newrx(rx, pharmacy)
    message = with_signature(root, FAKE)
    back = read_newrx(message)
    assert back.prescription == rx
    assert back.pharmacy == pharmacy
    assert back.signature == FAKE
    # What the reader re-derives is what the writer signed.
    assert back.signed_bytes == signed_bytes(root)


def test_each_1306_05_element_is_in_its_script_element() -> None:
    rx, pharmacy = sample_prescription(), sample_pharmacy()
    root = parse_xml(with_signature(build_newrx(rx, pharmacy), FAKE))
    med = "Body/NewRx/MedicationPrescribed"
    expected = {
        "Body/NewRx/Patient/HumanPatient/Name/LastName": "Lopez",
        "Body/NewRx/Patient/HumanPatient/Name/FirstName": "Maria",
        "Body/NewRx/Patient/HumanPatient/Address/AddressLine1": "48 Elm Street",
        "Body/NewRx/Prescriber/NonVeterinarian/Identification/DEANumber": "AB1234563",
        "Body/NewRx/Prescriber/NonVeterinarian/Name/LastName": "Smith",
        "Body/NewRx/Prescriber/NonVeterinarian/Address/City": "Springfield",
        f"{med}/DrugDescription": "Oxycodone Hydrochloride",
        f"{med}/DrugCoded/ProductCode/Code": "00406055262",
        f"{med}/DrugCoded/ProductCode/Qualifier": "ND",
        f"{med}/DrugCoded/Strength/StrengthValue": "5 mg",
        f"{med}/DrugCoded/Strength/StrengthForm/Code": "tablet",
        f"{med}/DrugCoded/DEASchedule/Code": "C48675",
        f"{med}/Quantity/Value": "20",
        f"{med}/Sig/SigText": rx.directions,
        f"{med}/NumberOfRefills": "0",
        f"{med}/WrittenDate/Date": "2026-11-25",
        f"{med}/EffectiveDate/Date": "2026-12-10",
        "Body/NewRx/Pharmacy/Identification/NCPDPID": pharmacy.ncpdp_id,
        "Body/NewRx/Pharmacy/Identification/NPI": pharmacy.npi,
        "Header/To": pharmacy.ncpdp_id,
        "Header/PrescriberOrderNumber": rx.rx_id,
        "Header/DigitalSignature/DigestMethod": "SHA256",
    }
    assert {path: root.findtext(path) for path in expected} == expected
    assert root.get("xmlns") == SCRIPT_NAMESPACE  # the schemas' namespace, as default


@pytest.mark.parametrize("schedule", [Schedule.II_NON_NARCOTIC, Schedule.III_NON_NARCOTIC])
def test_a_non_narcotic_schedule_survives_the_code_list_that_has_none(
    schedule: Schedule,
) -> None:
    rx = sample_prescription()
    drug = dataclasses.replace(rx.drug, schedule=schedule)
    rx = dataclasses.replace(rx, drug=drug, do_not_fill_before=None)
    back = read_newrx(with_signature(build_newrx(rx, sample_pharmacy()), FAKE))
    assert back.prescription.drug.schedule is schedule


def test_the_indicator_alone_reads_as_an_indicator() -> None:
    message = with_signature(
        build_newrx(sample_prescription(), sample_pharmacy()), SignatureIndicator()
    )
    assert read_newrx(message).signature == SignatureIndicator()


def _without(message: bytes, path: str) -> bytes:
    root = parse_xml(message)
    parent_path, _, tag = path.rpartition("/")
    parent = root.find(parent_path)
    assert parent is not None and parent.find(tag) is not None
    parent.remove(parent.find(tag))  # type: ignore[arg-type]
    return ET.tostring(root)


@pytest.mark.parametrize(
    ("path", "field"),
    [(f.xml, ".".join(f.doc)) for f in TABLE.prescription if not f.optional],
)
def test_a_missing_1306_05_element_is_named(path: str, field: str) -> None:
    message = with_signature(build_newrx(sample_prescription(), sample_pharmacy()), FAKE)
    with pytest.raises(NewRxInvalid) as e:
        read_newrx(_without(message, path))
    assert field in {p.field for p in e.value.problems}


def test_an_unknown_schedule_code_is_refused_with_its_reason() -> None:
    message = with_signature(build_newrx(sample_prescription(), sample_pharmacy()), FAKE)
    changed = message.replace(b"C48675", b"C99999")
    with pytest.raises(NewRxInvalid) as e:
        read_newrx(changed)
    assert [p.rule for p in e.value.problems] == ["schedule-code-unknown"]
    assert "C99999" in str(e.value)


def test_a_header_naming_another_pharmacy_than_the_body_is_refused() -> None:
    pharmacy = sample_pharmacy()
    message = with_signature(build_newrx(sample_prescription(), pharmacy), FAKE)
    changed = message.replace(
        f'<To Qualifier="P">{pharmacy.ncpdp_id}</To>'.encode(), b'<To Qualifier="P">9999999</To>'
    )
    assert changed != message
    with pytest.raises(NewRxInvalid, match="another pharmacy"):
        read_newrx(changed)
