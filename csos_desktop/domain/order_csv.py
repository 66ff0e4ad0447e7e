"""Orders from a spreadsheet (CSV): one row per order line, rows grouped by ``order_ref``.

Columns (header row required, any order)::

    order_ref, order_number, purchaser_name, purchaser_street, purchaser_city,
    purchaser_state, purchaser_postal_code, purchaser_dea, supplier_name,
    supplier_street, supplier_city, supplier_state, supplier_postal_code,
    supplier_dea, line_no, ndc, item_name, strength, dosage_form, package_size,
    quantity, schedule

``order_number`` may be blank (the store assigns the next one); ``schedule``
blank means a non-controlled item. Every problem is reported with its row
number (the header is row 1), and nothing is imported while any remains.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import parse_order_input
from csos_desktop.domain.order_rules import OrderInvalid
from csos_desktop.domain.untrusted_input import csv_rows, whole_number

PARTY = ("name", "street", "city", "state", "postal_code", "dea")
ORDER_COLUMNS = (
    "order_ref",
    "order_number",
    *(f"purchaser_{c}" for c in PARTY),
    *(f"supplier_{c}" for c in PARTY),
)
LINE_COLUMNS = (
    "line_no",
    "ndc",
    "item_name",
    "strength",
    "dosage_form",
    "package_size",
    "quantity",
    "schedule",
)
COLUMNS = ORDER_COLUMNS + LINE_COLUMNS
_NUMBERS = ("line_no", "package_size", "quantity")


class OrderCsvInvalid(InputError):
    """The CSV cannot be imported; ``problems`` name rows and columns."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "Nothing was imported; fix these rows and import the file again:\n"
            + "\n".join(problems)
        )
        self.problems = problems


def _party(row: dict[str, str], who: str) -> dict[str, object]:
    return {
        "name": row[f"{who}_name"],
        "address": {k: row[f"{who}_{k}"] for k in ("street", "city", "state", "postal_code")},
        "dea_number": row[f"{who}_dea"],
    }


def _line(row: dict[str, str], rowno: int, problems: list[str]) -> dict[str, object]:
    line: dict[str, object] = {k: row[k] for k in LINE_COLUMNS}
    for key in _NUMBERS:
        number = whole_number(row[key])
        if number is None:
            problems.append(f"row {rowno}, {key}: {row[key][:40]!r} is not a whole number")
        else:
            line[key] = number
    line["schedule"] = row["schedule"].strip() or None
    return line


def orders_from_csv(text: str, *, now: datetime) -> list[dict[str, object]]:
    """Order inputs (as `csos order import` takes them) from CSV text; raises OrderCsvInvalid."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise OrderCsvInvalid([f"row 1: cannot be read as CSV ({exc})"]) from exc
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise OrderCsvInvalid([f"row 1: missing column(s) {', '.join(missing)}"])
    problems: list[str] = []
    orders: dict[str, dict[str, object]] = {}
    rows_of: dict[str, list[int]] = {}
    first: dict[str, dict[str, str]] = {}

    def unreadable(line: int, why: str) -> OrderCsvInvalid:
        return OrderCsvInvalid([f"row {line}: cannot be read as CSV: {why}"])

    for rowno, row in enumerate(csv_rows(reader, unreadable), start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k is not None}
        ref = row["order_ref"]
        if not ref:
            problems.append(f"row {rowno}, order_ref: is empty (rows of one order share it)")
            continue
        if ref not in orders:
            first[ref] = row
            order: dict[str, object] = {
                "schema": "csos-order/1",
                "purchaser": _party(row, "purchaser"),
                "supplier": _party(row, "supplier"),
                "lines": [],
            }
            if row["order_number"]:
                order["order_number"] = row["order_number"]
            orders[ref], rows_of[ref] = order, []
        else:
            differs = [c for c in ORDER_COLUMNS if row[c] != first[ref][c]]
            if differs:
                problems.append(
                    f"row {rowno}: {', '.join(differs)} differ from the first row of order {ref!r}"
                )
        lines = orders[ref]["lines"]
        assert isinstance(lines, list)
        lines.append(_line(row, rowno, problems))
        rows_of[ref].append(rowno)
    if not orders and not problems:
        problems.append("the file has a header but no order lines")
    if not problems:
        for ref, order in orders.items():
            trial = (
                order
                if "order_number" in order
                else {**order, "order_number": f"{now.year % 100:02d}X000000"}
            )
            try:
                parse_order_input(trial, now=now)
            except OrderInvalid as exc:
                problems += [_row_problem(p.field, p.message, rows_of[ref]) for p in exc.problems]
    if problems:
        raise OrderCsvInvalid(problems)
    return list(orders.values())


def _row_problem(field: str, message: str, rows: list[int]) -> str:
    """``lines[2].ndc`` of an order becomes ``row 7, ndc``; order-level fields name all rows."""
    if field.startswith("lines[") and "]" in field:
        index = int(field[len("lines[") : field.index("]")])
        column = field[field.index("]") + 2 :] or "line"
        return f"row {rows[index]}, {column}: {message}"
    column = field.replace(".address.", "_").replace(".dea_number", "_dea").replace(".", "_")
    return f"rows {', '.join(map(str, rows))}, {column}: {message}"
