"""Reading an order from JSON-shaped data: the signed document and the CLI input form.

Both forms go through one reader so they cannot drift apart. ``lenient`` is
the input form: values are normalised the way a user writes them (NDC as
printed, schedule "II", lower-case DEA numbers, spaces around text). The
document form is strict: it must already be exactly what ``Order.to_document``
writes, because it is what was signed. Unknown keys are refused in both —
a signed document must hold nothing the purchaser did not see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime

from csos_desktop.domain.order import (
    PACKAGE_SIZE_MEANING,
    QUANTITY_MEANING,
    SCHEMA,
    Address,
    Order,
    OrderLine,
    Party,
    check_unique_line_no,
)
from csos_desktop.domain.order_rules import (
    MISSING,
    Problems,
    check_dea,
    check_ndc,
    check_order_id,
    check_order_number,
    check_positive_int,
    check_postal_code,
    check_schedule,
    check_state,
    check_text,
    parse_date,
    parse_timestamp,
    wrong_type,
)

_PARTY_KEYS = frozenset({"name", "address", "dea_number"})
_ADDRESS_KEYS = frozenset({"street", "city", "state", "postal_code"})
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


def _get(m: Mapping[str, object], key: str) -> object:
    return m.get(key, MISSING)


def _path(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _members(
    p: Problems,
    field: str,
    value: object,
    required: frozenset[str],
    optional: frozenset[str] = frozenset(),
) -> Mapping[str, object] | None:
    """The object at ``field`` if it is one; reports missing and unknown keys."""
    if not isinstance(value, Mapping):
        wrong_type(p, field or "document", value, "an object ({...})")
        return None
    for key in sorted(required - value.keys()):
        p.add(_path(field, key), "missing", "is required")
    for key in sorted((k for k in value if k not in required | optional), key=str):
        shown = key if isinstance(key, str) else repr(key)
        p.add(
            _path(field, shown),
            "unknown-key",
            "is not part of a csos-order/1 document; remove it",
        )
    return value


class _Reader:
    def __init__(self, lenient: bool) -> None:
        self.p = Problems()
        self.lenient = lenient

    def text(self, field: str, value: object) -> str | None:
        if self.lenient and isinstance(value, str):
            value = value.strip()
        return check_text(self.p, field, value)

    def upper(self, value: object) -> object:
        return value.strip().upper() if self.lenient and isinstance(value, str) else value

    def address(self, field: str, value: object) -> Address | None:
        m = _members(self.p, field, value, _ADDRESS_KEYS)
        if m is None:
            return None
        street = self.text(f"{field}.street", _get(m, "street"))
        city = self.text(f"{field}.city", _get(m, "city"))
        state = check_state(self.p, f"{field}.state", self.upper(_get(m, "state")))
        zip_code = _get(m, "postal_code")
        if self.lenient and isinstance(zip_code, str):
            zip_code = zip_code.strip()
        postal_code = check_postal_code(self.p, f"{field}.postal_code", zip_code)
        if street is None or city is None or state is None or postal_code is None:
            return None
        return Address(street, city, state, postal_code)

    def party(self, field: str, value: object) -> Party | None:
        m = _members(self.p, field, value, _PARTY_KEYS)
        if m is None:
            return None
        name = self.text(f"{field}.name", _get(m, "name"))
        address = self.address(f"{field}.address", _get(m, "address"))
        dea = check_dea(self.p, f"{field}.dea_number", _get(m, "dea_number"), lenient=self.lenient)
        if name is None or address is None or dea is None:
            return None
        return Party(name, address, dea)

    def line(self, field: str, value: object, seen: set[int]) -> OrderLine | None:
        m = _members(self.p, field, value, _LINE_KEYS)
        if m is None:
            return None
        p = self.p
        line_no = check_positive_int(p, f"{field}.line_no", _get(m, "line_no"), "line number")
        if line_no is not None:
            check_unique_line_no(p, f"{field}.line_no", line_no, seen)
        ndc = check_ndc(p, f"{field}.ndc", _get(m, "ndc"), lenient=self.lenient)
        item_name = self.text(f"{field}.item_name", _get(m, "item_name"))
        strength = self.text(f"{field}.strength", _get(m, "strength"))
        dosage_form = self.text(f"{field}.dosage_form", _get(m, "dosage_form"))
        package_size = check_positive_int(
            p, f"{field}.package_size", _get(m, "package_size"), PACKAGE_SIZE_MEANING
        )
        quantity = check_positive_int(p, f"{field}.quantity", _get(m, "quantity"), QUANTITY_MEANING)
        ok, schedule = check_schedule(
            p, f"{field}.schedule", _get(m, "schedule"), lenient=self.lenient
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
    m = _members(p, "", data, required, optional)
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
        p, "order_number", r.upper(_get(m, "order_number")), date_signed
    )
    purchaser = r.party("purchaser", _get(m, "purchaser"))
    supplier = r.party("supplier", _get(m, "supplier"))
    lines = r.lines(_get(m, "lines"))

    p.raise_if_any()
    # No problems means every value was read; the checks below only narrow types.
    assert order_id is not None and order_number is not None and created_at is not None
    assert purchaser is not None and supplier is not None and lines is not None
    return Order(order_id, order_number, created_at, purchaser, supplier, lines, date_signed)
