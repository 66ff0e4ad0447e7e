"""The checks on each value of a history row, shared by the row reader and the streaming stage.

Each check takes the text of one cell and gives the parsed value or a
:class:`Bad` naming the column and what is wrong. Values repeat (a purchaser, an
NDC, a date appear on thousands of rows), so the checks cache by text; the
streaming stage runs them once per distinct value of a batch.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date

from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.dea import parse_dea_number
from csos_desktop.domain.dea_codes import DEA_CODES, is_controlled_code
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.ndc import parse_ndc
from csos_desktop.domain.untrusted_input import whole_number

#: Most dosage units one history row may record. A billion is far beyond any order, and
#: sums of many such rows stay exact in the int64 and float64 arrays the detectors use.
MAX_DOSAGE_UNITS = 10**9


@dataclass(frozen=True)
class Bad:
    """Why a cell cannot be used: its column and a message the user can act on."""

    column: str
    message: str


@dataclass(frozen=True)
class ProductRef:
    """What a row's NDC and drug code give: the 11-digit NDC, the family, the strength/form."""

    ndc: str
    drug_code: int
    variant: str  # "" when unknown: the strength/form check is skipped


class ValueChecks:
    """Per-value checks with caches, and the notes about NDCs judged by drug code alone."""

    def __init__(self, catalogue: Catalogue, today: date) -> None:
        self.catalogue, self.today = catalogue, today
        self._products: dict[tuple[str, str], ProductRef | Bad] = {}
        self._deas: dict[str, str | Bad] = {}
        self._noted: dict[str, str] = {}  # 11-digit NDC -> why its strength/form is not checked
        self._noted_rows: Counter[str] = Counter()

    def order_id(self, text: str) -> str | Bad:
        value = text.strip()
        return value if value else Bad("order_id", "is empty")

    def date(self, text: str) -> date | Bad:
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            return Bad("order_date", f"{text!r} is not a date like 2025-03-31")
        if day > self.today:
            return Bad("order_date", f"{day} is in the future (today is {self.today})")
        return day

    def dea(self, text: str) -> str | Bad:
        value = text.strip().upper()
        if value not in self._deas:
            try:
                parse_dea_number(value)
                self._deas[value] = value
            except CsosError as exc:
                self._deas[value] = Bad("purchaser_dea", exc.message)
        return self._deas[value]

    def units(self, text: str) -> int | Bad:
        try:
            value = float(text.strip())
        except ValueError:
            return Bad("dosage_units", f"{text[:40]!r} is not a number")
        if not math.isfinite(value):  # 1e400, inf, nan: float() reads them, int() cannot
            return Bad("dosage_units", f"{text.strip()[:40]} is not a finite number")
        if value < 0:
            return Bad("dosage_units", f"{text.strip()} is negative")
        if value == 0:
            return Bad("dosage_units", "is zero; a history row records units ordered")
        if value > MAX_DOSAGE_UNITS:
            return Bad(
                "dosage_units",
                f"{text.strip()[:40]} is more than {MAX_DOSAGE_UNITS:,} units: not a real order",
            )
        if value != int(value):
            return Bad("dosage_units", f"{text.strip()} is not a whole number of units")
        return int(value)

    def product(self, ndc_text: str, code_text: str, rows: int = 1) -> ProductRef | Bad:
        """The row's family by its drug code (authoritative), with the catalogue's strength/form."""
        key = (ndc_text.strip(), code_text.strip())
        found = self._products.get(key)
        if found is None:
            found = self._products[key] = self._lookup(*key)
        if isinstance(found, ProductRef) and found.ndc in self._noted:
            self._noted_rows[found.ndc] += rows
        return found

    def notes(self) -> tuple[str, ...]:
        """One sentence per NDC judged by its drug code alone, with its number of rows."""
        return tuple(
            f"{why} ({self._noted_rows[ndc]} row{'s' if self._noted_rows[ndc] != 1 else ''})"
            for ndc, why in self._noted.items()
        )

    def _lookup(self, ndc_text: str, code_text: str) -> ProductRef | Bad:
        try:
            ndc = parse_ndc(ndc_text)
        except CsosError as exc:
            return Bad("ndc", exc.message)
        code_or_none = whole_number(code_text)  # not isdigit(): '²' is a digit to it
        if code_or_none is None or not is_controlled_code(code_or_none):
            return Bad(
                "drug_code",
                f"{code_text[:40] or 'empty'} is not a DEA controlled-substance code"
                " (21 CFR 1308.11-1308.15), e.g. 9143 for oxycodone",
            )
        code = code_or_none
        family = f"drug code {code} ({DEA_CODES[code].name})"
        product = self.catalogue.product(ndc.digits)
        if product is None:
            self._noted[ndc.digits] = (
                f"NDC {ndc} is not in the product catalogue: judged as {family},"
                " without the strength/form check"
            )
            return ProductRef(ndc.digits, code, "")
        if product.drug_code != code:
            self._noted[ndc.digits] = (
                f"NDC {ndc} is drug code {product.drug_code} ({product.item_name}) in the"
                f" catalogue; the row's {family} is used, without the strength/form check"
            )
            return ProductRef(ndc.digits, code, "")
        return ProductRef(ndc.digits, product.drug_code, product.variant)
