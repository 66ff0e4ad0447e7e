"""The FDA NDC Directory (product.txt and package.txt) read into catalogue products.

The FDA publishes two tab-separated files with a header row: one row per
product (``PRODUCTNDC``, names, dosage form, ``SUBSTANCENAME`` — ingredients
separated by "; " — their strengths, ``DEASCHEDULE`` CI..CV, ...) and one row
per package (``NDCPACKAGECODE``, ``PACKAGEDESCRIPTION`` such as "100 TABLET in 1
BOTTLE (0093-0058-01)", nested packages joined by " > "). What we take:

- controlled products only: a product without ``DEASCHEDULE`` is not imported;
- the schedule from ``DEASCHEDULE``, narcotic or not from the drug code;
- the package size: the count of a countable package ("10 BLISTER PACK in 1
  CARTON > 10 TABLET in 1 BLISTER PACK" is 100 tablets), otherwise the volume or
  mass with its unit ("473 mL in 1 BOTTLE" is 473 mL);
- the DEA drug code from the active ingredients (:mod:`csos_desktop.domain.dea_codes`);
  products whose ingredients the table does not know are listed, not guessed.

Pure: it reads decoded lines, not files.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from csos_desktop.domain.catalogue import Product
from csos_desktop.domain.dea_codes import DEA_CODES, code_of_ingredient, code_of_product
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.domain.ndc import parse_ndc
from csos_desktop.domain.schedule import Schedule

PRODUCT_COLUMNS = (
    "PRODUCTID",
    "PRODUCTNDC",
    "PRODUCTTYPENAME",
    "PROPRIETARYNAME",
    "PROPRIETARYNAMESUFFIX",
    "NONPROPRIETARYNAME",
    "DOSAGEFORMNAME",
    "ROUTENAME",
    "STARTMARKETINGDATE",
    "ENDMARKETINGDATE",
    "MARKETINGCATEGORYNAME",
    "APPLICATIONNUMBER",
    "LABELERNAME",
    "SUBSTANCENAME",
    "ACTIVE_NUMERATOR_STRENGTH",
    "ACTIVE_INGRED_UNIT",
    "PHARM_CLASSES",
    "DEASCHEDULE",
    "NDC_EXCLUDE_FLAG",
    "LISTING_RECORD_CERTIFIED_THROUGH",
)
PACKAGE_COLUMNS = (
    "PRODUCTID",
    "PRODUCTNDC",
    "NDCPACKAGECODE",
    "PACKAGEDESCRIPTION",
    "STARTMARKETINGDATE",
    "ENDMARKETINGDATE",
    "NDC_EXCLUDE_FLAG",
    "SAMPLE_PACKAGE",
)
# The columns the import needs (the FDA has added columns over the years; extra ones are fine).
_NEEDED_PRODUCT = (
    "PRODUCTID",
    "PRODUCTNDC",
    "PROPRIETARYNAME",
    "NONPROPRIETARYNAME",
    "DOSAGEFORMNAME",
    "SUBSTANCENAME",
    "ACTIVE_NUMERATOR_STRENGTH",
    "ACTIVE_INGRED_UNIT",
    "DEASCHEDULE",
)
_NEEDED_PACKAGE = ("PRODUCTID", "NDCPACKAGECODE", "PACKAGEDESCRIPTION")
_LEVELS = {"CI": 1, "CII": 2, "CIII": 3, "CIV": 4, "CV": 5}
# Units of a package level that are a volume or a mass: the size is stated in them.
_MEASURES = {"ML", "L", "G", "MG", "KG", "MCG", "OZ", "FL OZ", "LB"}
# "100 TABLET, FILM COATED in 1 BOTTLE (0093-0058-01)": quantity, unit, container.
_LEVEL = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s+(.+?)\s+in\s+([0-9]*\.?[0-9]+)\s+(.+?)\s*$", re.I)
#: Most dosage units (or mL, g...) one package may hold: far above any real package, and
#: bounded where it is read, so a crafted description never reaches int() or the store.
MAX_PACKAGE_SIZE = 10**7
_SHOWN_CHARS = 80
_PACKAGE_NDC = re.compile(r"\s*\([0-9-]+\)\s*$")


class DirectoryInvalid(InputError):
    """A file that is not in the FDA NDC Directory layout."""


@dataclass(frozen=True)
class PackageSize:
    """Dosage units in one package: a count (``unit`` TABLET, VIAL, KIT ...) or a measure (mL)."""

    quantity: int
    unit: str


@dataclass(frozen=True)
class Skipped:
    """A package or product not imported, and why (shown to the user)."""

    ndc: str
    name: str
    reason: str


@dataclass(frozen=True)
class DirectoryImport:
    """The controlled products found, what was skipped, and ingredients with no known code."""

    products: tuple[Product, ...]
    package_units: Mapping[str, str]  # 11-digit NDC -> unit of its package size
    skipped: tuple[Skipped, ...]
    unknown_ingredients: Mapping[str, int]  # SUBSTANCENAME -> products
    not_controlled: int  # products without DEASCHEDULE


def package_size(description: str) -> PackageSize | None:
    """Units per package from a PACKAGEDESCRIPTION; None when it states no whole number.

    Levels are read outside in; counts multiply until a level is a volume or a
    mass, which ends the chain ("25 VIAL in 1 CARTON > 1 mL in 1 VIAL" is 25
    vials; "473 mL in 1 BOTTLE" is 473 mL).
    """
    total = 1.0
    unit = ""
    # A kit lists its parts after " * ": the kit itself is the countable package.
    for part in description.split(" * ")[0].split(">"):
        m = _LEVEL.match(_PACKAGE_NDC.sub("", part))
        if m is None:
            return None
        if len(m.group(1)) > 12:
            return None  # no package holds a 13-digit count
        quantity, what = float(m.group(1)), m.group(2).upper().split(",")[0].strip()
        if what in _MEASURES:
            if unit:  # counted units already: each holds this much, the count stands
                break
            total, unit = total * quantity, what
            break
        total, unit = total * quantity, what
    if not unit or not 0 < total <= MAX_PACKAGE_SIZE or total != int(total):
        return None
    return PackageSize(int(total), unit.lower() if unit in _MEASURES else unit)


def _rows(lines: Iterable[str], needed: tuple[str, ...], name: str) -> Iterator[dict[str, str]]:
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        yield from _checked_rows(reader, needed, name)
    except csv.Error as exc:  # a cell over the field limit, a NUL byte
        raise DirectoryInvalid(
            f"{name} line {reader.line_num} cannot be read ({exc}); it is not an FDA NDC "
            "Directory file as published: download product.txt and package.txt again."
        ) from exc


def _checked_rows(
    reader: csv.DictReader[str], needed: tuple[str, ...], name: str
) -> Iterator[dict[str, str]]:
    header = reader.fieldnames or []
    missing = [c for c in needed if c not in header]
    if missing:
        raise DirectoryInvalid(
            f"{name} is not an FDA NDC Directory file: it lacks the column(s)"
            f" {', '.join(missing)}. Use product.txt and package.txt from the FDA's"
            " NDC Directory download (tab-separated text)."
        )
    yield from reader


@dataclass(frozen=True)
class _ProductRow:
    name: str
    strength: str
    dosage_form: str
    drug_code: int
    schedule: Schedule


def read_directory(product_lines: Iterable[str], package_lines: Iterable[str]) -> DirectoryImport:
    """Controlled products of the directory, one :class:`Product` per package NDC."""
    found: dict[str, _ProductRow] = {}
    unknown: Counter[str] = Counter()
    skipped: list[Skipped] = []
    not_controlled = 0
    for row in _rows(product_lines, _NEEDED_PRODUCT, "PRODUCT.txt"):
        level = _LEVELS.get((row["DEASCHEDULE"] or "").strip().upper())
        if level is None:
            not_controlled += 1
            continue
        substances = [s.strip() for s in (row["SUBSTANCENAME"] or "").split(";")]
        schedule_level = _schedule_of_level(level, None)
        code = code_of_product(substances, schedule_level)
        if code is None:
            unknown[row["SUBSTANCENAME"] or "(no ingredient listed)"] += 1
            continue
        found[row["PRODUCTID"]] = _ProductRow(
            _name(row),
            _strength(row, substances, code),
            (row["DOSAGEFORMNAME"] or "").strip().lower(),
            code,
            _schedule_of_level(level, code),
        )
    products: list[Product] = []
    units: dict[str, str] = {}
    for row in _rows(package_lines, _NEEDED_PACKAGE, "PACKAGE.txt"):
        p = found.get(row["PRODUCTID"])
        if p is None:
            continue
        code_text = (row["NDCPACKAGECODE"] or "").strip()
        try:
            ndc = parse_ndc(code_text)
        except CsosError as exc:
            skipped.append(Skipped(code_text, p.name, exc.message))
            continue
        size = package_size(row["PACKAGEDESCRIPTION"] or "")
        if size is None:
            described = row["PACKAGEDESCRIPTION"] or ""
            shown = described[:_SHOWN_CHARS] + ("..." if len(described) > _SHOWN_CHARS else "")
            reason = f"no whole package size up to {MAX_PACKAGE_SIZE:,} in {shown!r}"
            skipped.append(Skipped(code_text, p.name, reason))
            continue
        if ndc.digits in units:
            continue  # the same package listed twice (e.g. by two SPL versions)
        item = " ".join(x for x in (p.name, p.strength, p.dosage_form) if x)
        products.append(
            Product(ndc, item, p.strength, p.dosage_form, size.quantity, p.drug_code, p.schedule)
        )
        units[ndc.digits] = size.unit
    return DirectoryImport(tuple(products), units, tuple(skipped), dict(unknown), not_controlled)


def _schedule_of_level(level: int, code: int | None) -> Schedule:
    """The schedule for DEASCHEDULE ``level``; narcotic or not from the code's own listing."""
    narcotic = code is None or DEA_CODES[code].schedule in (
        Schedule.II,
        Schedule.III,
        Schedule.I,
    )
    if level == 2:
        return Schedule.II if narcotic else Schedule.II_NON_NARCOTIC
    if level == 3:
        return Schedule.III if narcotic else Schedule.III_NON_NARCOTIC
    return {1: Schedule.I, 4: Schedule.IV, 5: Schedule.V}[level]


def _name(row: Mapping[str, str]) -> str:
    name = " ".join(
        x.strip() for x in (row.get("PROPRIETARYNAME"), row.get("PROPRIETARYNAMESUFFIX")) if x
    )
    return name or (row.get("NONPROPRIETARYNAME") or "").strip()


def _strength(row: Mapping[str, str], substances: list[str], code: int) -> str:
    """``10 mg`` (or ``10 mg/5 mL``): the strength of the controlled ingredient."""
    amounts = [a.strip() for a in (row["ACTIVE_NUMERATOR_STRENGTH"] or "").split(";")]
    units = [u.strip() for u in (row["ACTIVE_INGRED_UNIT"] or "").split(";")]
    index = next((i for i, s in enumerate(substances) if code_of_ingredient(s) is not None), 0)
    if index >= len(amounts) or index >= len(units):
        return ""
    unit = units[index]
    if unit.endswith("/1"):
        unit = unit[:-2]  # "mg/1" is mg per dosage unit
    return f"{amounts[index]} {unit}".strip()
