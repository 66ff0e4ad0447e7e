"""What 21 CFR 1305.22(c) and 1305.25 ask of a supplier before filling a CSOS order.

Every reason that applies is reported (not only the first), each as a stable
code that the distributor API, the CLI and the GUI share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.canonical import MalformedDocument, load_document
from csos_desktop.domain.order import Order, OrderInvalid
from csos_desktop.pki.profile import CsosCertificateInfo
from csos_desktop.pki.signed_check import (
    Collector,
    Finding,
    Reason,
    Verification,
    check_signed,
    never_raises,
)

__all__ = [
    "ORDER_VALIDITY",
    "Finding",
    "OrderReader",
    "OrderVerification",
    "Reason",
    "verify_order",
]

#: 1305.22(e): no order is valid more than 60 days after the purchaser signed it.
ORDER_VALIDITY = timedelta(days=60)


@dataclass(frozen=True)
class OrderVerification(Verification):
    """The supplier's verdict on one signed order."""

    order: Order | None = None

    def document_json(self) -> dict[str, object]:
        return {
            "order_id": self.order.order_id if self.order else None,
            "order_number": self.order.order_number if self.order else None,
        }


def read_order(document: bytes, out: Collector) -> Order | None:
    try:
        order = Order.from_document(load_document(document))
    except (MalformedDocument, OrderInvalid) as exc:
        out.add(Reason.MALFORMED_DOCUMENT, str(exc))
        return None
    return require_date_signed(order, out)


def require_date_signed(order: Order, out: Collector) -> Order:
    """A signed order states the day it was signed (1305.21(b)), whatever its format."""
    if order.date_signed is None:
        out.add(Reason.MALFORMED_DOCUMENT, "the order has no date signed (21 CFR 1305.21(b))")
    return order


def check_dates(order: Order | None, when: datetime | None, now: datetime, out: Collector) -> None:
    if when is None:
        return
    if now - when > ORDER_VALIDITY:
        out.add(
            Reason.ORDER_EXPIRED,
            f"the order was signed on {when:%Y-%m-%d}, more than 60 days ago (21 CFR 1305.22(e))",
        )
    signed_on = order.date_signed if order is not None else None
    if signed_on is not None and abs((signed_on - when.date()).days) > 1:
        out.add(
            Reason.MALFORMED_DOCUMENT,
            f"the order's date signed {signed_on} does not match the signature's "
            f"signing time {when:%Y-%m-%d}",
        )


def check_registrant(info: CsosCertificateInfo, order: Order, out: Collector) -> None:
    if not info.matches_dea(order.purchaser.dea_number.value):
        out.add(
            Reason.DEA_NUMBER_MISMATCH,
            f"the certificate's DEA number hash does not match the order's purchaser DEA "
            f"number {order.purchaser.dea_number.value} (certificate serialNumber "
            f"{info.subject_serial}): the order was signed with another registrant's certificate",
        )
    missing = sorted(
        {
            (line.line_no, line.schedule.value)
            for line in order.lines
            if line.schedule is not None and line.schedule not in info.schedules
        }
    )
    if missing:
        lines = ", ".join(f"line {n} (schedule {s})" for n, s in missing)
        allowed = ", ".join(sorted(s.value for s in info.schedules)) or "none"
        out.add(
            Reason.SCHEDULE_NOT_AUTHORISED,
            f"the certificate does not authorise {lines}; it allows schedules {allowed}",
        )


#: Reads the order a signed document states, adding a finding (and None) if it cannot.
OrderReader = Callable[[bytes, Collector], Order | None]


@never_raises("order", OrderVerification)
def verify_order(
    document: bytes,
    signature: bytes,
    *,
    trust_roots: Sequence[asn1_x509.Certificate],
    crls: Sequence[asn1_crl.CertificateList] = (),
    now: datetime,
    ocsps: Sequence[asn1_ocsp.OCSPResponse] = (),
    require_revocation: bool = False,
    intermediates: Sequence[asn1_x509.Certificate] = (),
    retroactive_revinfo: bool = False,
    reader: OrderReader = read_order,
) -> OrderVerification:
    """Check a signed order the way a supplier must; never raises on bad input.

    An archive checks each order as of its signing moment: *now* is that moment,
    *retroactive_revinfo* lets today's CRLs apply to it (see ``check_signed``).
    *reader* reads the document's format (JSON here, an X12 850 in ``x12_check``):
    every other rule is the same for both.
    """
    out = Collector()
    order = reader(document, out)
    signer = check_signed(
        document,
        signature,
        trust_roots=trust_roots,
        crls=crls,
        now=now,
        out=out,
        ocsps=ocsps,
        require_revocation=require_revocation,
        intermediates=intermediates,
        retroactive_revinfo=retroactive_revinfo,
        no_crl_warning="revocation was not checked: no CRL was given (a supplier must check "
        "the CRL, 21 CFR 1305.22(c)(3))",
    )
    check_dates(order, signer.signing_time, now, out)
    if signer.info is not None and order is not None:
        check_registrant(signer.info, order, out)
    return OrderVerification.of(out, signer, order=order)
