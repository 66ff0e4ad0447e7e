"""The purchaser's electronic receipt of a CSOS order (``csos-receipt/1``).

21 CFR 1305.22(g): the purchaser records, linked electronically to the original
order, the number of packages received per item and the date received. A
receipt names the order by id, number and the SHA-256 of the order's CMS
signature, so it cannot be moved onto another order or another version of it.
Partial deliveries give several receipts; together they may never exceed what
was ordered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from csos_desktop.domain.balance import LineBalance
from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import Order, format_timestamp
from csos_desktop.domain.order_rules import (
    MISSING,
    Problem,
    Problems,
    check_order_id,
    check_order_number,
    check_positive_int,
    check_timestamp,
    parse_date,
    parse_timestamp,
    wrong_type,
)

SCHEMA = "csos-receipt/1"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_KEYS = frozenset(
    {
        "schema",
        "receipt_id",
        "order_id",
        "order_number",
        "order_signature_sha256",
        "received_at",
        "lines",
    }
)
_LINE_KEYS = frozenset({"line_no", "quantity_received", "date_received"})
_QTY = "number of packages received"


class ReceiptInvalid(InputError):
    """A receipt that breaks one or more rules; ``problems`` lists every one."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        n = len(problems)
        heading = "the receipt has 1 problem:" if n == 1 else f"the receipt has {n} problems:"
        super().__init__("\n".join([heading, *(str(p) for p in problems)]))
        self.problems = problems


def _raise_if_any(p: Problems) -> None:
    if p.items:
        raise ReceiptInvalid(tuple(p.items))


@dataclass(frozen=True)
class ReceiptLine:
    """Packages of one order line received on one date."""

    line_no: int
    quantity_received: int
    date_received: date

    def to_document(self) -> dict[str, object]:
        return {
            "line_no": self.line_no,
            "quantity_received": self.quantity_received,
            "date_received": self.date_received.isoformat(),
        }


@dataclass(frozen=True)
class Receipt:
    """One delivery recorded against one signed order."""

    receipt_id: str
    order_id: str
    order_number: str
    order_signature_sha256: str
    received_at: datetime
    lines: tuple[ReceiptLine, ...]

    def __post_init__(self) -> None:
        p = Problems()
        check_order_id(p, "receipt_id", self.receipt_id, lenient=False)
        check_order_id(p, "order_id", self.order_id, lenient=False)
        check_order_number(p, "order_number", self.order_number, None)
        if not isinstance(self.order_signature_sha256, str) or not _SHA256_HEX.fullmatch(
            self.order_signature_sha256
        ):
            p.add(
                "order_signature_sha256",
                "sha256-hex",
                "must be the SHA-256 of the order's signature as 64 lower-case hex digits",
            )
        check_timestamp(p, "received_at", self.received_at)
        if not self.lines:
            p.add("lines", "no-lines", "a receipt must record at least one line")
        seen: set[int] = set()
        for i, line in enumerate(self.lines):
            f = f"lines[{i}]"
            if check_positive_int(p, f"{f}.line_no", line.line_no, "line number") is not None:
                if line.line_no in seen:
                    p.add(
                        f"{f}.line_no",
                        "line-no-duplicate",
                        f"line {line.line_no} is recorded more than once in this receipt",
                    )
                seen.add(line.line_no)
            check_positive_int(p, f"{f}.quantity_received", line.quantity_received, _QTY)
        _raise_if_any(p)

    def to_document(self) -> dict[str, object]:
        """The JSON document that is canonicalised and signed (schema csos-receipt/1)."""
        return {
            "schema": SCHEMA,
            "receipt_id": self.receipt_id,
            "order_id": self.order_id,
            "order_number": self.order_number,
            "order_signature_sha256": self.order_signature_sha256,
            "received_at": format_timestamp(self.received_at),
            "lines": [line.to_document() for line in self.lines],
        }

    def canonical_bytes(self) -> bytes:
        return canonical_bytes(self.to_document())

    @classmethod
    def from_document(cls, doc: Mapping[str, object]) -> Receipt:
        """Read a signed receipt document strictly (exact inverse of ``to_document``)."""
        p = Problems()
        _check_keys(p, "", doc, _KEYS)
        if doc.get("schema", SCHEMA) != SCHEMA:
            p.add("schema", "schema-version", f"must be {SCHEMA!r}, not {doc.get('schema')!r}")
        received_at = parse_timestamp(
            p, "received_at", doc.get("received_at", MISSING), lenient=False
        )
        raw_lines = doc.get("lines", MISSING)
        lines: list[ReceiptLine] = []
        if not isinstance(raw_lines, list):
            wrong_type(p, "lines", raw_lines, "a list of receipt lines")
        else:
            for i, raw in enumerate(raw_lines):
                line = _read_line(p, f"lines[{i}]", raw)
                if line is not None:
                    lines.append(line)
        _raise_if_any(p)
        assert received_at is not None
        return cls(
            receipt_id=doc["receipt_id"],  # type: ignore[arg-type]  # checked in __post_init__
            order_id=doc["order_id"],  # type: ignore[arg-type]
            order_number=doc["order_number"],  # type: ignore[arg-type]
            order_signature_sha256=doc["order_signature_sha256"],  # type: ignore[arg-type]
            received_at=received_at,
            lines=tuple(lines),
        )


def _check_keys(
    p: Problems, field: str, value: Mapping[str, object], required: frozenset[str]
) -> None:
    for key in sorted(required - value.keys()):
        p.add(f"{field}{key}", "missing", "is required")
    for key in sorted(str(k) for k in value.keys() - required):
        p.add(f"{field}{key}", "unknown-key", f"is not part of a {SCHEMA} document; remove it")


def _read_line(p: Problems, field: str, raw: object) -> ReceiptLine | None:
    if not isinstance(raw, Mapping):
        wrong_type(p, field, raw, "an object ({...})")
        return None
    _check_keys(p, f"{field}.", raw, _LINE_KEYS)
    line_no = check_positive_int(p, f"{field}.line_no", raw.get("line_no", MISSING), "line number")
    qty = check_positive_int(
        p, f"{field}.quantity_received", raw.get("quantity_received", MISSING), _QTY
    )
    day = parse_date(p, f"{field}.date_received", raw.get("date_received", MISSING))
    if line_no is None or qty is None or day is None:
        return None
    return ReceiptLine(line_no, qty, day)


def received_so_far(receipts: Iterable[Receipt]) -> dict[int, int]:
    """Packages received per line number over all receipts."""
    totals: dict[int, int] = {}
    for receipt in receipts:
        for line in receipt.lines:
            totals[line.line_no] = totals.get(line.line_no, 0) + line.quantity_received
    return totals


def fully_received(order: Order, receipts: Iterable[Receipt]) -> bool:
    """Every line of the order received in full."""
    totals = received_so_far(receipts)
    return all(totals.get(line.line_no, 0) >= line.quantity for line in order.lines)


def build_receipt(
    order: Order,
    order_signature_sha256: str,
    lines: Sequence[ReceiptLine],
    *,
    earlier: Sequence[Receipt],
    now: datetime,
    receipt_id: str,
    zone: tzinfo = UTC,
    balances: Sequence[LineBalance] = (),
) -> Receipt:
    """A receipt for ``lines`` of a signed order, checked against the order and ``earlier``.

    Refuses: lines not on the order, more packages than ordered over all receipts
    (no over-receipt), more than the line's ``balances`` allow (shipped, cancelled,
    voided, 60 days), a date before the order was signed, a date in the future.
    """
    if order.date_signed is None:
        raise ReceiptInvalid(
            (Problem("order", "order-not-signed", "only a signed order can be received against"),)
        )
    p = Problems()
    ordered = {line.line_no: line for line in order.lines}
    totals = received_so_far(earlier)
    limits = {b.line_no: b for b in balances}
    today = now.astimezone(zone).date()  # the pharmacy's calendar day
    for i, line in enumerate(lines):
        f = f"lines[{i}]"
        item = ordered.get(line.line_no)
        if item is None:
            p.add(
                f"{f}.line_no",
                "line-not-on-order",
                f"order {order.order_number} has no line {line.line_no}"
                f" (its lines are {', '.join(str(n) for n in sorted(ordered))})",
            )
            continue
        before = totals.get(line.line_no, 0)
        if before + line.quantity_received > item.quantity:
            left = item.quantity - before
            p.add(
                f"{f}.quantity_received",
                "over-receipt",
                f"line {line.line_no} ({item.item_name}) was ordered as {item.quantity}"
                f" package(s) and {before} already received; at most {left} more can be"
                f" received, not {line.quantity_received}",
            )
        elif line.line_no in limits and line.quantity_received > limits[line.line_no].receivable:
            p.add(f"{f}.quantity_received", *_beyond_balance(limits[line.line_no], line))
        if line.date_received < order.date_signed:
            p.add(
                f"{f}.date_received",
                "date-before-order",
                f"{line.date_received} is before the order was signed"
                f" ({order.date_signed}); check the date",
            )
        if line.date_received > today:
            p.add(
                f"{f}.date_received",
                "date-in-future",
                f"{line.date_received} is in the future; record goods on the day they arrive",
            )
    _raise_if_any(p)
    return Receipt(
        receipt_id=receipt_id,
        order_id=order.order_id,
        order_number=order.order_number,
        order_signature_sha256=order_signature_sha256,
        received_at=now.astimezone(UTC).replace(microsecond=0),
        lines=tuple(lines),
    )


def _beyond_balance(b: LineBalance, line: ReceiptLine) -> tuple[str, str]:
    """(code, message) for a receipt over what the line's balance allows."""
    head = (
        f"line {b.line_no} ({b.item_name}): {line.quantity_received} package(s) cannot be received"
    )
    if b.expired and b.shipped == 0:
        return (
            "balance-void",
            f"{head}; the order is more than 60 days old and nothing was reported shipped, so"
            " its balance is void (21 CFR 1305.22(e)). Sync with the distributor if goods did"
            " ship, or order again",
        )
    if b.shipped is not None:
        why = f"{b.shipped} shipped, {b.received} already received"
        if b.expired:
            why += f", {b.expired} void after 60 days (21 CFR 1305.22(e))"
        if b.supplier_voided:
            why += f", {b.supplier_voided} voided by the supplier"
        if b.cancelled:
            why += f", {b.cancelled} cancelled"
        return (
            "over-shipment",
            f"{head}: the distributor reports {why}; at most {b.receivable} more. Check the"
            " count, or sync with the distributor if another shipment arrived",
        )
    return (
        "balance-cancelled",
        f"{head}: {b.cancelled} cancelled and {b.supplier_voided} voided by the supplier,"
        f" {b.received} already received; at most {b.receivable} more",
    )
