"""Chain and revocation checks through pyhanko-certvalidator (RFC 5280, not hand-rolled).

Revocation data (CRLs, OCSP responses) is fetched by the caller and handed in;
nothing here touches the network, so a verdict never depends on a hidden fetch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors


class ChainStatus(Enum):
    """Outcome of path validation at one moment."""

    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    REVOKED = "revoked"
    REVOCATION_UNKNOWN = "revocation-unknown"
    UNTRUSTED = "untrusted"


@dataclass(frozen=True)
class ChainResult:
    """Result of validating a signer certificate against trust roots and CRLs."""

    status: ChainStatus
    message: str
    revocation_reason: str | None = None
    revocation_date: datetime | None = None
    revocation_checked: bool = False


def load_crls(blobs: Sequence[bytes]) -> list[asn1_crl.CertificateList]:
    """Parse PEM or DER CRLs; raises ValueError naming the bad one."""
    from asn1crypto import pem

    out = []
    for i, blob in enumerate(blobs, 1):
        try:
            der = pem.unarmor(blob)[2] if pem.detect(blob) else blob
            out.append(asn1_crl.CertificateList.load(der, strict=True))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"CRL number {i} is not a valid CRL ({exc})") from exc
    return out


def validate_chain(
    signer: asn1_x509.Certificate,
    *,
    trust_roots: Sequence[asn1_x509.Certificate],
    intermediates: Sequence[asn1_x509.Certificate] = (),
    crls: Sequence[asn1_crl.CertificateList] = (),
    moment: datetime,
    ocsps: Sequence[asn1_ocsp.OCSPResponse] = (),
) -> ChainResult:
    """Blocking form of :func:`validate_chain_async` (CLI, worker threads)."""
    return asyncio.run(
        validate_chain_async(
            signer,
            trust_roots=trust_roots,
            intermediates=intermediates,
            crls=crls,
            moment=moment,
            ocsps=ocsps,
        )
    )


def _ocsp_covers(resp: asn1_ocsp.OCSPResponse, cert: asn1_x509.Certificate) -> bool:
    try:
        answers = resp["response_bytes"]["response"].parsed["tbs_response_data"]["responses"]
        return any(a["cert_id"]["serial_number"].native == cert.serial_number for a in answers)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False


async def validate_chain_async(
    signer: asn1_x509.Certificate,
    *,
    trust_roots: Sequence[asn1_x509.Certificate],
    intermediates: Sequence[asn1_x509.Certificate] = (),
    crls: Sequence[asn1_crl.CertificateList] = (),
    moment: datetime,
    ocsps: Sequence[asn1_ocsp.OCSPResponse] = (),
) -> ChainResult:
    """Validate *signer* for digital signature at *moment*.

    With CRLs or OCSP responses given, revocation checking is *required* for
    every certificate in the path (a CRL or an OCSP response each): missing,
    stale or badly signed data rejects the certificate rather than passing it.
    ("hard-fail" would skip the CRLs given for a certificate that names no
    distribution point: 1305.22(c)(3) does not.) With neither, revocation is
    not checked and ``revocation_checked`` is False: callers must say so.
    """
    checked = any(c.issuer == signer.issuer for c in crls) or any(
        _ocsp_covers(r, signer) for r in ocsps
    )
    ctx = ValidationContext(
        trust_roots=list(trust_roots),
        other_certs=list(intermediates),
        crls=list(crls),
        ocsps=list(ocsps),
        moment=moment,
        allow_fetching=False,
        revocation_mode="require" if crls or ocsps else "soft-fail",
    )
    validator = CertificateValidator(signer, validation_context=ctx)
    try:
        await validator.async_validate_usage(  # type: ignore[no-untyped-call]
            {"digital_signature"}
        )
    except cv_errors.RevokedError as exc:
        return ChainResult(
            ChainStatus.REVOKED,
            f"the certificate was revoked on {exc.revocation_dt:%Y-%m-%d %H:%M} UTC "
            f"(reason: {str(exc.reason.native).replace('_', ' ')})",
            revocation_reason=str(exc.reason.native),
            revocation_date=exc.revocation_dt,
            revocation_checked=True,
        )
    except cv_errors.ExpiredError as exc:
        return ChainResult(ChainStatus.EXPIRED, str(exc), revocation_checked=checked)
    except cv_errors.NotYetValidError as exc:
        return ChainResult(ChainStatus.NOT_YET_VALID, str(exc), revocation_checked=checked)
    except cv_errors.InsufficientRevinfoError as exc:
        return ChainResult(
            ChainStatus.REVOCATION_UNKNOWN,
            f"revocation could not be checked ({exc}); obtain a current CRL from the CA "
            "or check that its OCSP responder can be reached",
        )
    except (cv_errors.PathBuildingError, cv_errors.PathValidationError) as exc:
        return ChainResult(ChainStatus.UNTRUSTED, f"the certificate chain is not trusted ({exc})")
    except cv_errors.InvalidCertificateError as exc:
        return ChainResult(ChainStatus.UNTRUSTED, f"the certificate is not usable ({exc})")
    return ChainResult(ChainStatus.VALID, "chain valid", revocation_checked=checked)
