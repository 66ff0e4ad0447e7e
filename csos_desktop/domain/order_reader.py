"""Reading an order from JSON-shaped data: the signed document and the CLI input form.

Both forms go through one reader so they cannot drift apart. ``lenient`` is
the input form: values are normalised the way a user writes them (NDC as
printed, schedule "II", lower-case DEA numbers, spaces around text). The
document form is strict: it must already be exactly what ``Order.to_document``
writes, because it is what was signed. Unknown keys are refused in both —
a signed document must hold nothing the purchaser did not see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from csos_desktop.domain.order import (
    PACKAGE_SIZE_MEANING,
    QUANTITY_MEANING,
    SCHEMA,
    Order,
    OrderLine,
    check_unique_line_no,
)
from csos_desktop.domain.order_rules import (
    check_ndc,
    check_order_id,
    check_order_number,
    check_positive_int,
    check_schedule,
    parse_date,
    parse_timestamp,
    wrong_type,
)
from csos_desktop.domain.reading import DocumentReader, get

_LINE_KEYS = frozenset(
    {
        "line_no",
        "ndc",
        "item_name",
        "strength",
        "dosage_form",
        "package_size",
        "quantity",
        "schedule",
    }
)
_ORDER_KEYS = frozenset({"schema", "order_number", "purchaser", "supplier", "lines"})
_DOCUMENT_OPTIONAL = frozenset({"date_signed"})
_INPUT_OPTIONAL = frozenset({"order_id", "created_at"})


class _Reader(DocumentReader):
    def __init__(self, lenient: bool) -> None:
        super().__init__(SCHEMA, lenient)

    def line(self, field: str, value: object, seen: set[int]) -> OrderLine | None:
        m = self.members(field, value, _LINE_KEYS)
        if m is None:
            return None
        p = self.p
        line_no = check_positive_int(p, f"{field}.line_no", get(m, "line_no"), "line number")
        if line_no is not None:
            check_unique_line_no(p, f"{field}.line_no", line_no, seen)
        ndc = check_ndc(p, f"{field}.ndc", get(m, "ndc"), lenient=self.lenient)
        item_name = self.text(f"{field}.item_name", get(m, "item_name"))
        strength = self.text(f"{field}.strength", get(m, "strength"))
        dosage_form = self.text(f"{field}.dosage_form", get(m, "dosage_form"))
        package_size = check_positive_int(
            p, f"{field}.package_size", get(m, "package_size"), PACKAGE_SIZE_MEANING
        )
        quantity = check_positive_int(p, f"{field}.quantity", get(m, "quantity"), QUANTITY_MEANING)
        ok, schedule = check_schedule(
            p, f"{field}.schedule", get(m, "schedule"), lenient=self.lenient
        )
        if (
            line_no is None
            or ndc is None
            or item_name is None
            or strength is None
            or dosage_form is None
            or package_size is None
            or quantity is None
            or not ok
        ):
            return None
        return OrderLine(
            line_no, ndc, item_name, strength, dosage_form, package_size, quantity, schedule
        )

    def lines(self, value: object) -> tuple[OrderLine, ...] | None:
        if not isinstance(value, Sequence) or isinstance(value, str | bytes):
            wrong_type(self.p, "lines", value, "a list of order lines")
            return None
        if not value:
            self.p.add("lines", "no-lines", "an order must have at least one line")
            return None
        seen: set[int] = set()
        lines = [self.line(f"lines[{i}]", item, seen) for i, item in enumerate(value)]
        if any(line is None for line in lines):
            return None
        return tuple(line for line in lines if line is not None)


def read_order(
    data: object,
    *,
    lenient: bool,
    default_id: Callable[[], str] | None = None,
    default_created_at: datetime | None = None,
) -> Order:
    """Read an order document (strict) or input (lenient).

    Raises OrderInvalid listing every problem found.
    """
    r = _Reader(lenient)
    p = r.p
    optional = (_INPUT_OPTIONAL | {"date_signed"}) if lenient else _DOCUMENT_OPTIONAL
    required = _ORDER_KEYS if lenient else _ORDER_KEYS | _INPUT_OPTIONAL
    m = r.members("", data, required, optional)
    if m is None:
        p.raise_if_any()
        raise AssertionError("unreachable: a non-object is always a problem")

    if "schema" in m and m["schema"] != SCHEMA:
        p.add("schema", "schema-version", f"must be {SCHEMA!r}, not {m['schema']!r}")

    order_id: str | None
    if "order_id" in m:
        order_id = check_order_id(p, "order_id", m["order_id"], lenient=lenient)
    else:
        order_id = default_id() if default_id is not None else None

    created_at: datetime | None
    if "created_at" in m:
        created_at = parse_timestamp(p, "created_at", m["created_at"], lenient=lenient)
    else:
        created_at = default_created_at

    date_signed: date | None = None
    if "date_signed" in m:
        if lenient:
            p.add(
                "date_signed",
                "date-signed-not-allowed",
                "is set when the order is signed; remove it from the order input",
            )
        else:
            date_signed = parse_date(p, "date_signed", m["date_signed"])

    order_number = check_order_number(
        p, "order_number", r.upper(get(m, "order_number")), date_signed
    )
    purchaser = r.party("purchaser", get(m, "purchaser"))
    supplier = r.party("supplier", get(m, "supplier"))
    lines = r.lines(get(m, "lines"))

    p.raise_if_any()
    # No problems means every value was read; the checks below only narrow types.
    assert order_id is not None and order_number is not None and created_at is not None
    assert purchaser is not None and supplier is not None and lines is not None
    return Order(order_id, order_number, created_at, purchaser, supplier, lines, date_signed)
