"""Trust material from the sandbox CA, and the checks a supplier runs on signed documents.

Orders go through :func:`csos_desktop.pki.supplier_check.verify_order` and
nothing else; prescriptions sent to the pharmacy inbox through
:func:`csos_desktop.pki.rx_check.verify_prescription`, the pharmacy's check.
Receipts use the same CMS parse/verify and chain validation, and the signer's
DEA number must be the customer's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.pki.chain import ChainStatus, validate_chain
from csos_desktop.pki.cms_parse import (
    MalformedSignature,
    digest_matches,
    parse_signed_data,
    signature_valid,
)
from csos_desktop.pki.profile import NotACsosCertificate, read_certificate
from csos_desktop.pki.rx_check import PrescriptionVerification, verify_prescription
from csos_desktop.pki.supplier_check import OrderVerification, Reason, verify_order
from csos_desktop.sandbox.ca import TestCa


class TrustMaterial:
    """The CA's root and its two CRLs, re-issued when older than ``crl_max_age`` seconds.

    1305.22(c)(3) lets a supplier cache a CRL until it expires; we refresh
    well before that so a revocation shows within ``crl_max_age``.
    """

    def __init__(self, ca: TestCa, *, crl_max_age: float = 60.0) -> None:
        self._ca = ca
        self._max_age = crl_max_age
        self._lock = threading.Lock()
        self._root = asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))
        self._crls: tuple[asn1_crl.CertificateList, ...] = ()
        self._fetched = float("-inf")

    @property
    def roots(self) -> tuple[asn1_x509.Certificate, ...]:
        return (self._root,)

    def crls(self) -> tuple[asn1_crl.CertificateList, ...]:
        with self._lock:
            if time.monotonic() - self._fetched >= self._max_age:
                self._crls = tuple(
                    asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
                    for c in (self._ca.crl(), self._ca.root_crl())
                )
                self._fetched = time.monotonic()
            return self._crls

    def refresh(self) -> None:
        """Fetch new CRLs on the next check (after a revocation)."""
        with self._lock:
            self._fetched = float("-inf")


def check_order(
    trust: TrustMaterial, document: bytes, signature: bytes, now: datetime
) -> OrderVerification:
    return verify_order(document, signature, trust_roots=trust.roots, crls=trust.crls(), now=now)


def check_prescription(
    trust: TrustMaterial, document: bytes, signature: bytes, now: datetime
) -> PrescriptionVerification:
    """The pharmacy's check (1311.205/1311.210): signature, chain with CRLs, DEA, content."""
    return verify_prescription(
        document, signature, trust_roots=trust.roots, crls=trust.crls(), now=now
    )


@dataclass(frozen=True)
class ReceiptSignatureCheck:
    """Outcome of checking a receipt's CMS signature; ``reasons`` empty means good."""

    reasons: tuple[tuple[Reason, str], ...]
    signer_dea: str | None


def check_receipt_signature(
    trust: TrustMaterial, document: bytes, signature: bytes, *, customer_dea: str, now: datetime
) -> ReceiptSignatureCheck:
    """Digest, signature, chain with CRLs, and signer DEA number == the customer's."""
    try:
        parsed = parse_signed_data(signature)
    except MalformedSignature as exc:
        return ReceiptSignatureCheck(((Reason.MALFORMED_SIGNATURE, str(exc)),), None)
    reasons: list[tuple[Reason, str]] = []
    if not digest_matches(parsed, document):
        reasons.append(
            (
                Reason.DIGEST_MISMATCH,
                "the receipt is not the document that was signed (digest differs)",
            )
        )
    if not signature_valid(parsed):
        reasons.append(
            (Reason.SIGNATURE_INVALID, "the signature does not verify with the signer's public key")
        )
    dea: str | None = None
    try:
        dea = read_certificate(parsed.signer).dea_number
    except NotACsosCertificate as exc:
        reasons.append((Reason.DEA_NUMBER_MISMATCH, str(exc)))
    if dea is not None and dea != customer_dea:
        reasons.append(
            (
                Reason.DEA_NUMBER_MISMATCH,
                f"the receipt is signed for DEA number {dea}, not the customer's {customer_dea}",
            )
        )
    chain = validate_chain(
        parsed.signer,
        trust_roots=trust.roots,
        intermediates=parsed.other_certificates,
        crls=trust.crls(),
        moment=now,
    )
    by_status = {
        ChainStatus.REVOKED: Reason.CERTIFICATE_REVOKED,
        ChainStatus.EXPIRED: Reason.CERTIFICATE_EXPIRED,
        ChainStatus.NOT_YET_VALID: Reason.CERTIFICATE_NOT_YET_VALID,
        ChainStatus.REVOCATION_UNKNOWN: Reason.REVOCATION_UNKNOWN,
        ChainStatus.UNTRUSTED: Reason.UNTRUSTED_CHAIN,
    }
    if chain.status in by_status:
        reasons.append((by_status[chain.status], chain.message))
    return ReceiptSignatureCheck(tuple(reasons), dea)
