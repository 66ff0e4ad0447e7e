"""The only part of SOM that reads files: history CSVs and policy documents.

A row's ``drug_code`` is authoritative: it is the distributor's own data. A row
whose NDC the catalogue lacks is judged by its drug code, only without the
strength/form check, and that is noted once per NDC. A row that cannot be
trusted (a malformed NDC, a drug code that is not a DEA controlled-substance
code, negative or fractional units, a date in the future, ...) is reported with
its line number; it is never silently used.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.dea import parse_dea_number
from csos_desktop.domain.dea_codes import DEA_CODES, is_controlled_code
from csos_desktop.domain.ndc import parse_ndc
from csos_desktop.errors import CsosError, InputError
from csos_desktop.som.history import History, HistoryLine
from csos_desktop.som.policy import Policy, PolicyInvalid

HISTORY_COLUMNS = ("order_id", "order_date", "purchaser_dea", "ndc", "drug_code", "dosage_units")
_SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class RowProblem:
    """Why one row of a history file was not used."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


class HistoryFileInvalid(InputError):
    """A history file with rows that cannot be used (or no usable header)."""

    def __init__(self, name: str, problems: tuple[RowProblem, ...]) -> None:
        shown = "\n  ".join(str(p) for p in problems[:_SHOWN_PROBLEMS])
        more = len(problems) - _SHOWN_PROBLEMS
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{name}: {len(problems)} bad row(s) not used:\n  {shown}{tail}\n"
            "Fix the rows, or pass --skip-bad-rows to judge without them."
        )
        self.problems = problems


@dataclass(frozen=True, eq=False)
class HistoryFile:
    """The usable rows of a history file, the problems with the others, and notes per NDC."""

    history: History
    problems: tuple[RowProblem, ...]
    notes: tuple[str, ...] = ()


class _RowReader:
    """Checks one row at a time; caches NDC and DEA checks, which repeat on every order."""

    def __init__(self, catalogue: Catalogue, today: date) -> None:
        self.catalogue, self.today = catalogue, today
        self.problems: list[RowProblem] = []
        self._ndc: dict[str, tuple[str, int, str] | str] = {}
        self._dea: dict[str, str | None] = {}
        self._orders: dict[str, tuple[date, str]] = {}
        self._noted: dict[str, str] = {}  # NDC -> why its strength/form is not checked
        self._noted_rows: Counter[str] = Counter()

    def notes(self) -> tuple[str, ...]:
        """One sentence per NDC judged by its drug code alone."""
        return tuple(
            f"{why} ({self._noted_rows[ndc]} row{'s' if self._noted_rows[ndc] != 1 else ''})"
            for ndc, why in self._noted.items()
        )

    def read(self, line: int, row: dict[str, str]) -> HistoryLine | None:
        before = len(self.problems)
        order_id = row["order_id"].strip()
        if not order_id:
            self._bad(line, "order_id", "is empty")
        day = self._date(line, row["order_date"])
        dea = row["purchaser_dea"].strip().upper()
        dea_problem = self._dea_problem(dea)
        if dea_problem:
            self._bad(line, "purchaser_dea", dea_problem)
        product = self._product(line, row["ndc"], row["drug_code"])
        units = self._units(line, row["dosage_units"])
        if len(self.problems) > before or day is None or product is None or units is None:
            return None
        seen = self._orders.setdefault(order_id, (day, dea))
        if seen != (day, dea):
            self._bad(
                line, "order_id", f"{order_id} appears earlier with another date or purchaser"
            )
            return None
        ndc, drug_code, variant = product
        return HistoryLine(order_id, day, dea, drug_code, units, variant, ndc)

    def _bad(self, line: int, column: str, message: str) -> None:
        self.problems.append(RowProblem(line, column, message))

    def _date(self, line: int, text: str) -> date | None:
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            self._bad(line, "order_date", f"{text!r} is not a date like 2025-03-31")
            return None
        if day > self.today:
            self._bad(line, "order_date", f"{day} is in the future (today is {self.today})")
            return None
        return day

    def _dea_problem(self, dea: str) -> str | None:
        if dea not in self._dea:
            try:
                parse_dea_number(dea)
                self._dea[dea] = None
            except CsosError as exc:
                self._dea[dea] = exc.message
        return self._dea[dea]

    def _product(self, line: int, ndc_text: str, code_text: str) -> tuple[str, int, str] | None:
        key = f"{ndc_text.strip()}|{code_text.strip()}"
        if key not in self._ndc:
            self._ndc[key] = self._lookup(ndc_text, code_text)
        found = self._ndc[key]
        if isinstance(found, str):
            column, _, message = found.partition(":")
            self._bad(line, column, message)
            return None
        if found[0] in self._noted:
            self._noted_rows[found[0]] += 1
        return found

    def _lookup(self, ndc_text: str, code_text: str) -> tuple[str, int, str] | str:
        try:
            ndc = parse_ndc(ndc_text)
        except CsosError as exc:
            return f"ndc:{exc.message}"
        text = code_text.strip()
        if not text.isdigit() or not is_controlled_code(int(text)):
            return (
                f"drug_code:{text or 'empty'} is not a DEA controlled-substance code"
                " (21 CFR 1308.11-1308.15), e.g. 9143 for oxycodone"
            )
        code = int(text)
        family = f"drug code {code} ({DEA_CODES[code].name})"
        product = self.catalogue.product(ndc.digits)
        if product is None:
            self._noted[ndc.digits] = (
                f"NDC {ndc} is not in the product catalogue: judged as {family},"
                " without the strength/form check"
            )
            return ndc.digits, code, ""
        if product.drug_code != code:
            self._noted[ndc.digits] = (
                f"NDC {ndc} is drug code {product.drug_code} ({product.item_name}) in the"
                f" catalogue; the row's {family} is used, without the strength/form check"
            )
            return ndc.digits, code, ""
        return ndc.digits, product.drug_code, product.variant

    def _units(self, line: int, text: str) -> int | None:
        try:
            value = float(text.strip())
        except ValueError:
            self._bad(line, "dosage_units", f"{text!r} is not a number")
            return None
        if value < 0:
            self._bad(line, "dosage_units", f"{text.strip()} is negative")
        elif value == 0:
            self._bad(line, "dosage_units", "is zero; a history row records units ordered")
        elif value != int(value):
            self._bad(line, "dosage_units", f"{text.strip()} is not a whole number of units")
        else:
            return int(value)
        return None


def read_history_rows(
    rows: Iterable[str],
    catalogue: Catalogue,
    *,
    today: date,
    name: str = "history",
    skip_bad_rows: bool = False,
) -> HistoryFile:
    """Read history CSV text (header first); bad rows raise HistoryFileInvalid unless skipped."""
    reader = csv.DictReader(rows)
    missing = [c for c in HISTORY_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InputError(
            f"{name}: missing column(s) {', '.join(missing)};"
            f" a history file has the columns {','.join(HISTORY_COLUMNS)}"
        )
    check = _RowReader(catalogue, today)
    lines = []
    for row in reader:
        if None in row.values():
            check._bad(reader.line_num, "row", "has fewer columns than the header")
            continue
        line = check.read(reader.line_num, row)
        if line is not None:
            lines.append(line)
    problems = tuple(check.problems)
    if problems and not skip_bad_rows:
        raise HistoryFileInvalid(name, problems)
    return HistoryFile(History.from_lines(lines), problems, check.notes())


def load_history_csv(
    path: Path, catalogue: Catalogue, *, today: date, skip_bad_rows: bool = False
) -> HistoryFile:
    """Read a history CSV (order_id,order_date,purchaser_dea,ndc,drug_code,dosage_units)."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return read_history_rows(
                f, catalogue, today=today, name=str(path), skip_bad_rows=skip_bad_rows
            )
    except OSError as exc:
        raise InputError(f"cannot read history file {path}: {exc.strerror}") from exc


def load_policy(path: Path) -> Policy:
    """Read a policy document from a file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read policy file {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise PolicyInvalid(f"policy file {path} is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise PolicyInvalid(f"policy file {path} must hold a JSON object")
    return Policy.from_document(doc)


@lru_cache(maxsize=1)
def bundled_policy() -> Policy:
    """The sandbox distributor's default policy, shipped with the program."""
    text = resources.files("csos_desktop").joinpath("resources/som/default-policy.json")
    return Policy.from_document(json.loads(text.read_text(encoding="utf-8")))
