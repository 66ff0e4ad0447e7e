"""One rule set for signing and checking: what the verifier would say about a document.

Before the PIN is asked, the document about to be signed goes through the same
functions ``verify_order`` and ``verify_prescription`` run on it afterwards —
the document read back from its exact bytes, its dates against the signing
moment, the certificate's validity, DEA number and schedules. Only the
findings about the signature itself (digest, chain, revocation) are left to
the verifier, since nothing is signed yet. Pure: no token, no I/O.
"""

from __future__ import annotations

from datetime import datetime

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.order import Order
from csos_desktop.domain.prescription import Prescription
from csos_desktop.pki.profile import CsosCertificateInfo
from csos_desktop.pki.rx_check import check_issue_date, check_practitioner, read_prescription
from csos_desktop.pki.signed_check import Collector, Finding, Reason
from csos_desktop.pki.supplier_check import check_dates, check_registrant, read_order

#: Reasons a verifier gives about the document and the signer's certificate, not about
#: the signature bytes: every one of them is also refused at signing, before the PIN.
#: Left to the verifier: the signature itself (signature-invalid, digest-mismatch,
#: malformed-signature), the chain and revocation (untrusted-chain, certificate-revoked,
#: revocation-unknown: the client warns, the supplier decides) and order-expired, which
#: depends on when the supplier checks (signing dates the order today).
DOCUMENT_REASONS = frozenset(
    {
        Reason.MALFORMED_DOCUMENT,
        Reason.DEA_NUMBER_MISMATCH,
        Reason.SCHEDULE_NOT_AUTHORISED,
        Reason.CERTIFICATE_EXPIRED,
        Reason.CERTIFICATE_NOT_YET_VALID,
    }
)


def _validity(info: CsosCertificateInfo, now: datetime, out: Collector) -> None:
    if now > info.not_after:
        out.add(Reason.CERTIFICATE_EXPIRED, f"the certificate expired on {info.not_after:%Y-%m-%d}")
    if now < info.not_before:
        out.add(
            Reason.CERTIFICATE_NOT_YET_VALID,
            f"the certificate is valid only from {info.not_before:%Y-%m-%d %H:%M} UTC",
        )


def order_findings(order: Order, info: CsosCertificateInfo, now: datetime) -> list[Finding]:
    """What ``verify_order`` would find about this order signed now with this certificate.

    *order* carries the date it will be signed with (the pharmacy's calendar day).
    """
    out = Collector()
    document = canonical_bytes(order.to_document())
    parsed = read_order(document, out)
    check_dates(parsed, now, now, out)
    _validity(info, now, out)
    if parsed is not None:
        check_registrant(info, parsed, out)
    return out.findings


def prescription_findings(
    rx: Prescription, info: CsosCertificateInfo, now: datetime
) -> list[Finding]:
    """What ``verify_prescription`` would find about this prescription signed now."""
    out = Collector()
    parsed = read_prescription(canonical_bytes(rx.to_document()), out)
    check_issue_date(parsed, now, out)
    _validity(info, now, out)
    if parsed is not None:
        check_practitioner(info, parsed, out)
    return out.findings
