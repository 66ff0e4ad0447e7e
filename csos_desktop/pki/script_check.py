"""What the pharmacy checks on a received NCPDP SCRIPT NewRx (21 CFR 1311.205, 1311.210).

The message is read with the safe XML reader and the strict 1306.05 reader; its
DigitalSignature must digest and sign the stated bytes (``domain.script.newrx``), its
certificate must chain to a trust anchor and not be revoked, carry the practitioner's
DEA number where it carries one, cover the schedule; and the message must be for this
pharmacy. A message that carries only the indicator is not verified: the pharmacy signs
the received record itself (1311.210(c)). Never raises on bad input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.script.newrx import (
    DigitalSignature,
    NewRx,
    NewRxInvalid,
    SignatureIndicator,
    digest,
    read_newrx,
)
from csos_desktop.domain.script.safe_xml import XmlRefused
from csos_desktop.pki.bare_signature import bare_signature_valid
from csos_desktop.pki.cms_parse import PARSE_ERRORS, certificate_from_der, short_reason
from csos_desktop.pki.profile import CsosCertificateInfo
from csos_desktop.pki.rx_check import check_practitioner
from csos_desktop.pki.signed_check import Collector, Reason, Trust, check_signer_certificate


class ReceivedVerdict(StrEnum):
    """The indication kept with a received prescription."""

    VERIFIED = "verified"  # verified on receipt (1311.210(b)/(d))
    NOT_VERIFIED = "not-verified"  # with the reasons; not to be dispensed as sent
    INDICATOR_ONLY = "indicator-only"  # no signature to verify: the pharmacy signs (1311.210(c))


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


@dataclass(frozen=True)
class NewRxVerification:
    verdict: ReceivedVerdict
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]
    newrx: NewRx | None
    signer: CsosCertificateInfo | None = None
    revocation_checked: bool = False

    def to_json(self) -> dict[str, object]:
        rx = self.newrx.prescription if self.newrx else None
        return {
            "verdict": self.verdict.value,
            "reasons": [{"code": f.code, "message": f.message} for f in self.findings],
            "warnings": list(self.warnings),
            "rx_id": rx.rx_id if rx else None,
            "pharmacy_ncpdp_id": self.newrx.pharmacy.ncpdp_id if self.newrx else None,
            "signer": self.signer.subject if self.signer else None,
            "revocation_checked": self.revocation_checked,
        }


@dataclass(frozen=True)
class ReadMessage:
    """A message read (or not), before any signature check."""

    newrx: NewRx | None
    findings: tuple[Finding, ...]

    @property
    def signer(self) -> asn1_x509.Certificate | None:
        sig = self.newrx.signature if self.newrx else None
        if not isinstance(sig, DigitalSignature):
            return None
        try:
            return certificate_from_der(sig.certificate_der)
        except ValueError:
            return None


def read_message(message: bytes) -> ReadMessage:
    try:
        return ReadMessage(read_newrx(message), ())
    except XmlRefused as e:
        return ReadMessage(None, (Finding(e.reason.value, str(e)),))
    except NewRxInvalid as e:
        return ReadMessage(None, tuple(Finding(p.rule, str(p)) for p in e.problems))


def verify_newrx(
    read: ReadMessage,
    *,
    own_ncpdp_id: str,
    trust_roots: Sequence[asn1_x509.Certificate],
    intermediates: Sequence[asn1_x509.Certificate] = (),
    crls: Sequence[asn1_crl.CertificateList] = (),
    ocsps: Sequence[asn1_ocsp.OCSPResponse] = (),
    now: datetime,
    require_revocation: bool = True,
) -> NewRxVerification:
    """The pharmacy's verdict on one received NewRx."""
    newrx = read.newrx
    if newrx is None:
        return NewRxVerification(ReceivedVerdict.NOT_VERIFIED, read.findings, (), None)
    findings: list[Finding] = []
    if newrx.pharmacy.ncpdp_id != own_ncpdp_id:
        findings.append(
            Finding(
                "for-another-pharmacy",
                f"the prescription is addressed to {newrx.pharmacy.name} (NCPDP "
                f"{newrx.pharmacy.ncpdp_id}), not to this pharmacy ({own_ncpdp_id}): do not "
                "dispense it; tell the prescriber",
            )
        )
    sig = newrx.signature
    if sig is None or isinstance(sig, SignatureIndicator):
        if sig is None:
            findings.append(
                Finding("unsigned", "the message carries no DigitalSignature: it is not an EPCS")
            )
        verdict = ReceivedVerdict.INDICATOR_ONLY if not findings else ReceivedVerdict.NOT_VERIFIED
        return NewRxVerification(verdict, tuple(findings), (), newrx)
    out = Collector()
    if sig.digest_method.upper().replace("-", "") != "SHA256":
        out.add(
            Reason.MALFORMED_SIGNATURE,
            f"digest method {sig.digest_method!r} is not supported (SHA256 is)",
        )
    elif sig.digest_value != digest(newrx.signed_bytes):
        out.add(
            Reason.DIGEST_MISMATCH, "the message is not the one that was signed (digest differs)"
        )
    if not bare_signature_valid(sig.certificate_der, newrx.signed_bytes, sig.signature_value):
        out.add(
            Reason.SIGNATURE_INVALID,
            "the signature does not verify with the certificate's public key over the "
            "message's signed bytes",
        )
    signer = read.signer
    info: CsosCertificateInfo | None = None
    checked = False
    if signer is None:
        out.add(Reason.MALFORMED_SIGNATURE, "X509Data holds no readable certificate")
    else:
        trust = Trust(trust_roots, crls, ocsps, require_revocation, intermediates)
        try:
            info, checked = check_signer_certificate(
                signer,
                None,
                trust,
                now,
                out,
                "revocation was not checked: no CRL was given",
                dea_extensions_required=False,
            )
            if info is not None:
                check_practitioner(info, newrx.prescription, out)
        except PARSE_ERRORS as exc:
            out.add(
                Reason.MALFORMED_SIGNATURE,
                f"the certificate in X509Data is malformed ({short_reason(exc)})",
            )
    findings += [Finding(f.reason.value, f.message) for f in out.findings]
    verdict = ReceivedVerdict.NOT_VERIFIED if findings else ReceivedVerdict.VERIFIED
    return NewRxVerification(verdict, tuple(findings), tuple(out.warnings), newrx, info, checked)
