"""DEA registration numbers: format, registrant type and check digit.

A DEA number is two characters and seven digits, e.g. ``AB1234563``:

- the first letter is the registrant type (table below);
- the second character is usually the first letter of the registrant's last or
  business name. DEA uses the digit ``9`` there for registrants registered under
  a business address rather than a personal name (e.g. ``F91234563``), so we
  accept a letter or ``9`` — refusing it would block genuine registrations;
- the last digit is a check digit: (d1 + d3 + d5) + 2 × (d2 + d4 + d6) ends in d7.

Suffixes some hospitals append for supervised prescribers (``F91234563-001AB``)
are not part of the DEA number and are refused here: a CSOS order carries the
registrant's own number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from csos_desktop.domain.errors import InputError

# Registrant type = first letter of the DEA number.
# Source: DEA Diversion Control Division, "DEA Registration Record Layout"
# (CSA registrant database file, revised 2016/2017), section "Registrant type
# (first letter of DEA Number)": A/B/F/G, M, P/R; plus X, the identifier DEA
# issued to DATA-waived buprenorphine prescribers (the waiver ended in 2023 with
# the MAT Act, but X numbers still appear on older records).
# Letters such as C, D, E, H, J, K, L, N, S, T, U are DEA *business activity*
# codes (a separate field of the registration record), not DEA number prefixes.
# Keep this the only table: a correction is one edit.
REGISTRANT_TYPES: dict[str, str] = {
    "A": "practitioner / pharmacy / hospital / teaching institution",
    "B": "practitioner / pharmacy / hospital / teaching institution",
    "F": "practitioner / pharmacy / hospital / teaching institution",
    "G": "practitioner / pharmacy / hospital / teaching institution",
    "M": "mid-level practitioner",
    "P": (
        "manufacturer / distributor / researcher / analytical lab / importer / exporter"
        " / reverse distributor / narcotic treatment program"
    ),
    "R": (
        "manufacturer / distributor / researcher / analytical lab / importer / exporter"
        " / reverse distributor / narcotic treatment program"
    ),
    "X": "buprenorphine (DATA-waiver) prescriber",
}

_FORMAT = re.compile(r"[A-Z][A-Z9][0-9]{7}")


class DeaRule(Enum):
    """Which rule a DEA number broke."""

    FORMAT = "format"
    REGISTRANT_TYPE = "registrant-type"
    CHECK_DIGIT = "check-digit"


class DeaNumberInvalid(InputError):
    """A DEA number that is not a valid registration number."""

    def __init__(self, message: str, rule: DeaRule) -> None:
        super().__init__(message)
        self.rule = rule


def expected_check_digit(six_digits: str) -> int:
    """The check digit for the six digits after the two letters."""
    d = [int(c) for c in six_digits]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10


def _describe_types() -> str:
    by_name: dict[str, list[str]] = {}
    for letter, name in REGISTRANT_TYPES.items():
        by_name.setdefault(name, []).append(letter)
    return "; ".join(f"{', '.join(letters)} ({name})" for name, letters in by_name.items())


def _check(value: str) -> None:
    """Raise DeaNumberInvalid unless ``value`` is a valid DEA number in canonical form."""
    if not value:
        raise DeaNumberInvalid("no DEA number given", DeaRule.FORMAT)
    if not _FORMAT.fullmatch(value):
        raise DeaNumberInvalid(
            f"DEA number {value!r} is not in the DEA format: two letters (the second may"
            " be 9) followed by seven digits, e.g. AB1234563",
            DeaRule.FORMAT,
        )
    if value[0] not in REGISTRANT_TYPES:
        raise DeaNumberInvalid(
            f"DEA number {value}: the first letter {value[0]} is not a DEA registrant type;"
            f" DEA numbers start with {_describe_types()}",
            DeaRule.REGISTRANT_TYPE,
        )
    expected = expected_check_digit(value[2:8])
    actual = int(value[8])
    if expected != actual:
        raise DeaNumberInvalid(
            f"DEA number {value}: check digit should be {expected}, not {actual}"
            " (digits 1+3+5 plus twice digits 2+4+6 must end in the last digit);"
            " check for a mistyped digit",
            DeaRule.CHECK_DIGIT,
        )


@dataclass(frozen=True)
class DeaNumber:
    """A valid DEA registration number, upper case, e.g. ``AB1234563``."""

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise DeaNumberInvalid("a DEA number must be text", DeaRule.FORMAT)
        _check(self.value)

    def __str__(self) -> str:
        return self.value

    @property
    def registrant_type(self) -> str:
        """The registrant-type letter (first character)."""
        return self.value[0]

    @property
    def registrant_type_name(self) -> str:
        """What the first letter says about the registrant, e.g. "mid-level practitioner"."""
        return REGISTRANT_TYPES[self.registrant_type]


def parse_dea_number(text: str) -> DeaNumber:
    """Parse a DEA number as typed by a user (surrounding spaces and case ignored)."""
    return DeaNumber(text.strip().upper())
