"""What comes back for an 850: the 855 acknowledgement, the 856 ship notice and the 997.

Pure values with writers and readers. What is written names the order by its number
(BAK03 / PRF01) and its ID (REF ZZ CSOS-ORDER-ID), so the client links it to the order it
sent. What is read may come from other suppliers' software, written to their own 4010 or
5010 guides: the order by its number alone, NDCs under any X12 NDC qualifier, other
acknowledgement codes, segments between a line and its ACK, the 856's shipment / order /
pack / item levels with the date at either end, LIN and SN1 without line numbers
(``line_no`` 0: the line is found by its NDC).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from csos_desktop.domain.ndc import Ndc, NdcInvalid, parse_ndc
from csos_desktop.domain.untrusted_input import whole_number
from csos_desktop.domain.x12.order850 import PO1_NDC, PO1_UNIT, REF_ORDER_ID, REF_ORDER_ID_NAME
from csos_desktop.domain.x12.syntax import (
    Envelope,
    Interchange,
    Segment,
    Separators,
    X12Error,
    X12Reason,
    read_interchange,
    seg,
    write_interchange,
)

N9_REJECTION = "ZZ"  # N901 of the 1305.25 reason; N902 its stable code, MSG01 its words


class AckStatus(enum.Enum):
    """BAK02: what the supplier says about the whole order."""

    ACCEPTED = "AT"
    ACCEPTED_WITH_CHANGES = "AC"
    REJECTED = "RJ"


class LineStatus(enum.Enum):
    """ACK01 of one line."""

    ACCEPTED = "IA"
    BACKORDERED = "IB"
    REJECTED = "IR"


@dataclass(frozen=True)
class AckLine:
    line_no: int
    ndc: Ndc
    ordered: int
    status: LineStatus
    quantity: int


@dataclass(frozen=True)
class OrderAck:
    """An 855: accepted, rejected with the 1305.25 reason, or line by line."""

    order_id: str
    order_number: str
    acknowledged_on: date
    status: AckStatus
    lines: tuple[AckLine, ...] = ()
    reason_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ShippedLine:
    line_no: int
    ndc: Ndc
    quantity_shipped: int
    shipped_on: date


@dataclass(frozen=True)
class ShipNotice:
    """An 856: shipment, order and item levels; quantity and date per line (1305.22(d))."""

    shipment_id: str
    order_id: str
    order_number: str
    shipped_at: datetime
    lines: tuple[ShippedLine, ...]


@dataclass(frozen=True)
class FunctionalAck:
    """A 997 for one received group: accepted or rejected."""

    functional_id: str
    group_control: int
    transaction_type: str
    accepted: bool


Reply = OrderAck | ShipNotice | FunctionalAck

#: Transaction set → GS01 functional identifier.
FUNCTIONAL_IDS = {"850": "PO", "855": "PR", "856": "SH", "997": "FA"}


def build_reply(
    doc: Reply, *, sender: str, receiver: str, control_number: int, prepared_at: datetime
) -> bytes:
    """The interchange of an 855, 856 or 997 from *sender* to *receiver* (DEA numbers)."""
    kind, body = _body_of(doc)
    env = Envelope(
        sender, receiver, control_number, prepared_at.astimezone(UTC), FUNCTIONAL_IDS[kind]
    )
    words = [e for s in body for e in s.elements]
    return write_interchange(env, kind, body, Separators.avoiding(words))


def _body_of(doc: Reply) -> tuple[str, list[Segment]]:
    if isinstance(doc, OrderAck):
        return "855", list(_ack_body(doc))
    if isinstance(doc, ShipNotice):
        return "856", list(_ship_body(doc))
    return "997", [
        seg("AK1", doc.functional_id, str(doc.group_control)),
        seg("AK2", doc.transaction_type, "0001"),
        seg("AK5", "A" if doc.accepted else "R"),
        seg("AK9", "A" if doc.accepted else "R", "1", "1", "1" if doc.accepted else "0"),
    ]


def _ack_body(a: OrderAck) -> Iterator[Segment]:
    yield seg("BAK", "00", a.status.value, a.order_number, a.acknowledged_on.strftime("%Y%m%d"))
    yield seg("REF", REF_ORDER_ID, REF_ORDER_ID_NAME, a.order_id)
    if a.reason_code is not None:
        yield seg("N9", N9_REJECTION, a.reason_code)
        yield seg("MSG", a.reason or a.reason_code)
    for ln in a.lines:
        yield seg("PO1", str(ln.line_no), str(ln.ordered), PO1_UNIT, "", "", PO1_NDC, ln.ndc.digits)
        yield seg("ACK", ln.status.value, str(ln.quantity), PO1_UNIT)
    yield seg("CTT", str(len(a.lines)))


def _ship_body(n: ShipNotice) -> Iterator[Segment]:
    at = n.shipped_at.astimezone(UTC)
    yield seg("BSN", "00", n.shipment_id, at.strftime("%Y%m%d"), at.strftime("%H%M"))
    yield seg("HL", "1", "", "S")
    yield seg("DTM", "011", at.strftime("%Y%m%d"))
    yield seg("HL", "2", "1", "O")
    yield seg("PRF", n.order_number)
    yield seg("REF", REF_ORDER_ID, REF_ORDER_ID_NAME, n.order_id)
    for i, ln in enumerate(n.lines, start=3):
        yield seg("HL", str(i), "2", "I")
        yield seg("LIN", str(ln.line_no), PO1_NDC, ln.ndc.digits)
        yield seg("SN1", str(ln.line_no), str(ln.quantity_shipped), PO1_UNIT)
        yield seg("DTM", "011", ln.shipped_on.strftime("%Y%m%d"))
    yield seg("CTT", str(len(n.lines) + 2))


# -- reading ------------------------------------------------------------------------------


def read_reply(data: bytes) -> tuple[Envelope, Reply]:
    """An 855, 856 or 997 interchange; X12Error (stable reason) otherwise."""
    ix = read_interchange(data)
    kind = ix.transaction_type
    if FUNCTIONAL_IDS.get(kind) != ix.envelope.functional_id or kind == "850":
        raise X12Error(
            X12Reason.WRONG_DOCUMENT,
            f"an X12 {kind} in a {ix.envelope.functional_id} group is not an 855, 856 or 997",
        )
    try:
        doc: Reply
        if kind == "855":
            doc = _read_855(ix)
        elif kind == "856":
            doc = _read_856(ix)
        else:
            doc = _read_997(ix)
        return ix.envelope, doc
    except (IndexError, KeyError, ValueError, NdcInvalid) as exc:
        if isinstance(exc, X12Error):
            raise
        raise X12Error(X12Reason.MISSING_FIELD, f"the {kind} cannot be read: {exc}") from exc


def _tags(ix: Interchange, *tags: str) -> list[Segment]:
    return [s for s in ix.body if s.tag in tags]


def _order_id(ix: Interchange) -> str:
    """Our order ID (REF ZZ CSOS-ORDER-ID), or "" when the distributor's software does not
    echo it: the order is then found by its number (BAK03 / PRF01)."""
    for s in _tags(ix, "REF"):
        if s.get(1) == REF_ORDER_ID and s.get(2) == REF_ORDER_ID_NAME and s.get(3):
            return s.get(3)
    return ""


def _day(text: str) -> date:
    return datetime.strptime(text[:8], "%Y%m%d").date()


#: NDC qualifiers of X12 (N1 4-4-2, N2 5-3-2, N3 5-4-1 in 10 digits; N4 5-4-2; ND any
#: form): where the 10 digits take the leading zero that makes the 11-digit 5-4-2 form.
_TEN_DIGIT_ZERO_AT = {"N1": 0, "N2": 5, "N3": 9}


def _ndc(seg_: Segment, first: int) -> Ndc:
    """The NDC among the qualifier/ID pairs of *seg_* from element *first* (PO106, LIN02)."""
    for n in range(first, len(seg_.elements) + 1, 2):
        qualifier, value = seg_.get(n).upper(), seg_.get(n + 1).strip()
        if qualifier in _TEN_DIGIT_ZERO_AT and value.isdigit() and len(value) == 10:
            at = _TEN_DIGIT_ZERO_AT[qualifier]
            return Ndc(value[:at] + "0" + value[at:])
        if qualifier in ("N4", "ND", "N1", "N2", "N3") and value:
            return parse_ndc(value)
    raise X12Error(X12Reason.MISSING_FIELD, f"{seg_.tag} {seg_.get(1)} names no NDC")


def _number(text: str, fallback: int) -> int:
    """A count as X12 writes it ("2", or the decimal "2.000"); *fallback* when absent."""
    whole, _, fraction = text.strip().partition(".")
    number = whole_number(whole) if not fraction.strip("0") else None  # ASCII digits only
    return fallback if number is None else number


def _ack_status(code: str) -> AckStatus:
    """BAK02, including the codes other suppliers use (AD, AE, AK, RD, ...)."""
    if code.startswith("R"):
        return AckStatus.REJECTED
    if code in ("AC", "AE"):
        return AckStatus.ACCEPTED_WITH_CHANGES
    if code in ("AT", "AD", "AK"):
        return AckStatus.ACCEPTED
    raise X12Error(X12Reason.MISSING_FIELD, f"BAK02 {code!r} is not an acknowledgement code")


def _line_status(code: str) -> LineStatus:
    """ACK01: accepted (as ordered or changed), backordered, or refused."""
    if code in ("IB", "BP", "IH", "IW"):  # backordered, partly; on hold (waiver)
        return LineStatus.BACKORDERED
    if code in ("IR", "ID") or code.startswith("R"):
        return LineStatus.REJECTED
    if code.startswith("I") or code in ("AC", "DR"):
        return LineStatus.ACCEPTED
    raise X12Error(X12Reason.MISSING_FIELD, f"ACK01 {code!r} is not a line status")


def _read_855(ix: Interchange) -> OrderAck:
    (bak,) = _tags(ix, "BAK")
    n9 = [s for s in _tags(ix, "N9") if s.get(1) == N9_REJECTION]
    msg = _tags(ix, "MSG")
    lines: list[AckLine] = []
    body = list(ix.body)
    for i, s in enumerate(body):
        if s.tag != "PO1":
            continue
        # Its ACK: the first before the next line (a PID, CTP or DTM may come between).
        ack = next((t for t in body[i + 1 :] if t.tag in ("ACK", "PO1")), None)
        if ack is None or ack.tag != "ACK":
            raise X12Error(X12Reason.MISSING_FIELD, f"line {s.get(1)} has no ACK segment")
        ordered = _number(s.get(2), 0)
        lines.append(
            AckLine(
                _number(s.get(1), len(lines) + 1),
                _ndc(s, 6),
                ordered,
                _line_status(ack.get(1)),
                _number(ack.get(2), ordered),
            )
        )
    return OrderAck(
        order_id=_order_id(ix),
        order_number=bak.get(3),
        acknowledged_on=_day(bak.get(4)),
        status=_ack_status(bak.get(2)),
        lines=tuple(lines),
        reason_code=n9[0].get(2) if n9 else None,
        reason=msg[0].get(1) if msg else None,
    )


def _read_856(ix: Interchange) -> ShipNotice:
    """Items are the HL loops of level I (shipment S, order O, pack P or T above them):
    LIN names the product, SN1 the quantity; the date is the item's DTM 011, else the
    shipment's, else BSN03."""
    (bsn,) = _tags(ix, "BSN")
    prf = _tags(ix, "PRF")
    shipped = datetime.strptime(bsn.get(3) + (bsn.get(4) or "0000")[:4], "%Y%m%d%H%M")
    shipped = shipped.replace(tzinfo=UTC)
    loops: list[list[Segment]] = [[]]
    for s in ix.body:
        if s.tag == "HL":
            loops.append([])
        loops[-1].append(s)
    shipment_day = next(
        (_day(s.get(2)) for loop in loops if _level(loop) == "S" for s in loop
         if s.tag == "DTM" and s.get(1) == "011"),
        shipped.date(),
    )  # fmt: skip
    lines: list[ShippedLine] = []
    for loop in loops:
        if _level(loop) != "I" and not (_level(loop) is None and _has(loop, "SN1")):
            continue
        lin = next((s for s in loop if s.tag == "LIN"), None)
        sn1 = next((s for s in loop if s.tag == "SN1"), None)
        if lin is None or sn1 is None:
            raise X12Error(X12Reason.MISSING_FIELD, "an 856 item needs LIN and SN1")
        day = next(
            (_day(s.get(2)) for s in loop if s.tag == "DTM" and s.get(1) == "011"), shipment_day
        )
        line_no = _number(lin.get(1), _number(sn1.get(1), 0))  # 0: matched by NDC
        shipped_count = _number(sn1.get(2), -1)
        if shipped_count < 0:
            raise X12Error(X12Reason.MISSING_FIELD, f"SN1 quantity {sn1.get(2)!r} is no count")
        lines.append(ShippedLine(line_no, _ndc(lin, 2), shipped_count, day))
    return ShipNotice(
        bsn.get(2), _order_id(ix), prf[0].get(1) if prf else "", shipped, tuple(lines)
    )


def _level(loop: list[Segment]) -> str | None:
    return loop[0].get(3) if loop and loop[0].tag == "HL" else None


def _has(loop: list[Segment], tag: str) -> bool:
    return any(s.tag == tag for s in loop)


def _read_997(ix: Interchange) -> FunctionalAck:
    (ak1,) = _tags(ix, "AK1")
    ak2 = _tags(ix, "AK2")
    (ak9,) = _tags(ix, "AK9")
    kind = ak2[0].get(1) if ak2 else ""
    # AK9 01: A accepted, E accepted with errors noted, P partly, R rejected.
    return FunctionalAck(ak1.get(1), int(ak1.get(2)), kind, ak9.get(1) in ("A", "E"))


def acknowledge(received: Envelope, transaction_type: str, accepted: bool) -> FunctionalAck:
    """The 997 for one received interchange (its group control number is GS06)."""
    return FunctionalAck(
        received.functional_id, received.control_number, transaction_type, accepted
    )
