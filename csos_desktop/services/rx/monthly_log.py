"""The monthly log of a practitioner's controlled-substance prescriptions (1311.120(b)(27)).

Read from the signed bytes (what the pharmacy received), one line per prescription signed
in the month on the practice's calendar, sortable by patient, drug or date, and written as
CSV a spreadsheet opens.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.prescription import Prescription
from csos_desktop.store.local_store import Store
from csos_desktop.store.prescriptions import SignedRx

_MONTH = re.compile(r"(\d{4})-(\d{2})")
COLUMNS = (
    "date_signed",
    "patient",
    "drug",
    "schedule",
    "quantity",
    "practitioner",
    "practitioner_dea",
    "rx_id",
)


class LogOrder(StrEnum):
    """How the log is sorted: each is one of the sorts 1311.120(b)(27) asks for."""

    PATIENT = "patient"
    DRUG = "drug"
    DATE = "date"


@dataclass(frozen=True)
class LogLine:
    date_signed: date
    patient: str
    drug: str
    schedule: str
    quantity: str
    practitioner: str
    practitioner_dea: str
    rx_id: str

    def row(self) -> list[str]:
        return [
            self.date_signed.isoformat(),
            self.patient,
            self.drug,
            self.schedule,
            self.quantity,
            self.practitioner,
            self.practitioner_dea,
            self.rx_id,
        ]


def parse_month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` as (year, month); InputError otherwise."""
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InputError(f"Give the month as YYYY-MM (e.g. 2026-11), not {text!r}.")
    return int(match.group(1)), int(match.group(2))


def monthly_log(
    store: Store,
    month: str,
    *,
    practitioner_dea: str | None = None,
    order: LogOrder = LogOrder.DATE,
) -> list[LogLine]:
    """The prescriptions signed in *month* (by *practitioner_dea*, or all), sorted."""
    lines = [log_line(signed) for signed in signed_in_month(store, month)]
    if practitioner_dea is not None:
        lines = [ln for ln in lines if ln.practitioner_dea == practitioner_dea]
    return sort_lines(lines, order)


def log_line(signed: SignedRx) -> LogLine:
    """The log's line for one signed prescription, read from the signed bytes."""
    rx = Prescription.from_document(load_document(signed.document))
    return LogLine(
        signed_day(signed),
        rx.patient.name,
        f"{rx.drug.name} {rx.drug.strength} {rx.drug.dosage_form}",
        rx.drug.schedule.value,
        str(rx.quantity),
        rx.practitioner.name,
        rx.practitioner.dea_number.value,
        rx.rx_id,
    )


def sort_lines(lines: list[LogLine], order: LogOrder) -> list[LogLine]:
    """*lines* sorted by patient, drug or date (then date and id, so the order is stable)."""
    key = {
        LogOrder.PATIENT: lambda ln: (ln.patient.casefold(), ln.date_signed, ln.rx_id),
        LogOrder.DRUG: lambda ln: (ln.drug.casefold(), ln.date_signed, ln.rx_id),
        LogOrder.DATE: lambda ln: (ln.date_signed, ln.patient.casefold(), ln.rx_id),
    }[order]
    return sorted(lines, key=key)


def signed_in_month(store: Store, month: str) -> list[SignedRx]:
    """The signed prescriptions (exact bytes and signatures) of *month*, oldest first."""
    year, number = parse_month(month)
    out = []
    for signed in store.prescriptions.all_signed():
        day = signed_day(signed)
        if (day.year, day.month) == (year, number):
            out.append(signed)
    return out


def signed_between(store: Store, first: date | None, last: date | None) -> list[SignedRx]:
    """The signed prescriptions whose local signing day is in [*first*, *last*] (open ends)."""
    return [
        signed
        for signed in store.prescriptions.all_signed()
        if (first is None or signed_day(signed) >= first)
        and (last is None or signed_day(signed) <= last)
    ]


def signed_day(signed: SignedRx) -> date:
    """The practice's calendar day the prescription was signed on."""
    return local_date(datetime.fromisoformat(signed.signed_at.replace("Z", "+00:00")))


def read_csv(text: str) -> list[LogLine]:
    """The lines of a log written by :func:`log_csv` (a stored monthly log, re-sorted)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise InputError("This is not a monthly prescription log (its header is not ours).")
    return [LogLine(date.fromisoformat(r[0]), *r[1:]) for r in rows[1:]]


def log_csv(lines: list[LogLine]) -> str:
    """The log as CSV with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(ln.row() for ln in lines)
    return out.getvalue()
