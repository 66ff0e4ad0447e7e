"""1305.22(f): the supplier ships only to the registered location of the signing certificate.

The order's ship-to is the purchaser's address it names (1305.21(b)); the registered
location is the certificate's DEA postal-address extension (``2.16.840.1.101.3.5.6``,
lines separated by ``$``, see ``pki/profile.py``). Pure logic: no I/O.

The comparison (docs/distributor.md "Ship-to"):

- both sides are upper-cased, punctuation becomes a space, runs of spaces collapse, and
  the common USPS street words (Publication 28, e.g. STREET/ST, SUITE/STE, NORTH/N) read
  as their abbreviation, so "120 Main Street" and "120 MAIN ST." are the same street;
- the ship-to street must be one line of the certificate's address, or open one (a
  one-line "street, city, ST ZIP");
- the ship-to city and state must appear, as whole words, in the certificate's other lines;
- the ZIP codes compare on their first five digits (a ZIP+4 on one side only is no
  mismatch).

A certificate with no postal-address extension, or whose extension names no ZIP code,
states no location to compare with: the order is not refused for it, and its record
carries a warning saying the ship-to was not compared (why: docs/distributor.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from csos_desktop.domain.order import Address

REASON_CODE = "ship-to-not-registered-location"

#: USPS Publication 28 abbreviations for the street words that differ most often.
_USPS = {
    "STREET": "ST",
    "AVENUE": "AVE",
    "ROAD": "RD",
    "DRIVE": "DR",
    "BOULEVARD": "BLVD",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "PARKWAY": "PKWY",
    "HIGHWAY": "HWY",
    "SQUARE": "SQ",
    "TERRACE": "TER",
    "CIRCLE": "CIR",
    "SUITE": "STE",
    "APARTMENT": "APT",
    "BUILDING": "BLDG",
    "FLOOR": "FL",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
}
_PUNCT = re.compile(r"[^A-Z0-9 ]+")
_ZIP = re.compile(r"\b(\d{5})(?:\s*-?\s*\d{4})?\b")


def normalise(text: str) -> str:
    """Upper case, punctuation as spaces, single spaces, USPS street abbreviations."""
    words = _PUNCT.sub(" ", text.upper()).split()
    return " ".join(_USPS.get(w, w) for w in words)


def _zip5(text: str) -> str | None:
    found = _ZIP.findall(text)
    return found[-1] if found else None  # the ZIP ends a US address


def _contains(haystack: str, needle: str) -> bool:
    return bool(needle) and f" {needle} " in f" {haystack} "


@dataclass(frozen=True)
class ShipToCheck:
    """``mismatch`` is the refusal message; ``unverified`` the warning; both None: it matches."""

    mismatch: str | None = None
    unverified: str | None = None


def check_ship_to(ship_to: Address, certificate_address: tuple[str, ...]) -> ShipToCheck:
    """Compare the order's ship-to with the certificate's postal-address lines."""
    lines = tuple(line for line in certificate_address if line.strip())
    cert_zip = _zip5(" ".join(lines))
    if cert_zip is None:
        what = "has no postal-address extension" if not lines else "names no ZIP code"
        return ShipToCheck(
            unverified=(
                f"the signing certificate {what}, so the ship-to was not compared with a "
                "registered location (21 CFR 1305.22(f)); confirm the address against the "
                "purchaser's DEA registration before shipping"
            )
        )
    street = normalise(ship_to.street)
    normalised = [normalise(line) for line in lines]
    # The street is a line of its own, or opens a one-line address ("street, city, ST ZIP").
    at = next((i for i, n in enumerate(normalised) if f"{n} ".startswith(f"{street} ")), None)
    if at is not None:
        normalised[at] = normalised[at][len(street) :]
    rest = " ".join(normalised)
    problems = []
    if at is None:
        problems.append(f"street {ship_to.street!r}")
    if not _contains(rest, normalise(ship_to.city)):
        problems.append(f"city {ship_to.city!r}")
    if not _contains(rest, normalise(ship_to.state)):
        problems.append(f"state {ship_to.state!r}")
    if _zip5(ship_to.postal_code) != cert_zip:
        problems.append(f"ZIP code {ship_to.postal_code!r}")
    if not problems:
        return ShipToCheck()
    return ShipToCheck(
        mismatch=(
            "the order ships to an address that is not the registered location in the "
            f"signing certificate ({', '.join(problems)} not in "
            f"{' / '.join(lines)!r}); a supplier ships only to the registered location "
            "of the certificate that signed the order (21 CFR 1305.22(f))"
        )
    )
