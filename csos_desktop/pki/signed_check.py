"""The checks every signed CSOS document gets, whatever it is (order, receipt, prescription).

Structure, digest, signature, CSOS certificate, validity at signing and now,
chain and revocation. Document-specific rules (an order's 60 days, a
prescription's practitioner) are added by the caller on the same collector.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, ParamSpec, Self, TypeVar

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509

from csos_desktop.pki.chain import ChainStatus, validate_chain
from csos_desktop.pki.cms_parse import (
    PARSE_ERRORS,
    MalformedSignature,
    ParsedSignature,
    certificate_from_der,
    digest_matches,
    parse_signed_data,
    short_reason,
    signature_valid,
)
from csos_desktop.pki.profile import (
    CsosCertificateInfo,
    NotACsosCertificate,
    read_csos_profile,
    read_epcs_certificate,
)
from csos_desktop.pki.signer_profile import signer_profile_problems

log = logging.getLogger(__name__)
P = ParamSpec("P")
V = TypeVar("V", bound="Verification")


class Reason(Enum):
    """Why a signed document is not accepted (stable codes shared by API, CLI and GUI)."""

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
    SIGNING_TIME_IN_FUTURE = "signing-time-in-future"
    CERTIFICATE_PROFILE = "certificate-profile"
    WRONG_SUPPLIER = "wrong-supplier"


#: How far ahead of the verifier's clock a signing time may be (clock skew between machines).
#: Beyond it the signer's clock, or the signer, is wrong: a forward-dated order would stay
#: "valid" for up to 60 days past its real date (1305.22(e)).
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Finding:
    """One reason with the sentence that explains it."""

    reason: Reason
    message: str


@dataclass
class Collector:
    """Findings (each reason once) and warnings gathered during one verification."""

    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, reason: Reason, message: str) -> None:
        if reason not in (f.reason for f in self.findings):
            self.findings.append(Finding(reason, message))


@dataclass(frozen=True)
class SignerCheck:
    """What the signature told us about its signer (None where it could not be read)."""

    parsed: ParsedSignature | None
    info: CsosCertificateInfo | None
    revocation_checked: bool = False

    @property
    def signing_time(self) -> datetime | None:
        return self.parsed.signing_time if self.parsed else None


_CHAIN_REASONS = {
    ChainStatus.REVOKED: Reason.CERTIFICATE_REVOKED,
    ChainStatus.EXPIRED: Reason.CERTIFICATE_EXPIRED,
    ChainStatus.NOT_YET_VALID: Reason.CERTIFICATE_NOT_YET_VALID,
    ChainStatus.REVOCATION_UNKNOWN: Reason.REVOCATION_UNKNOWN,
    ChainStatus.UNTRUSTED: Reason.UNTRUSTED_CHAIN,
}


def _check_validity(
    info: CsosCertificateInfo, when: datetime | None, now: datetime, out: Collector
) -> None:
    if now > info.not_after or (when is not None and when > info.not_after):
        out.add(Reason.CERTIFICATE_EXPIRED, f"the certificate expired on {info.not_after:%Y-%m-%d}")
    if now < info.not_before or (when is not None and when < info.not_before):
        out.add(
            Reason.CERTIFICATE_NOT_YET_VALID,
            f"the certificate is valid only from {info.not_before:%Y-%m-%d %H:%M} UTC",
        )


_PROFILES: dict[tuple[object, bytes], CsosCertificateInfo] = {}


def _profile(
    reader: Callable[[asn1_x509.Certificate], CsosCertificateInfo], cert: asn1_x509.Certificate
) -> CsosCertificateInfo:
    """The profile read once per certificate (a NotACsosCertificate is not cached), kept
    by the certificate's hash: asn1crypto keeps it on the object, while dumping a
    certificate whose fields were read walks them all."""
    key = (reader, cert.sha256)
    held = _PROFILES.get(key)
    if held is None:
        held = reader(certificate_from_der(bytes(cert.dump())))
        if len(_PROFILES) >= 1024:
            _PROFILES.clear()
        _PROFILES[key] = held
    return held


def check_signed(
    document: bytes,
    signature: bytes,
    *,
    trust_roots: Sequence[asn1_x509.Certificate],
    crls: Sequence[asn1_crl.CertificateList],
    now: datetime,
    out: Collector,
    no_crl_warning: str,
    ocsps: Sequence[asn1_ocsp.OCSPResponse] = (),
    dea_extensions_required: bool = True,
    require_revocation: bool = False,
    intermediates: Sequence[asn1_x509.Certificate] = (),
    retroactive_revinfo: bool = False,
) -> SignerCheck:
    """Run the shared checks, adding findings to *out*; never raises on bad input.

    *dea_extensions_required* False (prescriptions) accepts a signing certificate
    without the DEA extensions; present ones are still read strictly. *intermediates*
    add to the certificates the signature carries; *retroactive_revinfo* accepts
    revocation data issued after *now* (an archive checked at each signature's moment
    with today's CRLs).
    """
    try:
        parsed = parse_signed_data(signature)
    except MalformedSignature as exc:
        out.add(Reason.MALFORMED_SIGNATURE, str(exc))
        return SignerCheck(None, None)
    try:
        return _check_parsed(
            parsed,
            document,
            Trust(trust_roots, crls, ocsps, require_revocation, intermediates, retroactive_revinfo),
            now,
            out,
            no_crl_warning,
            dea_extensions_required,
        )
    except PARSE_ERRORS as exc:
        # asn1crypto parses lazily: a malformed name or extension in any certificate of
        # the signature surfaces here, from our reads or from path validation.
        out.add(
            Reason.MALFORMED_SIGNATURE,
            "a certificate in the signature has a malformed field or extension; the "
            f"signature cannot be checked ({short_reason(exc)})",
        )
        return SignerCheck(parsed, None)


@dataclass(frozen=True)
class Trust:
    """What the chain is validated against."""

    roots: Sequence[asn1_x509.Certificate]
    crls: Sequence[asn1_crl.CertificateList]
    ocsps: Sequence[asn1_ocsp.OCSPResponse]
    require_revocation: bool
    intermediates: Sequence[asn1_x509.Certificate] = ()
    retroactive_revinfo: bool = False


def _check_parsed(
    parsed: ParsedSignature,
    document: bytes,
    trust: Trust,
    now: datetime,
    out: Collector,
    no_crl_warning: str,
    dea_extensions_required: bool,
) -> SignerCheck:
    if not digest_matches(parsed, document):
        out.add(
            Reason.DIGEST_MISMATCH, "the document is not the one that was signed (digest differs)"
        )
    if not signature_valid(parsed):
        out.add(
            Reason.SIGNATURE_INVALID, "the signature does not verify with the signer's public key"
        )
    if parsed.signing_time is None:
        out.add(Reason.MALFORMED_SIGNATURE, "the signature carries no signing time")
    elif parsed.signing_time > now + CLOCK_SKEW:
        out.add(
            Reason.SIGNING_TIME_IN_FUTURE,
            f"the signature says it was made {parsed.signing_time:%Y-%m-%d %H:%M} UTC, later "
            f"than now ({now:%Y-%m-%d %H:%M} UTC); the signer's clock is wrong: sign again "
            "with the computer's clock set right",
        )
    info, checked = check_signer_certificate(
        parsed.signer,
        parsed.signing_time,
        replace(trust, intermediates=[*parsed.other_certificates, *trust.intermediates]),
        now,
        out,
        no_crl_warning,
        dea_extensions_required,
    )
    return SignerCheck(parsed, info, checked)


def check_signer_certificate(
    signer: asn1_x509.Certificate,
    when: datetime | None,
    trust: Trust,
    now: datetime,
    out: Collector,
    no_crl_warning: str,
    dea_extensions_required: bool,
) -> tuple[CsosCertificateInfo | None, bool]:
    """Profile, validity, chain and revocation of a signer's certificate, whatever carried
    the signature (CMS, or a SCRIPT DigitalSignature); (profile, revocation checked)."""
    try:
        reader = read_csos_profile if dea_extensions_required else read_epcs_certificate
        info: CsosCertificateInfo | None = _profile(reader, signer)
    except NotACsosCertificate as exc:
        info = None
        out.add(Reason.DEA_NUMBER_MISMATCH, str(exc))
    if dea_extensions_required:  # order and receipt signers (EPCS credentials may differ)
        for problem in signer_profile_problems(signer):
            out.add(Reason.CERTIFICATE_PROFILE, problem)
    if info is not None:
        _check_validity(info, when, now, out)
    chain = validate_chain(
        signer,
        trust_roots=trust.roots,
        intermediates=trust.intermediates,
        crls=trust.crls,
        moment=now,
        ocsps=trust.ocsps,
        require_revocation=trust.require_revocation,
        retroactive_revinfo=trust.retroactive_revinfo,
    )
    if chain.status in _CHAIN_REASONS:
        out.add(_CHAIN_REASONS[chain.status], chain.message)
    if not trust.crls and not trust.ocsps and not trust.require_revocation:
        out.warnings.append(no_crl_warning)
    elif not chain.revocation_checked and chain.status is ChainStatus.VALID:
        out.warnings.append("none of the CRLs or OCSP answers given covers the signer")
    return info, chain.revocation_checked


@dataclass(frozen=True)
class Verification:
    """A verdict on one signed document: every reason it is not accepted, and who signed."""

    findings: tuple[Finding, ...]
    warnings: tuple[str, ...] = ()
    signer: CsosCertificateInfo | None = None
    signing_time: datetime | None = None
    revocation_checked: bool = False

    @property
    def accepted(self) -> bool:
        return not self.findings

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return tuple(f.reason for f in self.findings)

    @classmethod
    def of(cls, out: Collector, signer: SignerCheck, **document: Any) -> Self:
        """The verdict from what the checks collected, with the document read (if any)."""
        return cls(
            tuple(out.findings),
            tuple(out.warnings),
            signer.info,
            signer.signing_time,
            signer.revocation_checked,
            **document,
        )

    def document_json(self) -> dict[str, object]:
        """What identifies the document in JSON reports (subclasses say)."""
        return {}

    def to_json(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "reasons": [{"code": f.reason.value, "message": f.message} for f in self.findings],
            "warnings": list(self.warnings),
            **self.document_json(),
            "signer": signer_json(self.signer),
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "revocation_checked": self.revocation_checked,
        }


def signer_json(info: CsosCertificateInfo | None) -> dict[str, object] | None:
    """The signer as shown in JSON reports."""
    if info is None:
        return None
    return {
        "subject": info.subject,
        "subject_serial_number": info.subject_serial,
        "dea_number_hash": info.dea_hash.hex() if info.dea_hash is not None else None,
        "schedules": sorted(s.value for s in info.schedules),
        "not_after": info.not_after.isoformat(),
        "serial_number": info.serial_number,
    }


def never_raises(what: str, verdict: type[V]) -> Callable[[Callable[P, V]], Callable[P, V]]:
    """Decorate a verifier so that no input ends in an exception.

    Anything the checks did not turn into a reason becomes one last-resort finding
    (malformed-signature): a supplier must still answer with a statement of
    non-acceptance (1305.25). The traceback goes to the log, so the gap is found and
    closed (the fuzz targets fail on this finding).
    """

    def decorate(fn: Callable[P, V]) -> Callable[P, V]:
        @functools.wraps(fn)
        def verify(*args: P.args, **kwargs: P.kwargs) -> V:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                log.exception("unexpected failure while verifying a signed %s", what)
                message = (
                    f"the {what} or its signature could not be read ({type(exc).__name__}); "
                    "it is refused"
                )
                return verdict((Finding(Reason.MALFORMED_SIGNATURE, message),))

        return verify

    return decorate
