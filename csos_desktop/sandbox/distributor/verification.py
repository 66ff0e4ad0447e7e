"""Trust material from the sandbox CA, and the checks a supplier runs on signed documents.

Orders go through :func:`csos_desktop.pki.supplier_check.verify_order` and
nothing else; prescriptions sent to the pharmacy inbox through
:func:`csos_desktop.pki.rx_check.verify_prescription`, the pharmacy's check.
Receipts get the same shared checks (:func:`csos_desktop.pki.signed_check.check_signed`),
and the signer's DEA number must be the customer's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.pki.ocsp import crl_urls
from csos_desktop.pki.rx_check import PrescriptionVerification, verify_prescription
from csos_desktop.pki.signed_check import Collector, check_signed
from csos_desktop.pki.supplier_check import OrderVerification, Reason, verify_order
from csos_desktop.pki.x12_check import verify_x12_order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.trust.crl_cache import CrlNotProven, CrlUnreadable, check_crl_signature
from csos_desktop.trust.fetch import FetchFailed, FetchRules, fetch_crl


class TrustMaterial:
    """The CA's root and its two CRLs, re-issued when older than ``crl_max_age`` seconds.

    1305.22(c)(3) lets a supplier cache a CRL until it expires; we refresh
    well before that so a revocation shows within ``crl_max_age``.
    """

    def __init__(
        self,
        ca: TestCa,
        *,
        crl_max_age: float = 60.0,
        fetch: bool = False,
        fetch_rules: FetchRules | None = None,
    ) -> None:
        self._ca = ca
        self._max_age = crl_max_age
        # fetch: get the CRLs from the addresses the CA's certificates name, as a real
        # supplier does (the demo), instead of asking the CA object in this process.
        self._fetch = fetch
        # The sandbox CA serves on this machine: private addresses are its normal case.
        self._rules = fetch_rules or FetchRules(
            ca_bundle=ca.directory / "root.pem", allow_private=True
        )
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
                self._crls = self._fetched_crls() if self._fetch else self._issued_crls()
                self._fetched = time.monotonic()
            return self._crls

    def _issued_crls(self) -> tuple[asn1_crl.CertificateList, ...]:
        return tuple(
            asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
            for c in (self._ca.crl(), self._ca.root_crl())
        )

    def _fetched_crls(self) -> tuple[asn1_crl.CertificateList, ...]:
        """From the distribution points; what cannot be fetched is left out (the chain
        check then reports revocation-unknown, as for any supplier)."""
        issuing = asn1_x509.Certificate.load(
            self._ca.issuing_certificate.public_bytes(Encoding.DER)
        )
        urls = [u for u in (self._ca.crl_url, *crl_urls(issuing)) if u]
        root = asn1_x509.Certificate.load(self._ca.root_certificate.public_bytes(Encoding.DER))
        out = []
        for url in dict.fromkeys(urls):
            try:
                der = fetch_crl(url, self._rules)
                # Only a CRL one of the CA's keys signed is used.
                out.append(_proven(der, (issuing, root)))
            except (FetchFailed, CrlUnreadable):
                continue
        return tuple(out)

    def inputs(self) -> dict[str, Any]:
        """What every check here is given. A supplier fails closed: no current CRL for
        the path is revocation-unknown, a rejection, in every mode (1305.22(c)(3))."""
        return {"trust_roots": self.roots, "crls": self.crls(), "require_revocation": True}

    def refresh(self) -> None:
        """Fetch new CRLs on the next check (after a revocation)."""
        with self._lock:
            self._fetched = float("-inf")


def _proven(der: bytes, issuers: tuple[asn1_x509.Certificate, ...]) -> asn1_crl.CertificateList:
    for issuer in issuers:
        try:
            return check_crl_signature(der, issuer)
        except CrlNotProven:
            continue
    raise CrlNotProven("the CRL is not signed by the CA")


def check_order(
    trust: TrustMaterial, document: bytes, signature: bytes, now: datetime
) -> OrderVerification:
    """A signed JSON order, or a signed X12 850 (the interchange and its detached
    signature): the same rules either way."""
    verify = verify_x12_order if document.startswith(b"ISA") else verify_order
    return verify(document, signature, now=now, **trust.inputs())


def check_prescription(
    trust: TrustMaterial, document: bytes, signature: bytes, now: datetime
) -> PrescriptionVerification:
    """The pharmacy's check (1311.205/1311.210): signature, chain with CRLs, DEA, content."""
    return verify_prescription(document, signature, now=now, **trust.inputs())


@dataclass(frozen=True)
class ReceiptSignatureCheck:
    """Outcome of checking a receipt's CMS signature; ``reasons`` empty means good."""

    reasons: tuple[tuple[Reason, str], ...]
    #: The customer's DEA number when the certificate's DEA-number hash matched it.
    signer_dea: str | None


def check_receipt_signature(
    trust: TrustMaterial, document: bytes, signature: bytes, *, customer_dea: str, now: datetime
) -> ReceiptSignatureCheck:
    """The checks every signed document gets, and signer DEA number == the customer's."""
    out = Collector()
    signer = check_signed(
        document,
        signature,
        now=now,
        out=out,
        no_crl_warning="revocation was not checked",
        **trust.inputs(),
    )
    dea: str | None = None
    if signer.info is not None:
        if signer.info.matches_dea(customer_dea):
            dea = customer_dea
        else:
            out.add(
                Reason.DEA_NUMBER_MISMATCH,
                f"the receipt is signed with a certificate for another DEA number than "
                f"the customer's {customer_dea} (its DEA number hash does not match)",
            )
    return ReceiptSignatureCheck(tuple((f.reason, f.message) for f in out.findings), dea)
