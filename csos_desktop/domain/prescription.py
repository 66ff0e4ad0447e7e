"""Controlled-substance e-prescriptions: the ``csos-rx/1`` document (21 CFR 1306.05, 1306.12).

What is signed is the RFC 8785 canonical form of :meth:`Prescription.to_document`.
After signing nothing may change it (1311.120(b)): the signed bytes are kept
and any change shows as ``digest-mismatch`` at the pharmacy.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from csos_desktop.domain.ndc import Ndc, NdcInvalid, parse_ndc
from csos_desktop.domain.order import Address, Party, format_timestamp
from csos_desktop.domain.order_rules import (
    DocumentInvalid,
    Problem,
    Problems,
    check_order_id,
    check_positive_int,
    check_schedule,
    parse_date,
    parse_timestamp,
    wrong_type,
)
from csos_desktop.domain.reading import DocumentReader, get
from csos_desktop.domain.schedule import Schedule

SCHEMA = "csos-rx/1"

#: 1306.22(a): schedule III and IV prescriptions may be refilled at most five times.
MAX_REFILLS_III_IV = 5
#: 1306.12(b)(1): multiple schedule II prescriptions cover at most a 90-day supply.
MAX_DO_NOT_FILL_DAYS = 90
#: DEA-number letters of registrants who may prescribe (practitioners, mid-levels).
PRESCRIBER_LETTERS = frozenset("ABFGMX")

_KEYS = frozenset(
    {
        "schema",
        "date_of_issue",
        "patient",
        "drug",
        "quantity",
        "directions",
        "refills",
        "practitioner",
    }
)
_OPTIONAL = frozenset({"do_not_fill_before"})
_IDS = frozenset({"rx_id", "created_at"})
_PATIENT_KEYS = frozenset({"name", "address"})
_DRUG_KEYS = frozenset({"name", "strength", "dosage_form", "schedule"})
#: The NDC is optional in ``csos-rx/1`` (1306.05 names the drug, not its code); a NewRx
#: carries it in ``DrugCoded/ProductCode`` when the practitioner chose a product.
_DRUG_OPTIONAL = frozenset({"ndc"})


class PrescriptionInvalid(DocumentInvalid):
    """A prescription that breaks one or more rules."""

    noun = "prescription"


@dataclass(frozen=True)
class Patient:
    name: str
    address: Address

    def to_document(self) -> dict[str, object]:
        return {"name": self.name, "address": self.address.to_document()}


@dataclass(frozen=True)
class Drug:
    name: str
    strength: str
    dosage_form: str
    schedule: Schedule
    ndc: Ndc | None = None

    def to_document(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "name": self.name,
            "strength": self.strength,
            "dosage_form": self.dosage_form,
            "schedule": self.schedule.value,
        }
        if self.ndc is not None:
            doc["ndc"] = self.ndc.digits
        return doc


@dataclass(frozen=True)
class Prescription:
    """One prescription for one patient, as the practitioner reviews and signs it."""

    rx_id: str
    created_at: datetime
    date_of_issue: date
    patient: Patient
    drug: Drug
    quantity: int
    directions: str
    refills: int
    practitioner: Party
    do_not_fill_before: date | None = None

    def __post_init__(self) -> None:
        p = Problems(PrescriptionInvalid)
        check_rules(p, self)
        p.raise_if_any()

    def to_document(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "schema": SCHEMA,
            "rx_id": self.rx_id,
            "created_at": format_timestamp(self.created_at),
            "date_of_issue": self.date_of_issue.isoformat(),
            "patient": self.patient.to_document(),
            "drug": self.drug.to_document(),
            "quantity": self.quantity,
            "directions": self.directions,
            "refills": self.refills,
            "practitioner": self.practitioner.to_document(),
        }
        if self.do_not_fill_before is not None:
            doc["do_not_fill_before"] = self.do_not_fill_before.isoformat()
        return doc

    @classmethod
    def from_document(cls, doc: Mapping[str, object]) -> Prescription:
        """Read a signed ``csos-rx/1`` document strictly; raises PrescriptionInvalid."""
        return read_prescription(doc, lenient=False)

    def review_lines(self) -> list[str]:
        """What 1311.120(b)(9) requires the practitioner to see before signing."""
        p, d = self.patient, self.drug
        lines = [
            f"Date of issue:  {self.date_of_issue.isoformat()}",
            f"Patient:        {p.name}, {_address(p.address)}",
            f"Drug:           {d.name} {d.strength} {d.dosage_form} ({d.schedule.label})",
            f"Quantity:       {self.quantity}",
            f"Directions:     {self.directions}",
            f"Refills:        {self.refills}",
        ]
        if self.do_not_fill_before is not None:
            lines.append(f"Do not fill before: {self.do_not_fill_before.isoformat()}")
        pr = self.practitioner
        lines.append(
            f"Practitioner:   {pr.name}, DEA {pr.dea_number.value}, {_address(pr.address)}"
        )
        return lines


def _address(a: Address) -> str:
    return f"{a.street}, {a.city}, {a.state} {a.postal_code}"


def check_rules(p: Problems, rx: Prescription) -> None:
    """Rules across fields (1306.05, 1306.12, 1306.22)."""
    schedule = rx.drug.schedule
    if schedule is Schedule.I:
        p.add(
            "drug.schedule",
            "schedule-i-not-prescribable",
            "schedule I substances have no accepted medical use and cannot be prescribed",
        )
    schedule_ii = schedule in (Schedule.II, Schedule.II_NON_NARCOTIC)
    if rx.refills < 0:
        p.add("refills", "refills-negative", "must be 0 or more")
    elif schedule_ii and rx.refills:
        p.add(
            "refills",
            "refills-schedule-ii",
            "a schedule II prescription may not be refilled (21 CFR 1306.12(a)); "
            "issue separate prescriptions with do-not-fill-before dates instead",
        )
    elif (
        schedule in (Schedule.III, Schedule.III_NON_NARCOTIC, Schedule.IV)
        and rx.refills > MAX_REFILLS_III_IV
    ):
        p.add(
            "refills",
            "refills-too-many",
            f"schedule III and IV prescriptions allow at most {MAX_REFILLS_III_IV} refills "
            "(21 CFR 1306.22(a))",
        )
    if rx.do_not_fill_before is not None:
        if not schedule_ii:
            p.add(
                "do_not_fill_before",
                "do-not-fill-not-schedule-ii",
                "do-not-fill-before dates are for multiple schedule II prescriptions "
                "(21 CFR 1306.12(b)) only",
            )
        elif rx.do_not_fill_before < rx.date_of_issue:
            p.add(
                "do_not_fill_before",
                "do-not-fill-before-issue",
                "must be on or after the date of issue",
            )
        elif rx.do_not_fill_before > rx.date_of_issue + timedelta(days=MAX_DO_NOT_FILL_DAYS):
            p.add(
                "do_not_fill_before",
                "do-not-fill-beyond-90-days",
                f"multiple schedule II prescriptions may cover at most a "
                f"{MAX_DO_NOT_FILL_DAYS}-day supply (21 CFR 1306.12(b)(1))",
            )
    letter = rx.practitioner.dea_number.registrant_type
    if letter not in PRESCRIBER_LETTERS:
        kind = rx.practitioner.dea_number.registrant_type_name
        p.add(
            "practitioner.dea_number",
            "dea-not-a-prescriber",
            f"a DEA number starting with {letter} ({kind}) does not belong to a "
            "practitioner who may prescribe",
        )


class _RxReader(DocumentReader):
    def __init__(self, lenient: bool) -> None:
        super().__init__(SCHEMA, lenient, Problems(PrescriptionInvalid))

    def patient(self, value: object) -> Patient | None:
        m = self.members("patient", value, _PATIENT_KEYS)
        if m is None:
            return None
        name = self.text("patient.name", get(m, "name"))
        address = self.address("patient.address", get(m, "address"))
        return Patient(name, address) if name is not None and address is not None else None

    def drug(self, value: object) -> Drug | None:
        m = self.members("drug", value, _DRUG_KEYS, _DRUG_OPTIONAL)
        if m is None:
            return None
        ndc = self.ndc(m["ndc"]) if "ndc" in m else None
        name = self.text("drug.name", get(m, "name"))
        strength = self.text("drug.strength", get(m, "strength"))
        form = self.text("drug.dosage_form", get(m, "dosage_form"))
        ok, schedule = check_schedule(
            self.p, "drug.schedule", get(m, "schedule"), lenient=self.lenient
        )
        if ok and schedule is None:
            self.p.add(
                "drug.schedule",
                "schedule-required",
                "an electronic prescription under 21 CFR 1311 is for a controlled "
                "substance: give its schedule (2, 2N, 3, 3N, 4 or 5)",
            )
        if name is None or strength is None or form is None or schedule is None:
            return None
        return Drug(name, strength, form, schedule, ndc)

    def ndc(self, value: object) -> Ndc | None:
        if not isinstance(value, str):
            wrong_type(self.p, "drug.ndc", value, "text (an 11-digit NDC)")
            return None
        try:
            return parse_ndc(value) if self.lenient else Ndc(value)
        except NdcInvalid as e:
            self.p.add("drug.ndc", "ndc-invalid", str(e))
            return None

    def refills(self, value: object) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            wrong_type(self.p, "refills", value, "a whole number (0 for none)")
            return None
        return value


def read_prescription(
    data: object,
    *,
    lenient: bool,
    default_id: Callable[[], str] | None = None,
    default_created_at: datetime | None = None,
) -> Prescription:
    """Read a prescription document (strict) or input (lenient); raises PrescriptionInvalid."""
    r = _RxReader(lenient)
    p = r.p
    m = r.members(
        "", data, _KEYS if lenient else _KEYS | _IDS, _OPTIONAL | (_IDS if lenient else frozenset())
    )
    if m is None:
        p.raise_if_any()
        raise AssertionError("unreachable: a non-object is always a problem")
    if "schema" in m and m["schema"] != SCHEMA:
        p.add("schema", "schema-version", f"must be {SCHEMA!r}, not {m['schema']!r}")
    rx_id = (
        check_order_id(p, "rx_id", m["rx_id"], lenient=lenient)
        if "rx_id" in m
        else default_id()
        if default_id
        else None
    )
    created_at = (
        parse_timestamp(p, "created_at", m["created_at"], lenient=lenient)
        if "created_at" in m
        else default_created_at
    )
    issued = parse_date(p, "date_of_issue", get(m, "date_of_issue"))
    not_before = (
        parse_date(p, "do_not_fill_before", m["do_not_fill_before"])
        if "do_not_fill_before" in m
        else None
    )
    patient = r.patient(get(m, "patient"))
    drug = r.drug(get(m, "drug"))
    quantity = check_positive_int(p, "quantity", get(m, "quantity"), "quantity prescribed")
    directions = r.text("directions", get(m, "directions"))
    refills = r.refills(get(m, "refills"))
    practitioner = r.party("practitioner", get(m, "practitioner"))
    p.raise_if_any()
    assert rx_id is not None and created_at is not None and issued is not None
    assert patient is not None and drug is not None and quantity is not None
    assert directions is not None and refills is not None and practitioner is not None
    return Prescription(
        rx_id,
        created_at,
        issued,
        patient,
        drug,
        quantity,
        directions,
        refills,
        practitioner,
        not_before,
    )


def parse_prescription_input(
    data: Mapping[str, object],
    *,
    now: datetime,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> Prescription:
    """The CLI/GUI input form; fills rx_id and created_at; refuses a future date of issue."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC).replace(microsecond=0)
    rx = read_prescription(data, lenient=True, default_id=new_id, default_created_at=now)
    if rx.date_of_issue > now.date():
        raise PrescriptionInvalid(
            (
                Problem(
                    "date_of_issue",
                    "date-of-issue-future",
                    "must not be in the future: a prescription is dated the day it is signed",
                ),
            )
        )
    return rx
