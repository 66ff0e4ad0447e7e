"""National Drug Codes (NDC).

An NDC is printed on the package as 10 digits in three hyphenated segments,
labeler-product-package, in one of the layouts 4-4-2, 5-3-2 or 5-4-1. CSOS
orders carry the 11-digit 5-4-2 form, made by adding a leading zero to the
short segment. Without the hyphens a 10-digit code is ambiguous
(``1234567890`` could be 1234-5678-90, 12345-678-90 or 12345-6789-0, three
different products), so we refuse it instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from csos_desktop.domain.errors import InputError

_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")
_DIGITS = re.compile(r"[0-9]+")

# Segment lengths accepted when hyphenated, and how each pads to 5-4-2.
_LAYOUTS = frozenset({(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)})
_TARGET = (5, 4, 2)


class NdcInvalid(InputError):
    """An NDC that cannot be read."""


@dataclass(frozen=True)
class Ndc:
    """An NDC in its 11-digit 5-4-2 form, e.g. digits ``"12345678901"``."""

    digits: str

    def __post_init__(self) -> None:
        if not isinstance(self.digits, str) or not _ELEVEN_DIGITS.fullmatch(self.digits):
            raise NdcInvalid(
                f"an NDC in 11-digit form must be exactly 11 digits, not {self.digits!r}"
            )

    def __str__(self) -> str:
        return self.formatted

    @property
    def formatted(self) -> str:
        """The 5-4-2 hyphenated form, e.g. ``12345-6789-01``."""
        d = self.digits
        return f"{d[:5]}-{d[5:9]}-{d[9:]}"


def parse_ndc(text: str) -> Ndc:
    """Parse an NDC written 4-4-2, 5-3-2, 5-4-1 or 5-4-2 with hyphens, or 11 digits without."""
    value = text.strip()
    if not value:
        raise NdcInvalid("no NDC given")
    bad = sorted({c for c in value if c != "-" and not ("0" <= c <= "9")})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise NdcInvalid(
            f"NDC {value!r} contains {shown}; an NDC has only digits and hyphens,"
            " e.g. 12345-6789-01"
        )
    if "-" not in value:
        if len(value) == 11:
            return Ndc(value)
        if len(value) == 10:
            raise NdcInvalid(
                f"NDC {value} has 10 digits without hyphens, which could be read three ways;"
                " write it with the hyphens as printed on the package (e.g. 1234-5678-90)"
            )
        raise NdcInvalid(
            f"NDC {value} has {len(value)} digits; an NDC has 10 digits with hyphens as"
            " printed on the package, or 11 digits in the 5-4-2 form"
        )
    segments = value.split("-")
    layout = tuple(len(s) for s in segments)
    if layout not in _LAYOUTS or not all(_DIGITS.fullmatch(s) for s in segments):
        raise NdcInvalid(
            f"NDC {value} is not laid out as 4-4-2, 5-3-2, 5-4-1 or 5-4-2 digits;"
            " copy it as printed on the package, e.g. 12345-6789-01"
        )
    # The short segment gets a leading zero: that is the HIPAA 11-digit form.
    return Ndc("".join(s.zfill(n) for s, n in zip(segments, _TARGET, strict=True)))
