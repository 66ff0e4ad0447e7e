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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.untrusted_input import csv_rows, parse_json
from csos_desktop.som.history import History, HistoryLine
from csos_desktop.som.policy import Policy, PolicyInvalid
from csos_desktop.som.row_checks import Bad, ProductRef, ValueChecks

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

    def __init__(
        self, name: str, problems: tuple[RowProblem, ...], total: int | None = None
    ) -> None:
        count = len(problems) if total is None else total
        shown = "\n  ".join(str(p) for p in problems[:_SHOWN_PROBLEMS])
        more = count - min(len(problems), _SHOWN_PROBLEMS)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{name}: {count} bad row(s) not used:\n  {shown}{tail}\n"
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
    """Checks one row at a time with the shared per-value checks."""

    def __init__(self, catalogue: Catalogue, today: date) -> None:
        self.checks = ValueChecks(catalogue, today)
        self.problems: list[RowProblem] = []
        self._orders: dict[str, tuple[date, str]] = {}

    def notes(self) -> tuple[str, ...]:
        return self.checks.notes()

    def read(self, line: int, row: dict[str, str]) -> HistoryLine | None:
        c = self.checks
        values = (
            c.order_id(row["order_id"]),
            c.date(row["order_date"]),
            c.dea(row["purchaser_dea"]),
            c.product(row["ndc"], row["drug_code"]),
            c.units(row["dosage_units"]),
        )
        bad = [v for v in values if isinstance(v, Bad)]
        for b in bad:
            self._bad(line, b.column, b.message)
        if bad:
            return None
        order_id, day, dea, product, units = values
        assert isinstance(order_id, str) and isinstance(day, date) and isinstance(dea, str)
        assert isinstance(product, ProductRef) and isinstance(units, int)
        seen = self._orders.setdefault(order_id, (day, dea))
        if seen != (day, dea):
            self._bad(
                line, "order_id", f"{order_id} appears earlier with another date or purchaser"
            )
            return None
        return HistoryLine(
            order_id, day, dea, product.drug_code, units, product.variant, product.ndc
        )

    def _bad(self, line: int, column: str, message: str) -> None:
        self.problems.append(RowProblem(line, column, message))


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

    def unreadable(line: int, why: str) -> InputError:
        return InputError(f"{name}: line {line}: cannot be read as CSV: {why}")

    for row in csv_rows(reader, unreadable):
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
    except UnicodeDecodeError as exc:
        raise InputError(
            f"history file {path} is not UTF-8 text (byte {exc.start} cannot be read)"
        ) from exc


def load_policy(path: Path) -> Policy:
    """Read a policy document from a file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read policy file {path}: {exc.strerror}") from exc
    doc = parse_json(raw, f"policy file {path}", error=PolicyInvalid)
    if not isinstance(doc, dict):
        raise PolicyInvalid(f"policy file {path} must hold a JSON object")
    return Policy.from_document(doc)


@lru_cache(maxsize=1)
def bundled_policy() -> Policy:
    """The built-in default policy, shipped with the program (the sandbox distributor
    publishes it too); used until the distributor's own policy is cached."""
    text = resources.files("csos_desktop").joinpath("resources/som/default-policy.json")
    return Policy.from_document(json.loads(text.read_text(encoding="utf-8")))
