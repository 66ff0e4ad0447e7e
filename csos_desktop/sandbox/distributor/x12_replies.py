"""The reference distributor's 855 and 856 for an order, from its order record.

Derived, not stored: the same record gives the same interchanges (dates and control
numbers come from the record), so a pharmacy polling twice gets the same bytes inside.
The 855 is signed with the statement key, like the statements, the interchange
encapsulated (``application/x-csos-signed-order`` layout); the 856 goes unsigned, as
EDI ship notices do, its quantities and dates repeating the signed shipment statements.
No 997 here: orders reach this API as signed JSON, not as interchanges.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from csos_desktop.domain.ndc import Ndc
from csos_desktop.domain.x12.replies import (
    AckLine,
    AckStatus,
    LineStatus,
    OrderAck,
    ShipNotice,
    ShippedLine,
    build_reply,
)
from csos_desktop.pki.cms_attached import attach

#: Order statuses with no answer yet (held for review, not yet judged).
_PENDING = {"intercepted", "pending", "received"}


def replies_of(
    record: Mapping[str, Any],
    purchaser_dea: str,
    supplier_dea: str,
    sign: Callable[[bytes, datetime], bytes] | None,
) -> list[str]:
    """Base64 interchanges: the 855 (signed when *sign* is given) and one 856 per ship date."""
    out = []
    for kind, doc, at in _documents(record):
        data = build_reply(
            doc,
            sender=supplier_dea,
            receiver=purchaser_dea,
            control_number=_control(record["order_id"], kind, at),
            prepared_at=at,
        )
        if kind == "855" and sign is not None:
            data = attach(sign(data, at), data)
        out.append(base64.b64encode(data).decode("ascii"))
    return out


def _control(order_id: str, kind: str, at: datetime) -> int:
    digest = hashlib.sha256(f"{order_id}/{kind}/{at.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 999_999_999 + 1


def _moment(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _documents(record: Mapping[str, Any]) -> Iterator[tuple[str, Any, datetime]]:
    status = str(record["status"])
    if status in _PENDING:
        return
    at = _moment(record["received_at"]).replace(microsecond=0)
    order_id, number = str(record["order_id"]), str(record["order_number"] or "")
    if status == "rejected":
        reasons = record.get("reasons") or [{}]
        first = reasons[0] if isinstance(reasons[0], Mapping) else {"code": str(reasons[0])}
        yield (
            "855",
            OrderAck(
                order_id,
                number,
                at.date(),
                AckStatus.REJECTED,
                reason_code=str(first.get("code", "rejected")),
                reason=str(first.get("message", record.get("statement") or "rejected")),
            ),
            at,
        )
        return
    lines = record["lines"]
    yield (
        "855",
        OrderAck(
            order_id,
            number,
            at.date(),
            AckStatus.ACCEPTED,
            tuple(
                AckLine(
                    int(x["line_no"]),
                    Ndc(str(x["ndc"]).replace("-", "")),
                    int(x["quantity_ordered"]),
                    LineStatus.ACCEPTED,
                    int(x["quantity_ordered"]),
                )
                for x in lines
            ),
        ),
        at,
    )
    by_day: dict[date, list[ShippedLine]] = {}
    for x in lines:
        for s in x.get("shipments", []):
            day = date.fromisoformat(str(s["ship_date"]))
            ndc = Ndc(str(x["ndc"]).replace("-", ""))
            by_day.setdefault(day, []).append(
                ShippedLine(int(x["line_no"]), ndc, int(s["containers"]), day)
            )
    for day, shipped in sorted(by_day.items()):
        when = datetime(day.year, day.month, day.day, tzinfo=UTC)
        yield (
            "856",
            ShipNotice(f"{number}-{day:%Y%m%d}", order_id, number, when, tuple(shipped)),
            when,
        )
