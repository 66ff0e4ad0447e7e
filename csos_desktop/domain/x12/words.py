"""Any of the four X12 documents (850, 855, 856, 997) in plain words, one line each."""

from __future__ import annotations

from collections.abc import Iterator

from csos_desktop.domain.order import Order
from csos_desktop.domain.x12.order850 import read_850
from csos_desktop.domain.x12.replies import (
    AckStatus,
    FunctionalAck,
    OrderAck,
    ShipNotice,
    read_reply,
)
from csos_desktop.domain.x12.syntax import Envelope, read_interchange

_ACK = {
    AckStatus.ACCEPTED: "accepted",
    AckStatus.ACCEPTED_WITH_CHANGES: "accepted with changes (see the lines)",
    AckStatus.REJECTED: "REJECTED",
}


def in_words(data: bytes) -> list[str]:
    """What the interchange says; X12Error if it cannot be read."""
    ix = read_interchange(data)
    env = ix.envelope
    head = (
        f"Interchange {env.control_number:09d} from {env.sender} to {env.receiver}, "
        f"prepared {env.prepared_at:%Y-%m-%d %H:%M} UTC" + (" (TEST)" if env.usage == "T" else "")
    )
    if ix.transaction_type == "850":
        return [head, *_order(read_850(data))]
    _, doc = read_reply(data)
    return [head, *_reply(doc, env)]


def _order(o: Order) -> Iterator[str]:
    signed = o.date_signed.isoformat() if o.date_signed else "not signed"
    yield f"Purchase order (850) {o.order_number}, date signed {signed}, order ID {o.order_id}"
    for role, p in (("Purchaser", o.purchaser), ("Supplier", o.supplier)):
        a = p.address
        yield (
            f"{role}: {p.name}, {a.street}, {a.city}, {a.state} {a.postal_code}, "
            f"DEA {p.dea_number.value}"
        )
    for ln in o.lines:
        schedule = f"schedule {ln.schedule.value}" if ln.schedule else "not controlled"
        yield (
            f"  line {ln.line_no}: {ln.quantity} x {ln.package_size} {ln.item_name} "
            f"{ln.strength} {ln.dosage_form}, NDC {ln.ndc.formatted}, {schedule}"
        )
    yield f"{len(o.lines)} line(s)"


def _reply(doc: OrderAck | ShipNotice | FunctionalAck, env: Envelope) -> Iterator[str]:
    if isinstance(doc, OrderAck):
        yield (
            f"Acknowledgement (855) of order {doc.order_number}: {_ACK[doc.status]} on "
            f"{doc.acknowledged_on}"
        )
        if doc.reason_code:
            yield f"Reason (21 CFR 1305.25): {doc.reason_code}: {doc.reason}"
        for a in doc.lines:
            yield (
                f"  line {a.line_no}: {a.status.name.lower()}, {a.quantity} of {a.ordered}, "
                f"NDC {a.ndc.formatted}"
            )
    elif isinstance(doc, ShipNotice):
        yield (
            f"Ship notice (856) {doc.shipment_id} for order {doc.order_number}, shipped "
            f"{doc.shipped_at:%Y-%m-%d %H:%M} UTC"
        )
        for s in doc.lines:
            line = f"line {s.line_no}" if s.line_no else "line (by NDC)"
            yield (
                f"  {line}: {s.quantity_shipped} package(s) shipped on "
                f"{s.shipped_on}, NDC {s.ndc.formatted}"
            )
    else:
        verdict = "accepted" if doc.accepted else "REJECTED"
        yield (
            f"Functional acknowledgement (997): {doc.transaction_type} group "
            f"{doc.group_control} ({doc.functional_id}) {verdict}"
        )
