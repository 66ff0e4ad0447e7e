"""What 21 CFR 1305.22(c) and 1305.25 ask of a supplier before filling a CSOS order.

Every reason that applies is reported (not only the first), each as a stable
code that the distributor API, the CLI and the GUI share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.canonical import MalformedDocument, load_document
from csos_desktop.domain.order import Order, OrderInvalid
from csos_desktop.pki.chain import ChainStatus, validate_chain
from csos_desktop.pki.cms_parse import (
    MalformedSignature,
    ParsedSignature,
    digest_matches,
    parse_signed_data,
    signature_valid,
)
from csos_desktop.pki.profile import CsosCertificateInfo, NotACsosCertificate, read_certificate

#: 1305.22(e): no order is valid more than 60 days after the purchaser signed it.
ORDER_VALIDITY = timedelta(days=60)


class Reason(Enum):
    """Why a supplier may not fill an order (stable codes)."""

    SIGNATURE_INVALID = "signature-invalid"
    DIGEST_MISMATCH = "digest-mismatch"
    CERTIFICATE_EXPIRED = "certificate-expired"
    CERTIFICATE_NOT_YET_VALID = "certificate-not-yet-valid"
    CERTIFICATE_REVOKED = "certificate-revoked"
    REVOCATION_UNKNOWN = "revocation-unknown"
    UNTRUSTED_CHAIN = "untrusted-chain"
    DEA_NUMBER_MISMATCH = "dea-number-mismatch"
    SCHEDULE_NOT_AUTHORISED = "schedule-not-authorised"
    MALFORMED_DOCUMENT = "malformed-document"
    MALFORMED_SIGNATURE = "malformed-signature"
    ORDER_EXPIRED = "order-expired"


@dataclass(frozen=True)
class Finding:
    """One reason with the sentence that explains it."""

    reason: Reason
    message: str


@dataclass(frozen=True)
class OrderVerification:
    """The supplier's verdict on one signed order."""

    findings: tuple[Finding, ...]
    warnings: tuple[str, ...] = ()
    order: Order | None = None
    signer: CsosCertificateInfo | None = None
    signing_time: datetime | None = None
    revocation_checked: bool = False

    @property
    def accepted(self) -> bool:
        return not self.findings

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return tuple(f.reason for f in self.findings)

    def to_json(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "reasons": [{"code": f.reason.value, "message": f.message} for f in self.findings],
            "warnings": list(self.warnings),
            "order_id": self.order.order_id if self.order else None,
            "order_number": self.order.order_number if self.order else None,
            "signer": None
            if self.signer is None
            else {
                "subject": self.signer.subject,
                "dea_number": self.signer.dea_number,
                "schedules": sorted(s.value for s in self.signer.schedules),
                "not_after": self.signer.not_after.isoformat(),
                "serial_number": self.signer.serial_number,
            },
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "revocation_checked": self.revocation_checked,
        }


@dataclass
class _Collector:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, reason: Reason, message: str) -> None:
        if reason not in (f.reason for f in self.findings):
            self.findings.append(Finding(reason, message))


def _read_order(document: bytes, out: _Collector) -> Order | None:
    try:
        order = Order.from_document(load_document(document))
    except (MalformedDocument, OrderInvalid) as exc:
        out.add(Reason.MALFORMED_DOCUMENT, str(exc))
        return None
    if order.date_signed is None:
        out.add(Reason.MALFORMED_DOCUMENT, "the order has no date signed (21 CFR 1305.21(b))")
    return order


def _check_times(
    parsed: ParsedSignature,
    info: CsosCertificateInfo | None,
    order: Order | None,
    now: datetime,
    out: _Collector,
) -> None:
    when = parsed.signing_time
    if when is None:
        out.add(Reason.MALFORMED_SIGNATURE, "the signature carries no signing time")
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
    if info is not None:
        if now > info.not_after or when > info.not_after:
            out.add(
                Reason.CERTIFICATE_EXPIRED, f"the certificate expired on {info.not_after:%Y-%m-%d}"
            )
        if now < info.not_before or when < info.not_before:
            out.add(
                Reason.CERTIFICATE_NOT_YET_VALID,
                f"the certificate is valid only from {info.not_before:%Y-%m-%d %H:%M} UTC",
            )


def _check_registrant(info: CsosCertificateInfo, order: Order, out: _Collector) -> None:
    if order.purchaser.dea_number.value != info.dea_number:
        out.add(
            Reason.DEA_NUMBER_MISMATCH,
            f"the order's purchaser DEA number {order.purchaser.dea_number.value} is not the "
            f"certificate's {info.dea_number}",
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


def verify_order(
    document: bytes,
    signature: bytes,
    *,
    trust_roots: Sequence[asn1_x509.Certificate],
    crls: Sequence[asn1_crl.CertificateList] = (),
    now: datetime,
) -> OrderVerification:
    """Check a signed order the way a supplier must; never raises on bad input."""
    out = _Collector()
    order = _read_order(document, out)
    try:
        parsed = parse_signed_data(signature)
    except MalformedSignature as exc:
        out.add(Reason.MALFORMED_SIGNATURE, str(exc))
        return OrderVerification(tuple(out.findings), tuple(out.warnings), order)
    if not digest_matches(parsed, document):
        out.add(
            Reason.DIGEST_MISMATCH, "the document is not the one that was signed (digest differs)"
        )
    if not signature_valid(parsed):
        out.add(
            Reason.SIGNATURE_INVALID, "the signature does not verify with the signer's public key"
        )
    try:
        info: CsosCertificateInfo | None = read_certificate(parsed.signer)
    except NotACsosCertificate as exc:
        info = None
        out.add(Reason.DEA_NUMBER_MISMATCH, str(exc))
    _check_times(parsed, info, order, now, out)
    if info is not None and order is not None:
        _check_registrant(info, order, out)
    chain = validate_chain(
        parsed.signer,
        trust_roots=trust_roots,
        intermediates=parsed.other_certificates,
        crls=crls,
        moment=now,
    )
    status_reason = {
        ChainStatus.REVOKED: Reason.CERTIFICATE_REVOKED,
        ChainStatus.EXPIRED: Reason.CERTIFICATE_EXPIRED,
        ChainStatus.NOT_YET_VALID: Reason.CERTIFICATE_NOT_YET_VALID,
        ChainStatus.REVOCATION_UNKNOWN: Reason.REVOCATION_UNKNOWN,
        ChainStatus.UNTRUSTED: Reason.UNTRUSTED_CHAIN,
    }
    if chain.status in status_reason:
        out.add(status_reason[chain.status], chain.message)
    if not crls:
        out.warnings.append(
            "revocation was not checked: no CRL was given (a supplier must check the CRL, "
            "21 CFR 1305.22(c)(3))"
        )
    elif not chain.revocation_checked and chain.status is ChainStatus.VALID:
        out.warnings.append("none of the CRLs given was issued by the signer's CA")
    return OrderVerification(
        tuple(out.findings),
        tuple(out.warnings),
        order,
        info,
        parsed.signing_time,
        chain.revocation_checked,
    )
