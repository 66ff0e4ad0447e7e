"""Signed notices the purchaser sends or keeps about an order it already signed.

- ``csos-cancel/1`` (21 CFR 1305.28): the purchaser cancels all or part of an
  order by notifying the supplier; lines and packages cancelled are named.
- ``csos-lost-order/1`` (1305.26): a statement that a submitted order was lost,
  naming the original order number and date, linked to the replacement order.

Both name the original order by id, number and the SHA-256 of its CMS signature,
so they cannot be moved onto another order. Canonical RFC 8785 bytes are signed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.order import format_timestamp
from csos_desktop.domain.order_rules import (
    MISSING,
    DocumentInvalid,
    Problems,
    check_dea,
    check_order_id,
    check_order_number,
    check_positive_int,
    check_text,
    parse_date,
    parse_timestamp,
    wrong_type,
)

CANCEL_SCHEMA = "csos-cancel/1"
LOST_SCHEMA = "csos-lost-order/1"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CANCEL_KEYS = frozenset(
    {
        "schema",
        "cancellation_id",
        "order_id",
        "order_number",
        "order_signature_sha256",
        "cancelled_at",
        "reason",
        "lines",
    }
)
#: Shortest reason or explanation accepted: a sentence, not a keystroke.
MIN_REASON = 5


class NoticeInvalid(DocumentInvalid):
    noun = "notice"


@dataclass(frozen=True)
class CancelledLine:
    line_no: int
    quantity_cancelled: int


@dataclass(frozen=True)
class Cancellation:
    """The purchaser's signed cancellation of packages on lines of one order (1305.28)."""

    cancellation_id: str
    order_id: str
    order_number: str
    order_signature_sha256: str
    cancelled_at: datetime
    reason: str
    lines: tuple[CancelledLine, ...]

    def __post_init__(self) -> None:
        p = Problems(NoticeInvalid)
        check_order_id(p, "cancellation_id", self.cancellation_id, lenient=False)
        _check_original(p, self.order_id, self.order_number, self.order_signature_sha256)
        _check_reason(p, "reason", self.reason)
        if not self.lines:
            p.add("lines", "no-lines", "a cancellation names at least one line")
        seen: set[int] = set()
        for i, line in enumerate(self.lines):
            n = check_positive_int(p, f"lines[{i}].line_no", line.line_no, "line number")
            if n is not None and n in seen:
                p.add(f"lines[{i}].line_no", "line-no-duplicate", f"line {n} is named twice")
            seen.add(line.line_no)
            check_positive_int(
                p, f"lines[{i}].quantity_cancelled", line.quantity_cancelled, "packages cancelled"
            )
        p.raise_if_any()

    def to_document(self) -> dict[str, object]:
        return {
            "schema": CANCEL_SCHEMA,
            "cancellation_id": self.cancellation_id,
            "order_id": self.order_id,
            "order_number": self.order_number,
            "order_signature_sha256": self.order_signature_sha256,
            "cancelled_at": format_timestamp(self.cancelled_at),
            "reason": self.reason,
            "lines": [
                {"line_no": ln.line_no, "quantity_cancelled": ln.quantity_cancelled}
                for ln in self.lines
            ],
        }

    def canonical_bytes(self) -> bytes:
        return canonical_bytes(self.to_document())

    @property
    def quantities(self) -> dict[int, int]:
        return {ln.line_no: ln.quantity_cancelled for ln in self.lines}

    @classmethod
    def from_document(cls, doc: Mapping[str, object]) -> Cancellation:
        """Read a signed cancellation strictly (the inverse of ``to_document``)."""
        p = Problems(NoticeInvalid)
        for key in sorted(_CANCEL_KEYS - doc.keys()):
            p.add(key, "missing", "is required")
        for key in sorted(str(k) for k in doc.keys() - _CANCEL_KEYS):
            p.add(key, "unknown-key", f"is not part of a {CANCEL_SCHEMA} document")
        if doc.get("schema", CANCEL_SCHEMA) != CANCEL_SCHEMA:
            p.add("schema", "schema-version", f"must be {CANCEL_SCHEMA!r}")
        at = parse_timestamp(p, "cancelled_at", doc.get("cancelled_at", MISSING), lenient=False)
        lines: list[CancelledLine] = []
        raw = doc.get("lines", MISSING)
        if not isinstance(raw, list):
            wrong_type(p, "lines", raw, "a list of lines")
        else:
            for i, item in enumerate(raw):
                if not isinstance(item, Mapping) or set(item) != {"line_no", "quantity_cancelled"}:
                    p.add(f"lines[{i}]", "line-format", "must be {line_no, quantity_cancelled}")
                    continue
                n = check_positive_int(p, f"lines[{i}].line_no", item["line_no"], "line number")
                q = check_positive_int(
                    p, f"lines[{i}].quantity_cancelled", item["quantity_cancelled"], "packages"
                )
                if n is not None and q is not None:
                    lines.append(CancelledLine(n, q))
        p.raise_if_any()
        assert at is not None
        return cls(
            cancellation_id=doc["cancellation_id"],  # type: ignore[arg-type]  # checked
            order_id=doc["order_id"],  # type: ignore[arg-type]
            order_number=doc["order_number"],  # type: ignore[arg-type]
            order_signature_sha256=doc["order_signature_sha256"],  # type: ignore[arg-type]
            cancelled_at=at,
            reason=doc["reason"],  # type: ignore[arg-type]
            lines=tuple(lines),
        )


@dataclass(frozen=True)
class LostOrderStatement:
    """1305.26: the purchaser's signed statement that an order was lost, and its replacement."""

    statement_id: str
    order_id: str
    order_number: str
    order_date: date
    order_signature_sha256: str
    purchaser_dea: str
    supplier_dea: str
    explanation: str
    replacement_order_id: str
    replacement_order_number: str
    signed_at: datetime

    def __post_init__(self) -> None:
        p = Problems(NoticeInvalid)
        check_order_id(p, "statement_id", self.statement_id, lenient=False)
        _check_original(p, self.order_id, self.order_number, self.order_signature_sha256)
        _check_reason(p, "explanation", self.explanation)
        check_order_id(p, "replacement_order_id", self.replacement_order_id, lenient=False)
        check_order_number(p, "replacement_order_number", self.replacement_order_number, None)
        if self.replacement_order_number == self.order_number:
            p.add(
                "replacement_order_number",
                "same-number",
                "the replacement order needs a new order number (1305.26)",
            )
        p.raise_if_any()

    @property
    def text(self) -> str:
        return (
            f"Statement of lost electronic order (21 CFR 1305.26). The electronic order "
            f"{self.order_number} dated {self.order_date.isoformat()}, from DEA registrant "
            f"{self.purchaser_dea} to supplier DEA {self.supplier_dea}, was lost or not "
            f"received: {self.explanation} It is replaced by order "
            f"{self.replacement_order_number}. If the original order is received later, "
            "the supplier is asked to mark it not accepted."
        )

    def to_document(self) -> dict[str, object]:
        return {
            "schema": LOST_SCHEMA,
            "statement_id": self.statement_id,
            "order_id": self.order_id,
            "order_number": self.order_number,
            "order_date": self.order_date.isoformat(),
            "order_signature_sha256": self.order_signature_sha256,
            "purchaser_dea": self.purchaser_dea,
            "supplier_dea": self.supplier_dea,
            "explanation": self.explanation,
            "replacement_order_id": self.replacement_order_id,
            "replacement_order_number": self.replacement_order_number,
            "signed_at": format_timestamp(self.signed_at),
            "statement": self.text,
        }

    def canonical_bytes(self) -> bytes:
        return canonical_bytes(self.to_document())

    @classmethod
    def from_document(cls, doc: Mapping[str, object]) -> LostOrderStatement:
        """Read a signed statement strictly (the supplier's side); its ``statement`` text
        must be the one these fields give, so what was signed is what is read."""
        p = Problems(NoticeInvalid)
        keys = set(_LOST_TEXT_KEYS) | {"schema", "order_date", "signed_at", "statement"}
        for key in sorted(keys - doc.keys()):
            p.add(key, "missing", "is required")
        for key in sorted(str(k) for k in doc.keys() - keys):
            p.add(key, "unknown-key", f"is not part of a {LOST_SCHEMA} document")
        if doc.get("schema", LOST_SCHEMA) != LOST_SCHEMA:
            p.add("schema", "schema-version", f"must be {LOST_SCHEMA!r}")
        on = parse_date(p, "order_date", doc.get("order_date", MISSING))
        at = parse_timestamp(p, "signed_at", doc.get("signed_at", MISSING), lenient=False)
        for key in ("purchaser_dea", "supplier_dea"):
            check_dea(p, key, doc.get(key, MISSING), lenient=False)
        for key in _LOST_TEXT_KEYS:
            if not isinstance(doc.get(key, ""), str):
                wrong_type(p, key, doc[key], "text")
        p.raise_if_any()
        assert on is not None and at is not None
        fields = {k: str(doc[k]) for k in _LOST_TEXT_KEYS}
        statement = cls(**fields, order_date=on, signed_at=at)  # type: ignore[arg-type]
        if doc["statement"] != statement.text:
            p.add("statement", "statement-text", "is not the text the statement's fields give")
            p.raise_if_any()
        return statement


_LOST_TEXT_KEYS = (
    "statement_id",
    "order_id",
    "order_number",
    "order_signature_sha256",
    "purchaser_dea",
    "supplier_dea",
    "explanation",
    "replacement_order_id",
    "replacement_order_number",
)


def _check_original(p: Problems, order_id: object, number: object, sig: object) -> None:
    check_order_id(p, "order_id", order_id, lenient=False)
    check_order_number(p, "order_number", number, None)
    if not isinstance(sig, str) or not _SHA256_HEX.fullmatch(sig):
        p.add(
            "order_signature_sha256",
            "sha256-hex",
            "must be the SHA-256 of the order's signature as 64 lower-case hex digits",
        )


def _check_reason(p: Problems, field: str, value: object) -> None:
    text = check_text(p, field, value)
    if text is not None and len(text.strip()) < MIN_REASON:
        p.add(field, "reason-too-short", "say why, in a few words; it is kept on record")


def cancellable_quantities(
    requested: Mapping[int, int] | None, open_balance: Mapping[int, int]
) -> tuple[dict[int, int], list[str]]:
    """(quantities to cancel, problems): ``requested`` None cancels every open balance."""
    if requested is None:
        wanted = {n: q for n, q in open_balance.items() if q > 0}
        return wanted, [] if wanted else ["nothing on the order is left to cancel"]
    problems = []
    for n, q in sorted(requested.items()):
        if n not in open_balance:
            problems.append(f"line {n} is not on the order")
        elif q > open_balance[n]:
            problems.append(
                f"line {n}: {q} package(s) asked, but only {open_balance[n]} are still open "
                "(not shipped, cancelled or voided)"
            )
    return dict(requested), problems


def lines_of(quantities: Mapping[int, int]) -> Sequence[CancelledLine]:
    return tuple(CancelledLine(n, q) for n, q in sorted(quantities.items()) if q > 0)
