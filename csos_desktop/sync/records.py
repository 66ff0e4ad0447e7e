"""The distributor's records as the client reads them: typed, checked, never trusted.

Anything missing or mistyped in a reply is a ProtocolError naming the field.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from csos_desktop.sync.errors import ProtocolError


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class LineRecord:
    line_no: int
    ndc: str
    item_name: str
    quantity_ordered: int
    quantity_shipped: int
    quantity_voided: int
    shipments: tuple[tuple[int, date], ...]  # (containers, ship date), 1305.22(d)
    #: The purchaser's cancellations within ``quantity_voided`` (0 from older servers).
    quantity_cancelled: int = 0

    @property
    def voided_by_supplier(self) -> int:
        return max(0, self.quantity_voided - self.quantity_cancelled)


@dataclass(frozen=True)
class SignedStatement:
    """A statement the distributor signed (``csos-statement/1``), as received."""

    kind: str
    document: bytes
    signature: bytes


@dataclass(frozen=True)
class OrderRecord:
    """The distributor's record of one order."""

    order_id: str
    order_number: str | None
    status: str
    received_at: datetime
    date_signed: date | None
    balance_due_by: date | None
    document_sha256: str
    signature_sha256: str
    reasons: tuple[Reason, ...]
    statement: str | None
    warnings: tuple[str, ...]
    som: Mapping[str, Any] | None
    lines: tuple[LineRecord, ...]
    receipts: tuple[str, ...]
    replayed: bool = False
    signed_statements: tuple[SignedStatement, ...] = ()
    #: The distributor's 855 and 856 as X12 interchanges, when it sends them.
    x12: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class Change:
    cursor: str
    order_id: str
    event: str
    status: str
    at: datetime


@dataclass(frozen=True)
class ChangesPage:
    changes: tuple[Change, ...]
    next_cursor: str
    has_more: bool


@dataclass(frozen=True)
class ReceiptRecord:
    receipt_id: str
    order_id: str
    accepted_at: datetime
    document_sha256: str
    lines: tuple[Mapping[str, Any], ...]
    replayed: bool = False


@dataclass(frozen=True)
class CancellationRecord:
    """A cancellation the distributor accepted (1305.28) and the order's status after it."""

    cancellation_id: str
    order_id: str
    accepted_at: datetime
    document_sha256: str
    order_status: str
    replayed: bool = False


@dataclass(frozen=True)
class LostStatementRecord:
    """A lost-order statement the distributor kept (1305.26); ``original_status``: the
    original's status there when it arrived, None when it never reached the distributor."""

    statement_id: str
    order_id: str
    received_at: datetime
    document_sha256: str
    original_status: str | None
    replayed: bool = False


@dataclass(frozen=True)
class PrescriptionRecord:
    """The pharmacy's record of one transmitted prescription (``status``: accepted|rejected)."""

    rx_id: str
    pharmacy_id: str
    status: str
    received_at: datetime
    retain_until: date
    document_sha256: str
    signature_sha256: str
    practitioner_dea_number: str | None
    reasons: tuple[Reason, ...]
    warnings: tuple[str, ...]
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"


@dataclass(frozen=True)
class HistoryRow:
    """One order line for the SOM cache (the columns of the history CSV)."""

    order_id: str
    order_date: date
    purchaser_dea: str
    ndc: str
    drug_code: int
    dosage_units: int


@dataclass(frozen=True)
class HistoryPage:
    rows: tuple[HistoryRow, ...]
    next_cursor: str
    has_more: bool


@dataclass
class Body:
    """Typed access to a JSON object; anything missing or mistyped is a ProtocolError."""

    data: Mapping[str, Any]
    what: str
    _seen: set[str] = field(default_factory=set)

    def get(self, key: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
        value = self.data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ProtocolError(
                f"the distributor's {self.what} has no valid `{key}`; the "
                "server does not speak this API version"
            )
        return value

    def when(self, key: str) -> datetime:
        value = _parse(self, key, datetime.fromisoformat, optional=False)
        assert isinstance(value, datetime)
        return value

    def day(self, key: str, *, optional: bool = False) -> date | None:
        value = _parse(self, key, date.fromisoformat, optional)
        assert value is None or isinstance(value, date)
        return value

    def required_day(self, key: str) -> date:
        value = self.day(key)
        assert value is not None
        return value

    def items(self, key: str, what: str) -> list[Body]:
        return [
            Body(x, what) if isinstance(x, Mapping) else Body({}, what) for x in self.get(key, list)
        ]


def _parse(body: Body, key: str, fn: Callable[[str], object], optional: bool) -> object:
    text = body.get(key, str, optional=optional)
    if text is None:
        return None
    try:
        return fn(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ProtocolError(f"the distributor's {body.what} has a malformed `{key}`") from exc


def order_record(b: Body, replayed: bool) -> OrderRecord:
    return OrderRecord(
        order_id=b.get("order_id", str),
        order_number=b.get("order_number", str, optional=True),
        status=b.get("status", str),
        received_at=b.when("received_at"),
        date_signed=b.day("date_signed", optional=True),
        balance_due_by=b.day("balance_due_by", optional=True),
        document_sha256=b.get("document_sha256", str),
        signature_sha256=b.get("signature_sha256", str),
        reasons=tuple(
            Reason(r.get("code", str), r.get("message", str)) for r in b.items("reasons", "reason")
        ),
        statement=b.get("statement", str, optional=True),
        warnings=tuple(str(w) for w in b.get("warnings", list)),
        som=b.get("som", dict, optional=True),
        lines=tuple(
            LineRecord(
                x.get("line_no", int),
                x.get("ndc", str),
                x.get("item_name", str),
                x.get("quantity_ordered", int),
                x.get("quantity_shipped", int),
                x.get("quantity_voided", int),
                tuple(
                    (s.get("containers", int), s.required_day("ship_date"))
                    for s in x.items("shipments", "shipment")
                ),
                x.get("quantity_cancelled", int, optional=True) or 0,
            )
            for x in b.items("lines", "order line")
        ),
        receipts=tuple(str(r) for r in b.get("receipts", list)),
        replayed=replayed,
        signed_statements=tuple(
            SignedStatement(s.get("kind", str), _b64(s, "document"), _b64(s, "signature"))
            for s in (
                b.items("signed_statements", "signed statement")
                if b.data.get("signed_statements")
                else []
            )
        ),
        x12=tuple(_b64_text(x) for x in b.data.get("x12") or []),
    )


def _b64_text(value: object) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError("not text")
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ProtocolError("the distributor's order record has a malformed `x12` item") from exc


def _b64(body: Body, key: str) -> bytes:
    try:
        return base64.b64decode(body.get(key, str), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ProtocolError(f"the distributor's {body.what} has a malformed `{key}`") from exc


def prescription_record(b: Body, replayed: bool) -> PrescriptionRecord:
    return PrescriptionRecord(
        rx_id=b.get("rx_id", str),
        pharmacy_id=b.get("pharmacy_id", str),
        status=b.get("status", str),
        received_at=b.when("received_at"),
        retain_until=b.required_day("retain_until"),
        document_sha256=b.get("document_sha256", str),
        signature_sha256=b.get("signature_sha256", str),
        practitioner_dea_number=b.get("practitioner_dea_number", str, optional=True),
        reasons=tuple(
            Reason(r.get("code", str), r.get("message", str)) for r in b.items("reasons", "reason")
        ),
        warnings=tuple(str(w) for w in b.get("warnings", list)),
        replayed=replayed,
    )
