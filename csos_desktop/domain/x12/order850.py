"""An order as an X12 004010 850 purchase order, and back: the one 1305.21(b) mapping.

``MAPPING`` is the table (docs/x12.md prints it with its sources); ``build_850`` and
``read_850`` are written against its constants, so a place changes in one row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from csos_desktop.domain.dea import DeaNumber, DeaNumberInvalid
from csos_desktop.domain.ndc import Ndc, NdcInvalid
from csos_desktop.domain.order import Address, Order, OrderInvalid, OrderLine, Party
from csos_desktop.domain.schedule import Schedule
from csos_desktop.domain.x12.syntax import (
    Envelope,
    Segment,
    Separators,
    X12Error,
    X12Reason,
    read_interchange,
    seg,
    write_interchange,
)

TRANSACTION = "850"
FUNCTIONAL_ID = "PO"  # GS01 of a purchase order group
BEG_PURPOSE = "00"  # BEG01: original
BEG_TYPE = "SA"  # BEG02: stand-alone order
DTM_SIGNED = "004"  # DTM01: purchase order date, the day the order is signed
DTM_CREATED = "097"  # DTM01: transaction creation, the draft's creation time
REF_ORDER_ID = "ZZ"  # REF01: mutually defined; REF02 names it, REF03 holds the UUID
REF_ORDER_ID_NAME = "CSOS-ORDER-ID"
N1_PURCHASER = "BY"
N1_SUPPLIER = "SU"
N1_DEA = "11"  # N103: Drug Enforcement Administration number
PO1_UNIT = "EA"  # PO103: each, one package
PO1_NDC = "N4"  # PO106: NDC in 5-4-2 format, 11 digits
PID_FREE_FORM = "F"
PID_PRODUCT = "08"  # PID02 of the item name
PID_AGENCY = "ZZ"  # PID03: mutually defined codes in PID04
PID_STRENGTH = "STRENGTH"
PID_FORM = "FORM"
PID_SCHEDULE = "DEASCHEDULE"


@dataclass(frozen=True)
class Place:
    """Where one order field sits in the 850: segment, element and qualifier."""

    field: str
    regulation: str
    where: str
    max_length: int | None = None


#: The 1305.21(b) fields (and the order's own identifiers) and their places in the 850.
MAPPING: tuple[Place, ...] = (
    Place("order_number", "1305.21(b)(1)", f"BEG03 (BEG01 {BEG_PURPOSE}, BEG02 {BEG_TYPE})", 22),
    Place("date_signed", "1305.21(b)(6)", f"BEG05 and DTM02 of DTM01 {DTM_SIGNED}"),
    Place("created_at", "", f"DTM02/DTM03 of DTM01 {DTM_CREATED}, DTM04 UT"),
    Place("order_id", "", f"REF03 of REF01 {REF_ORDER_ID}, REF02 {REF_ORDER_ID_NAME}", 80),
    Place("purchaser.name", "", f"N102 of N101 {N1_PURCHASER}", 60),
    Place("purchaser.dea_number", "1305.21(b)(2)", f"N104 of N101 {N1_PURCHASER}, N103 11"),
    Place("purchaser.address.street", "", "N301 in the BY loop", 55),
    Place("purchaser.address.city", "", "N401 in the BY loop", 30),
    Place("purchaser.address.state", "", "N402 in the BY loop"),
    Place("purchaser.address.postal_code", "", "N403 in the BY loop", 15),
    Place("supplier.name", "1305.21(b)(3)", f"N102 of N101 {N1_SUPPLIER}", 60),
    Place("supplier.dea_number", "1305.21(b)(5)", f"N104 of N101 {N1_SUPPLIER}, N103 11"),
    Place("supplier.address.street", "1305.21(b)(4)", "N301 in the SU loop", 55),
    Place("supplier.address.city", "1305.21(b)(4)", "N401 in the SU loop", 30),
    Place("supplier.address.state", "1305.21(b)(4)", "N402 in the SU loop"),
    Place("supplier.address.postal_code", "1305.21(b)(4)", "N403 in the SU loop", 15),
    Place("lines[].line_no", "", "PO101", 20),
    Place("lines[].quantity", "1305.21(b)(9)", f"PO102, PO103 {PO1_UNIT}", 15),
    Place("lines[].ndc", "1305.21(b)(7)", f"PO107, PO106 {PO1_NDC}"),
    Place("lines[].item_name", "1305.21(b)(7)", f"PID05 of PID01 F, PID02 {PID_PRODUCT}", 80),
    Place("lines[].strength", "1305.21(b)(7)", f"PID05 of PID03 ZZ, PID04 {PID_STRENGTH}", 80),
    Place("lines[].dosage_form", "1305.21(b)(7)", f"PID05 of PID03 ZZ, PID04 {PID_FORM}", 80),
    Place("lines[].package_size", "1305.21(b)(8)", "PO401", 6),
    Place("lines[].schedule", "", f"PID05 of PID03 ZZ, PID04 {PID_SCHEDULE} (absent if none)"),
    Place("line count", "", "CTT01 (CTT02: sum of PO102)"),
)
_MAX = {p.field: p.max_length for p in MAPPING if p.max_length is not None}


def interchange_parties(order: Order) -> tuple[str, str]:
    """ISA06/GS02 and ISA08/GS03: purchaser's and supplier's DEA numbers."""
    return order.purchaser.dea_number.value, order.supplier.dea_number.value


def build_850(
    order: Order, *, control_number: int, prepared_at: datetime, usage: str = "P"
) -> bytes:
    """The interchange for *order*: ISA/GS/ST 850 ... SE/GE/IEA, UTF-8 text."""
    body = list(_body(order))
    for field, value in _text_fields(order):
        limit = _MAX.get(field)
        if limit is not None and len(value) > limit:
            raise X12Error(
                X12Reason.FIELD_TOO_LONG,
                f"{field} {value[:20]!r}... has {len(value)} characters; an X12 850 holds"
                f" at most {limit} there. Shorten it before sending the order as X12.",
            )
    sender, receiver = interchange_parties(order)
    env = Envelope(
        sender, receiver, control_number, prepared_at.astimezone(UTC), FUNCTIONAL_ID, usage
    )
    words = [e for s in body for e in s.elements]
    return write_interchange(env, TRANSACTION, body, Separators.avoiding(words))


def _text_fields(order: Order) -> Iterator[tuple[str, str]]:
    for role in ("purchaser", "supplier"):
        party: Party = getattr(order, role)
        yield f"{role}.name", party.name
        yield f"{role}.address.street", party.address.street
        yield f"{role}.address.city", party.address.city
        yield f"{role}.address.postal_code", party.address.postal_code
    for line in order.lines:
        yield "lines[].item_name", line.item_name
        yield "lines[].strength", line.strength
        yield "lines[].dosage_form", line.dosage_form
        yield "lines[].package_size", str(line.package_size)
        yield "lines[].quantity", str(line.quantity)
        yield "lines[].line_no", str(line.line_no)


def _body(order: Order) -> Iterator[Segment]:
    created = order.created_at.astimezone(UTC)
    po_date = order.date_signed or created.date()
    yield seg("BEG", BEG_PURPOSE, BEG_TYPE, order.order_number, "", po_date.strftime("%Y%m%d"))
    yield seg("REF", REF_ORDER_ID, REF_ORDER_ID_NAME, order.order_id)
    yield seg("DTM", DTM_CREATED, created.strftime("%Y%m%d"), created.strftime("%H%M%S"), "UT")
    if order.date_signed is not None:
        yield seg("DTM", DTM_SIGNED, order.date_signed.strftime("%Y%m%d"))
    for code, party in ((N1_PURCHASER, order.purchaser), (N1_SUPPLIER, order.supplier)):
        yield seg("N1", code, party.name, N1_DEA, party.dea_number.value)
        yield seg("N3", party.address.street)
        a = party.address
        yield seg("N4", a.city, a.state, a.postal_code)
    for line in order.lines:
        q = str(line.quantity)
        yield seg("PO1", str(line.line_no), q, PO1_UNIT, "", "", PO1_NDC, line.ndc.digits)
        yield seg("PID", PID_FREE_FORM, PID_PRODUCT, "", "", line.item_name)
        yield seg("PID", PID_FREE_FORM, "", PID_AGENCY, PID_STRENGTH, line.strength)
        yield seg("PID", PID_FREE_FORM, "", PID_AGENCY, PID_FORM, line.dosage_form)
        if line.schedule is not None:
            yield seg("PID", PID_FREE_FORM, "", PID_AGENCY, PID_SCHEDULE, line.schedule.value)
        yield seg("PO4", str(line.package_size))
    yield seg("CTT", str(len(order.lines)), str(order.total_packages))


# -- reading ------------------------------------------------------------------------------


def read_850(data: bytes) -> Order:
    """The order an 850 interchange states; X12Error (stable reason) if it cannot be read."""
    ix = read_interchange(data)
    if ix.transaction_type != TRANSACTION or ix.envelope.functional_id != FUNCTIONAL_ID:
        raise X12Error(
            X12Reason.WRONG_DOCUMENT,
            f"this is an X12 {ix.transaction_type} ({ix.envelope.functional_id} group),"
            " not an 850 purchase order",
        )
    r = _Reader(ix.body)
    beg = r.one("BEG", "order number")
    if (beg.get(1), beg.get(2)) != (BEG_PURPOSE, BEG_TYPE):
        raise X12Error(
            X12Reason.WRONG_DOCUMENT,
            f"BEG01/BEG02 are {beg.get(1)!r}/{beg.get(2)!r}: only an original stand-alone"
            f" order ({BEG_PURPOSE}/{BEG_TYPE}) is a CSOS order",
        )
    order_number = _need(beg.get(3), "BEG03 (order number)")
    po_date = _date(_need(beg.get(5), "BEG05 (order date)"), "BEG05")
    order_id = _need(r.qualified("REF", 1, REF_ORDER_ID, "order ID").get(3), "REF03 (order ID)")
    created = r.qualified("DTM", 1, DTM_CREATED, "creation time")
    created_at = _moment(created)
    signed = r.optional("DTM", 1, DTM_SIGNED)
    date_signed = None if signed is None else _date(signed.get(2), "DTM02")
    if date_signed is not None and date_signed != po_date:
        raise X12Error(
            X12Reason.CONTROL_MISMATCH,
            f"BEG05 ({po_date}) and the signing date DTM ({date_signed}) differ",
        )
    purchaser = _party(r, N1_PURCHASER, "purchaser")
    supplier = _party(r, N1_SUPPLIER, "supplier")
    lines = []
    while r.peek() == "PO1":
        lines.append(_line(r))
    ctt = r.one("CTT", "line count")
    if ctt.get(1) != str(len(lines)):
        raise X12Error(
            X12Reason.CONTROL_MISMATCH,
            f"CTT01 says {ctt.get(1)!r} lines but the order has {len(lines)}",
        )
    if ctt.get(2) and ctt.get(2) != str(sum(ln.quantity for ln in lines)):
        raise X12Error(
            X12Reason.CONTROL_MISMATCH, f"CTT02 {ctt.get(2)!r} is not the sum of the quantities"
        )
    r.end()
    try:
        return Order(
            order_id, order_number, created_at, purchaser, supplier, tuple(lines), date_signed
        )
    except OrderInvalid as exc:
        raise X12Error(X12Reason.MISSING_FIELD, f"the 850 is not a valid order: {exc}") from exc


class _Reader:
    """The body segments in order, consumed front to back."""

    def __init__(self, body: tuple[Segment, ...]) -> None:
        self._body = body
        self._i = 0

    def peek(self) -> str:
        return self._body[self._i].tag if self._i < len(self._body) else ""

    def one(self, tag: str, what: str) -> Segment:
        if self.peek() != tag:
            raise X12Error(
                X12Reason.MISSING_FIELD,
                f"the 850 has no {tag} segment for the {what} where one is required"
                f" (found {self.peek() or 'the end'})",
            )
        self._i += 1
        return self._body[self._i - 1]

    def optional(self, tag: str, n: int, code: str) -> Segment | None:
        if self.peek() == tag and self._body[self._i].get(n) == code:
            self._i += 1
            return self._body[self._i - 1]
        return None

    def qualified(self, tag: str, n: int, code: str, what: str) -> Segment:
        s = self.optional(tag, n, code)
        if s is None:
            raise X12Error(
                X12Reason.MISSING_FIELD, f"the 850 has no {tag} with {tag}{n:02d} {code} ({what})"
            )
        return s

    def end(self) -> None:
        if self.peek():
            raise X12Error(
                X12Reason.MALFORMED, f"unexpected {self.peek()} segment in the 850 after CTT"
            )


def _need(value: str, what: str) -> str:
    if not value:
        raise X12Error(X12Reason.MISSING_FIELD, f"the 850 has no {what}")
    return value


def _date(text: str, what: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError as exc:
        raise X12Error(X12Reason.MALFORMED, f"{what} {text!r} is not a CCYYMMDD date") from exc


def _moment(dtm: Segment) -> datetime:
    if dtm.get(4) != "UT":
        raise X12Error(X12Reason.MALFORMED, "the creation time DTM must be in UT (DTM04)")
    try:
        return datetime.strptime(dtm.get(2) + dtm.get(3), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise X12Error(X12Reason.MALFORMED, f"the creation time cannot be read: {exc}") from exc


def _party(r: _Reader, code: str, what: str) -> Party:
    n1 = r.qualified("N1", 1, code, what)
    if n1.get(3) != N1_DEA:
        raise X12Error(
            X12Reason.MISSING_FIELD, f"the {what}'s N1 has no DEA number (N103 {N1_DEA})"
        )
    name = _need(n1.get(2), f"{what} name (N102)")
    try:
        dea = DeaNumber(n1.get(4))
    except DeaNumberInvalid as exc:
        raise X12Error(X12Reason.MISSING_FIELD, f"the {what}'s DEA number (N104): {exc}") from exc
    street = _need(r.one("N3", f"{what} street").get(1), f"{what} street (N301)")
    n4 = r.one("N4", f"{what} city, state and ZIP code")
    address = Address(
        street,
        _need(n4.get(1), f"{what} city (N401)"),
        _need(n4.get(2), f"{what} state (N402)"),
        _need(n4.get(3), f"{what} ZIP code (N403)"),
    )
    return Party(name, address, dea)


def _line(r: _Reader) -> OrderLine:
    po1 = r.one("PO1", "line")
    if po1.get(3) != PO1_UNIT or po1.get(6) != PO1_NDC:
        raise X12Error(
            X12Reason.MISSING_FIELD,
            f"PO1 {po1.get(1)!r} must give the quantity in {PO1_UNIT} (PO103) and the NDC"
            f" as {PO1_NDC} (PO106)",
        )
    try:
        ndc = Ndc(po1.get(7))
    except NdcInvalid as exc:
        raise X12Error(X12Reason.MISSING_FIELD, f"PO107 of line {po1.get(1)!r}: {exc}") from exc
    name = r.qualified("PID", 2, PID_PRODUCT, "item name").get(5)
    described: dict[str, str] = {}
    while r.peek() == "PID":
        pid = r.one("PID", "item description")
        described[pid.get(4)] = pid.get(5)
    po4 = r.one("PO4", "package size")
    schedule_code = described.get(PID_SCHEDULE)
    try:
        schedule = None if schedule_code is None else Schedule(schedule_code)
        return OrderLine(
            line_no=_int(po1.get(1), "PO101"),
            ndc=ndc,
            item_name=name,
            strength=described.get(PID_STRENGTH, ""),
            dosage_form=described.get(PID_FORM, ""),
            package_size=_int(po4.get(1), "PO401"),
            quantity=_int(po1.get(2), "PO102"),
            schedule=schedule,
        )
    except ValueError as exc:
        raise X12Error(X12Reason.MISSING_FIELD, f"line {po1.get(1)!r}: {exc}") from exc


def _int(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise X12Error(X12Reason.MISSING_FIELD, f"{what} {text!r} is not a whole number")
    return int(text)
