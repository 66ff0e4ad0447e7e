"""A CSOS order (electronic DEA Form 222) and its signed document form.

An ``Order`` is always valid: constructing one checks every 21 CFR 1305.21
rule and raises ``OrderInvalid`` listing all problems. Its document form
(``to_document``) is what is canonicalised and signed; ``from_document`` reads
it back strictly, refusing anything a signed document should not hold.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.dea import DeaNumber
from csos_desktop.domain.ndc import Ndc
from csos_desktop.domain.order_rules import (
    OrderInvalid,
    Problem,
    Problems,
    check_order_id,
    check_order_number,
    check_positive_int,
    check_postal_code,
    check_state,
    check_text,
    check_timestamp,
    next_order_number,
    wrong_type,
)
from csos_desktop.domain.schedule import Schedule
from csos_desktop.domain.timestamps import format_timestamp

__all__ = [
    "SCHEMA",
    "Address",
    "Order",
    "OrderInvalid",
    "OrderLine",
    "Party",
    "Problem",
    "format_timestamp",
    "next_order_number",
    "parse_order_input",
]

#: The ``schema`` value of an order document.
SCHEMA = "csos-order/1"

# Meanings shown next to the number fields, in the words of 1305.21(b)(8)-(9).
PACKAGE_SIZE_MEANING = "quantity in a single package"
QUANTITY_MEANING = "number of packages"


@dataclass(frozen=True)
class Address:
    """A US postal address; ``state`` is the USPS code, ``postal_code`` ZIP or ZIP+4."""

    street: str
    city: str
    state: str
    postal_code: str

    def to_document(self) -> dict[str, object]:
        return {
            "street": self.street,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
        }


@dataclass(frozen=True)
class Party:
    """Purchaser or supplier: name, complete address and DEA number (1305.21(b)(2)-(5))."""

    name: str
    address: Address
    dea_number: DeaNumber

    def to_document(self) -> dict[str, object]:
        return {
            "name": self.name,
            "address": self.address.to_document(),
            "dea_number": self.dea_number.value,
        }


@dataclass(frozen=True)
class OrderLine:
    """One item: NDC, name, strength, form, package size, number of packages, schedule.

    ``schedule`` is None for an item that is not a controlled substance (1305.21(c)).
    """

    line_no: int
    ndc: Ndc
    item_name: str
    strength: str
    dosage_form: str
    package_size: int
    quantity: int
    schedule: Schedule | None

    def to_document(self) -> dict[str, object]:
        return {
            "line_no": self.line_no,
            "ndc": self.ndc.digits,
            "item_name": self.item_name,
            "strength": self.strength,
            "dosage_form": self.dosage_form,
            "package_size": self.package_size,
            "quantity": self.quantity,
            "schedule": None if self.schedule is None else self.schedule.value,
        }


@dataclass(frozen=True)
class Order:
    """A CSOS order; construction validates it (raises OrderInvalid with every problem)."""

    order_id: str
    order_number: str
    created_at: datetime
    purchaser: Party
    supplier: Party
    lines: tuple[OrderLine, ...]
    date_signed: date | None = None

    def __post_init__(self) -> None:
        p = Problems()
        check_order_id(p, "order_id", self.order_id, lenient=False)
        check_timestamp(p, "created_at", self.created_at)
        if self.date_signed is not None and (
            not isinstance(self.date_signed, date) or isinstance(self.date_signed, datetime)
        ):
            wrong_type(p, "date_signed", self.date_signed, "a date")
            check_order_number(p, "order_number", self.order_number, None)
        else:
            check_order_number(p, "order_number", self.order_number, self.date_signed)
        _check_party(p, "purchaser", self.purchaser)
        _check_party(p, "supplier", self.supplier)
        _check_lines(p, self.lines)
        p.raise_if_any()

    # -- derived values ---------------------------------------------------------------

    @property
    def schedules(self) -> frozenset[Schedule]:
        """The controlled-substance schedules on this order (non-controlled lines left out)."""
        return frozenset(line.schedule for line in self.lines if line.schedule is not None)

    @property
    def total_packages(self) -> int:
        """Number of packages over all lines."""
        return sum(line.quantity for line in self.lines)

    def with_date_signed(self, d: date) -> Order:
        """This order dated for signing on ``d``; the order number must carry d's year."""
        return replace(self, date_signed=d)

    # -- document form ------------------------------------------------------------------

    def to_document(self) -> dict[str, object]:
        """The JSON document that is canonicalised and signed (schema csos-order/1)."""
        doc: dict[str, object] = {
            "schema": SCHEMA,
            "order_id": self.order_id,
            "order_number": self.order_number,
            "created_at": format_timestamp(self.created_at),
        }
        if self.date_signed is not None:
            doc["date_signed"] = self.date_signed.isoformat()
        doc["purchaser"] = self.purchaser.to_document()
        doc["supplier"] = self.supplier.to_document()
        doc["lines"] = [line.to_document() for line in self.lines]
        return doc

    def canonical_bytes(self) -> bytes:
        """The RFC 8785 bytes of ``to_document()``: what the purchaser signs."""
        return canonical_bytes(self.to_document())

    @classmethod
    def from_document(cls, doc: Mapping[str, object]) -> Order:
        """Read a signed order document strictly (exact inverse of ``to_document``)."""
        from csos_desktop.domain.order_reader import read_order  # here: order_reader imports Order

        return read_order(doc, lenient=False)


def parse_order_input(
    data: Mapping[str, object],
    *,
    now: datetime,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> Order:
    """Build an unsigned order from the CLI/import input form.

    Fills ``order_id`` (from ``new_id``) and ``created_at`` (``now``, whole seconds,
    UTC) when absent; accepts NDCs as printed and schedules such as "II"; refuses
    ``date_signed``, which is set only when the order is signed.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    from csos_desktop.domain.order_reader import read_order  # here: order_reader imports Order

    return read_order(
        data,
        lenient=True,
        default_id=new_id,
        default_created_at=now.astimezone(UTC).replace(microsecond=0),
    )


def _check_party(p: Problems, field: str, party: object) -> None:
    if not isinstance(party, Party):
        wrong_type(p, field, party, "a party (name, address, DEA number)")
        return
    check_text(p, f"{field}.name", party.name)
    address = party.address
    if isinstance(address, Address):
        check_text(p, f"{field}.address.street", address.street)
        check_text(p, f"{field}.address.city", address.city)
        check_state(p, f"{field}.address.state", address.state)
        check_postal_code(p, f"{field}.address.postal_code", address.postal_code)
    else:
        wrong_type(p, f"{field}.address", address, "an address")
    if not isinstance(party.dea_number, DeaNumber):
        wrong_type(p, f"{field}.dea_number", party.dea_number, "a DEA number")


def _check_lines(p: Problems, lines: object) -> None:
    if not isinstance(lines, tuple):
        wrong_type(p, "lines", lines, "a tuple of order lines")
        return
    if not lines:
        p.add("lines", "no-lines", "an order must have at least one line")
    seen: set[int] = set()
    for i, line in enumerate(lines):
        field = f"lines[{i}]"
        if not isinstance(line, OrderLine):
            wrong_type(p, field, line, "an order line")
            continue
        line_no = check_positive_int(p, f"{field}.line_no", line.line_no, "line number")
        if line_no is not None:
            check_unique_line_no(p, f"{field}.line_no", line_no, seen)
        if not isinstance(line.ndc, Ndc):
            wrong_type(p, f"{field}.ndc", line.ndc, "an NDC")
        check_text(p, f"{field}.item_name", line.item_name)
        check_text(p, f"{field}.strength", line.strength)
        check_text(p, f"{field}.dosage_form", line.dosage_form)
        check_positive_int(p, f"{field}.package_size", line.package_size, PACKAGE_SIZE_MEANING)
        check_positive_int(p, f"{field}.quantity", line.quantity, QUANTITY_MEANING)
        if line.schedule is not None and not isinstance(line.schedule, Schedule):
            wrong_type(p, f"{field}.schedule", line.schedule, "a schedule or None")


def check_unique_line_no(p: Problems, field: str, line_no: int, seen: set[int]) -> None:
    """Line numbers identify lines in receipts and statuses: each may appear once."""
    if line_no in seen:
        p.add(field, "line-no-duplicate", f"line number {line_no} is used more than once")
    seen.add(line_no)
