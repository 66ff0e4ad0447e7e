"""Chain and revocation checks through pyhanko-certvalidator (RFC 5280, not hand-rolled).

Revocation data (CRLs, OCSP responses) is fetched by the caller and handed in;
nothing here touches the network, so a verdict never depends on a hidden fetch.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
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


def issued_by(cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> bool:
    """True when *issuer*'s name is *cert*'s issuer and its key signed *cert*."""
    try:
        child = _crypto_cert(cert)
        child.verify_directly_issued_by(_crypto_cert(issuer))
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


_CRYPTO_CERTS: OrderedDict[bytes, x509.Certificate] = OrderedDict()


def _crypto_cert(cert: asn1_x509.Certificate) -> x509.Certificate:
    key = bytes(cert.sha256)
    held = _CRYPTO_CERTS.get(key)
    if held is None:
        held = x509.load_der_x509_certificate(cert.dump())
        _CRYPTO_CERTS[key] = held
        while len(_CRYPTO_CERTS) > 256:
            _CRYPTO_CERTS.popitem(last=False)
    return held


def path_to_anchor(
    signer: asn1_x509.Certificate,
    intermediates: Sequence[asn1_x509.Certificate],
    anchors: Sequence[asn1_x509.Certificate],
) -> tuple[list[asn1_x509.Certificate], asn1_x509.Certificate | None]:
    """The certificates from *signer* up to (not including) an anchor, and the anchor,
    each one signed by the next: None for the anchor when no such path exists. A name
    copied from a real CA does not make a path; only the CA's key does."""
    path: list[asn1_x509.Certificate] = []
    current = signer
    for _ in range(8):  # CSOS paths are two or three long; a loop is a broken chain
        path.append(current)
        anchor = next((a for a in anchors if issued_by(current, a)), None)
        if anchor is not None:
            return path, anchor
        parent = next(
            (c for c in intermediates if c not in path and issued_by(current, c)),
            None,
        )
        if parent is None:
            return path, None
        current = parent
    return path, None


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


@dataclass(frozen=True)
class _Cached:
    result: ChainResult
    valid_from: datetime
    valid_until: datetime


class ValidationCache:
    """Accepted paths, keyed by (signer, intermediates, anchors, revocation data in use).

    A supplier verifies many orders from few signers: the RFC 5280 path validation,
    most of the cost, is the same for all of a signer's orders while the same CRLs
    (or OCSP answers) are in use. The revocation data is part of the key (each CRL or
    answer by its signature value), so a new CRL or answer is a new entry: a
    revocation takes effect with the first CRL that lists it. An entry is reused only
    within the moment range its inputs are valid for (certificates' validity, CRLs'
    thisUpdate..nextUpdate or thisUpdate + 30 minutes, and before the first revocation
    they list for a certificate of the path); a result for a past moment is kept for
    that moment only; rejections are never cached.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[bytes, ...], _Cached] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[bytes, ...], moment: datetime) -> ChainResult | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not entry.valid_from <= moment < entry.valid_until:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.result

    def put(self, key: tuple[bytes, ...], entry: _Cached) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: The process-wide cache the verifiers use (the distributor serves many threads).
VALIDATION_CACHE = ValidationCache()


def _signature_of(obj: asn1_crl.CertificateList | asn1_ocsp.OCSPResponse) -> bytes:
    if isinstance(obj, asn1_crl.CertificateList):
        return bytes(obj["signature"].contents)
    return bytes(obj["response_bytes"]["response"].parsed["signature"].contents)


def _cache_key(
    signer: asn1_x509.Certificate,
    trust_roots: Sequence[asn1_x509.Certificate],
    intermediates: Sequence[asn1_x509.Certificate],
    crls: Sequence[asn1_crl.CertificateList],
    ocsps: Sequence[asn1_ocsp.OCSPResponse],
    require_revocation: bool,
) -> tuple[bytes, ...]:
    return (
        b"require" if require_revocation else b"",
        signer.sha256,
        b"|",
        *sorted(c.sha256 for c in intermediates),
        b"|",
        *sorted(c.sha256 for c in trust_roots),
        b"|",
        *sorted(_signature_of(x) for x in (*crls, *ocsps)),
    )


#: How long a result resting on a CRL without nextUpdate is reused (RFC 5280 lets a CA
#: omit it; "valid until the next CRL" is then unknown, so ask again soon).
NO_NEXT_UPDATE_REUSE = timedelta(minutes=30)


def _revocation_dates(
    certs: Sequence[asn1_x509.Certificate],
    crls: Sequence[asn1_crl.CertificateList],
    ocsps: Sequence[asn1_ocsp.OCSPResponse],
) -> list[datetime]:
    """When any of *certs* is listed as revoked in *crls* or *ocsps* (even after the
    validation moment: from that date on, the same inputs give another answer)."""
    wanted = {(bytes(c.issuer.dump()), c.serial_number) for c in certs}
    serials = {serial for _, serial in wanted}
    out = []
    for crl in crls:
        issuer = bytes(crl["tbs_cert_list"]["issuer"].dump())
        for entry in crl["tbs_cert_list"]["revoked_certificates"]:
            serial = entry["user_certificate"].native
            if serial in serials and (issuer, serial) in wanted:
                out.append(entry["revocation_date"].native)
    for resp in ocsps:
        for answer in resp["response_bytes"]["response"].parsed["tbs_response_data"]["responses"]:
            status = answer["cert_status"]
            if status.name == "revoked" and answer["cert_id"]["serial_number"].native in serials:
                out.append(status.chosen["revocation_time"].native)
    return out


def _window(
    certs: Sequence[asn1_x509.Certificate],
    crls: Sequence[asn1_crl.CertificateList],
    ocsps: Sequence[asn1_ocsp.OCSPResponse],
    path: Sequence[asn1_x509.Certificate],
) -> tuple[datetime, datetime]:
    """The moments for which a result from these inputs holds: all certificates valid,
    all revocation data issued and not past its next update (thisUpdate + 30 minutes
    without one), and before the first revocation of a certificate in the path."""
    starts, ends = [], []
    for c in certs:
        validity = c["tbs_certificate"]["validity"]
        starts.append(validity["not_before"].native)
        ends.append(validity["not_after"].native)

    def add(this_update: datetime, next_update: datetime | None) -> None:
        starts.append(this_update)
        ends.append(next_update or this_update + NO_NEXT_UPDATE_REUSE)

    for crl in crls:
        tbs = crl["tbs_cert_list"]
        add(tbs["this_update"].native, tbs["next_update"].native)
    for resp in ocsps:
        for answer in resp["response_bytes"]["response"].parsed["tbs_response_data"]["responses"]:
            add(answer["this_update"].native, answer["next_update"].native)
    ends += _revocation_dates(path, crls, ocsps)
    return max(starts), min(ends)


def validate_chain(
    signer: asn1_x509.Certificate,
    *,
    trust_roots: Sequence[asn1_x509.Certificate],
    intermediates: Sequence[asn1_x509.Certificate] = (),
    crls: Sequence[asn1_crl.CertificateList] = (),
    moment: datetime,
    ocsps: Sequence[asn1_ocsp.OCSPResponse] = (),
    require_revocation: bool = False,
    retroactive_revinfo: bool = False,
) -> ChainResult:
    """Blocking form of :func:`validate_chain_async` (CLI, worker threads), with the
    accepted results kept in :data:`VALIDATION_CACHE`."""
    key = (
        # A result for a past moment (an archive checked with today's CRL) is kept for
        # that moment only: the CRL's window says nothing about other past moments.
        moment.isoformat().encode() if retroactive_revinfo else b"",
        *_cache_key(signer, trust_roots, intermediates, crls, ocsps, require_revocation),
    )
    cached = VALIDATION_CACHE.get(key, moment)
    if cached is not None:
        return cached
    result = asyncio.run(
        validate_chain_async(
            signer,
            trust_roots=trust_roots,
            intermediates=intermediates,
            crls=crls,
            moment=moment,
            ocsps=ocsps,
            require_revocation=require_revocation,
            retroactive_revinfo=retroactive_revinfo,
        )
    )
    if result.status is ChainStatus.VALID:
        start, end = _window(
            [signer, *intermediates, *trust_roots], crls, ocsps, [signer, *intermediates]
        )
        if start <= moment < end:  # a result outside its inputs' window is not reused
            VALIDATION_CACHE.put(key, _Cached(result, start, end))
    return result


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
    require_revocation: bool = False,
    retroactive_revinfo: bool = False,
) -> ChainResult:
    """Validate *signer* for digital signature at *moment*.

    ``retroactive_revinfo`` accepts revocation data issued after *moment* (an archive
    checked years later with today's CRL): a revocation dated after *moment* still
    passes, one dated before it does not.

    With CRLs or OCSP responses given, revocation checking is *required* for
    every certificate in the path (a CRL or an OCSP response each): missing,
    stale or badly signed data rejects the certificate rather than passing it.
    ("hard-fail" would skip the CRLs given for a certificate that names no
    distribution point: 1305.22(c)(3) does not.) With neither, revocation is
    not checked and ``revocation_checked`` is False: callers must say so, unless
    *require_revocation* (a supplier that fetched what it could, 1305.22(c)(3)): then
    no data at all is ``revocation-unknown`` too.
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
        revocation_mode="require" if crls or ocsps or require_revocation else "soft-fail",
        retroactive_revinfo=retroactive_revinfo,
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
        if path_to_anchor(signer, intermediates, trust_roots)[1] is None:
            # A certificate no anchor's key vouches for is untrusted, not "unknown":
            # nothing was fetched for the names it copies.
            return ChainResult(
                ChainStatus.UNTRUSTED,
                "the certificate chain is not trusted (no chain of signatures leads from "
                "the signer to a configured trust anchor)",
            )
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
