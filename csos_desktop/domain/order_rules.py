"""Field rules of a CSOS order (21 CFR 1305.21) and the problems they report.

Every check takes the raw value (``object``) so the same rule serves a JSON
document, the CLI input and an ``Order`` built in code; a wrong type is a
problem for the user to fix, never a crash.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from csos_desktop.domain.dea import DeaNumber, DeaNumberInvalid, DeaRule, parse_dea_number
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.ndc import Ndc, NdcInvalid, parse_ndc
from csos_desktop.domain.schedule import Schedule

#: Largest integer JSON carries exactly (RFC 8785 refuses bigger ones).
MAX_JSON_INT = 2**53 - 1

# 1305.21(b)(1): last two digits of the year, "X", six purchaser-chosen characters.
_ORDER_NUMBER = re.compile(r"([0-9]{2})X[0-9A-Z]{6}")
_ZIP = re.compile(r"[0-9]{5}(-[0-9]{4})?")

# USPS two-letter codes (USPS Publication 28, Appendix B): the 50 states, DC,
# the territories, the freely associated states and the military "states" of
# APO/FPO/DPO addresses. The list is generous on purpose: refusing a genuine
# address would block an order, while a typo like "OJ" is still caught.
# fmt: off
US_STATE_CODES: frozenset[str] = frozenset((
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL",
    "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT",
    "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI",
    "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    "DC", "AS", "GU", "MP", "PR", "VI", "FM", "MH", "PW",  # district, territories, associated
    "AA", "AE", "AP",  # military
))
# fmt: on

_DEA_RULE_CODES = {
    DeaRule.FORMAT: "dea-format",
    DeaRule.REGISTRANT_TYPE: "dea-registrant-type",
    DeaRule.CHECK_DIGIT: "dea-check-digit",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an order: where (``lines[2].ndc``), which rule, and why."""

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class DocumentInvalid(InputError):
    """A document that breaks one or more rules; ``problems`` lists every one."""

    noun = "document"

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        count = len(problems)
        heading = (
            f"the {self.noun} has 1 problem:"
            if count == 1
            else f"the {self.noun} has {count} problems:"
        )
        super().__init__("\n".join([heading, *(str(p) for p in problems)]))
        self.problems = problems


class OrderInvalid(DocumentInvalid):
    """An order that breaks one or more rules."""

    noun = "order"


class Problems:
    """Collects problems so validation reports all of them at once."""

    def __init__(self, error: type[DocumentInvalid] = OrderInvalid) -> None:
        self.items: list[Problem] = []
        self.error = error

    def add(self, field: str, rule: str, message: str) -> None:
        self.items.append(Problem(field, rule, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise self.error(tuple(self.items))


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Missing:
    """A key that is absent; its "missing" problem has already been reported."""

    def __repr__(self) -> str:
        return "MISSING"


#: Stand-in for an absent key, so one absent field gives one problem, not two.
MISSING: object = _Missing()


def wrong_type(p: Problems, field: str, value: object, expected: str) -> None:
    if value is MISSING:
        return
    p.add(field, "wrong-type", f"must be {expected}, not {_type_name(value)}")


#: Unicode categories Cc (C0, DEL, C1: fixed since Unicode 1.1) and Cs (surrogates), as
#: one character class: a regex scans a field at C speed, a per-character lookup does not.
_CONTROL_OR_SURROGATE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def check_text(p: Problems, field: str, value: object) -> str | None:
    """Non-blank text without control characters (they could hide content on screen)."""
    if not isinstance(value, str):
        wrong_type(p, field, value, "text")
        return None
    if not value.strip():
        p.add(field, "empty-text", "must not be empty")
        return None
    if _CONTROL_OR_SURROGATE.search(value):
        p.add(field, "text-control-char", "must not contain control characters or line breaks")
        return None
    return value


def check_positive_int(p: Problems, field: str, value: object, meaning: str) -> int | None:
    """A whole number from 1 up; true/false and decimals are refused, not converted."""
    if isinstance(value, bool) or not isinstance(value, int):
        wrong_type(p, field, value, f"a whole number ({meaning})")
        return None
    if value < 1:
        p.add(field, "positive-integer", f"must be at least 1 ({meaning}), not {value}")
        return None
    if value > MAX_JSON_INT:
        p.add(field, "positive-integer", f"is too large ({meaning})")
        return None
    return value


def check_order_number(
    p: Problems, field: str, value: object, date_signed: date | None
) -> str | None:
    """1305.21(b)(1): ``YYX`` + six characters; YY is the year the order is signed."""
    if not isinstance(value, str):
        wrong_type(p, field, value, "text")
        return None
    m = _ORDER_NUMBER.fullmatch(value)
    if m is None:
        p.add(
            field,
            "order-number-format",
            f"order number {value!r} must be 9 characters: the last two digits of the year,"
            " X, then six digits or capital letters (e.g. 26X000123)",
        )
        return None
    if date_signed is not None and m.group(1) != f"{date_signed.year % 100:02d}":
        prefix = f"{date_signed.year % 100:02d}X"
        p.add(
            field,
            "order-number-year",
            f"order number {value} starts with {m.group(1)}X but the order is signed in"
            f" {date_signed.year}; use an order number starting with {prefix}",
        )
        return None
    return value


def next_order_number(year: int, sequence: int) -> str:
    """The order number for the ``sequence``-th order of ``year``, e.g. (2026, 123) → 26X000123."""
    if not 1 <= sequence <= 999_999:
        raise ValueError(f"order sequence must be 1..999999, not {sequence}")
    if year < 1:
        raise ValueError(f"invalid year {year}")
    return f"{year % 100:02d}X{sequence:06d}"


def check_state(p: Problems, field: str, value: object) -> str | None:
    if not isinstance(value, str):
        wrong_type(p, field, value, "text")
        return None
    if value not in US_STATE_CODES:
        p.add(
            field,
            "state-code",
            f"{value!r} is not a US state or territory code; use the two capital letters"
            " of the postal abbreviation, e.g. OH",
        )
        return None
    return value


def check_postal_code(p: Problems, field: str, value: object) -> str | None:
    if not isinstance(value, str):
        wrong_type(p, field, value, "text")
        return None
    if not _ZIP.fullmatch(value):
        p.add(field, "postal-code", f"ZIP code {value!r} must be 5 digits or ZIP+4 (12345-6789)")
        return None
    return value


def check_dea(p: Problems, field: str, value: object, *, lenient: bool) -> DeaNumber | None:
    """A valid DEA number; ``lenient`` accepts lower case and spaces around it (user input)."""
    if isinstance(value, DeaNumber):
        return value
    if not isinstance(value, str):
        wrong_type(p, field, value, "text")
        return None
    try:
        dea = parse_dea_number(value) if lenient else DeaNumber(value)
    except DeaNumberInvalid as e:
        p.add(field, _DEA_RULE_CODES[e.rule], e.message)
        return None
    return dea


def check_ndc(p: Problems, field: str, value: object, *, lenient: bool) -> Ndc | None:
    """An NDC; ``lenient`` accepts every printed form, strict only the 11 digits of a document."""
    if isinstance(value, Ndc):
        return value
    if not isinstance(value, str):
        wrong_type(p, field, value, "text")
        return None
    try:
        return parse_ndc(value) if lenient else Ndc(value)
    except NdcInvalid as e:
        p.add(field, "ndc-format", e.message)
        return None


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def check_order_id(p: Problems, field: str, value: object, *, lenient: bool) -> str | None:
    """A UUID; a document holds its canonical lower-case hyphenated text."""
    if not isinstance(value, str):
        wrong_type(p, field, value, "text (a UUID)")
        return None
    if _CANONICAL_UUID.fullmatch(value):
        return value
    if lenient:
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
    p.add(
        field,
        "order-id-format",
        f"{value!r} is not a UUID in lower-case hyphenated form"
        " (e.g. 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b)",
    )
    return None


def check_timestamp(p: Problems, field: str, value: object) -> datetime | None:
    """An aware UTC datetime in whole seconds, the precision the document carries."""
    if not isinstance(value, datetime):
        wrong_type(p, field, value, "a date and time")
        return None
    offset = value.utcoffset()
    if offset is None or offset != timedelta(0) or value.microsecond:
        p.add(field, "created-at-format", "must be a UTC time in whole seconds")
        return None
    return value


def parse_timestamp(p: Problems, field: str, value: object, *, lenient: bool) -> datetime | None:
    """``2026-11-25T12:00:00Z``; ``lenient`` takes any ISO 8601 time with a UTC offset."""
    if not isinstance(value, str):
        wrong_type(p, field, value, "text (a date and time such as 2026-11-25T12:00:00Z)")
        return None
    try:
        if _TIMESTAMP.fullmatch(value):
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if lenient:
            parsed = datetime.fromisoformat(value.strip())
            if parsed.utcoffset() is not None:
                return parsed.astimezone(UTC).replace(microsecond=0)
    except ValueError:
        pass
    p.add(
        field,
        "created-at-format",
        f"{value!r} must be a UTC date and time written like 2026-11-25T12:00:00Z",
    )
    return None


def parse_date(p: Problems, field: str, value: object) -> date | None:
    """A calendar date written ``2026-11-25``."""
    if not isinstance(value, str):
        wrong_type(p, field, value, "text (a date such as 2026-11-25)")
        return None
    try:
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    p.add(field, "date-format", f"{value!r} must be a date written like 2026-11-25")
    return None


def check_schedule(
    p: Problems, field: str, value: object, *, lenient: bool
) -> tuple[bool, Schedule | None]:
    """(ok, schedule): null for a non-controlled item, else one of "1" "2" "2N" "3" "3N" "4" "5".

    ``lenient`` also takes Roman numerals ("II", "IIIN") and whole numbers (2).
    """
    if value is None or isinstance(value, Schedule):
        return True, value
    if lenient and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        wrong_type(p, field, value, 'text (a schedule such as "2") or null')
        return False, None
    try:
        if lenient:
            return True, Schedule.parse(value)
        return True, Schedule(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Schedule)
        p.add(
            field,
            "schedule-unknown",
            f"{value!r} is not a DEA schedule; use one of {allowed}, or null for an item"
            " that is not controlled",
        )
        return False, None
