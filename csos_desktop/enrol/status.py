"""Is a certificate revoked? Fetch CRLs and OCSP answers, then let the validator decide.

Policy for the holder's own certificate (``csos cert show``, the app's status
line) is *soft-fail with a warning*: when the CA cannot be reached the status
is "unknown" and the user is told why, but nothing is blocked; the supplier
re-checks every order anyway. A supplier check never soft-fails
(:mod:`csos_desktop.pki.supplier_check`): without revocation data it warns,
and with stale or missing data for any path certificate it rejects.

CRLs and OCSP replies are signed, so they may come over plain HTTP (as RFC
5280 distribution points usually are); HTTPS is verified like everything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.revocation import RevocationState, RevocationStatus
from csos_desktop.enrol.est_client import CaEndpoints
from csos_desktop.pki.chain import ChainStatus, issued_by, load_crls, validate_chain
from csos_desktop.pki.ocsp import (
    OcspReplyInvalid,
    build_request,
    check_response,
    crl_urls,
    ocsp_urls,
)
from csos_desktop.trust.fetch import (
    DEADLINE_SECONDS,
    FetchFailed,
    FetchRules,
    UrlBudget,
    fetch_crl,
    post_ocsp,
    rules_from_config,
)


@dataclass(frozen=True)
class Revinfo:
    """What could be fetched, and what could not (said to the user on failure)."""

    crls: tuple[asn1_crl.CertificateList, ...]
    ocsps: tuple[asn1_ocsp.OCSPResponse, ...]
    problems: tuple[str, ...]


def _usable(url: str) -> bool:
    # Every http(s) address a certificate names is tried, and a failure is reported: none
    # is passed over because of its name (a sandbox placeholder fails like any other).
    return urlsplit(url).scheme in ("http", "https")


def _issuer_of(
    cert: asn1_x509.Certificate, pool: Sequence[asn1_x509.Certificate]
) -> asn1_x509.Certificate | None:
    # By key, not by name: addresses are fetched only up a chain of real signatures.
    return next((c for c in pool if c is not cert and issued_by(cert, c)), None)


def fetch_revinfo(
    cert: asn1_x509.Certificate,
    pool: Sequence[asn1_x509.Certificate],
    *,
    endpoints: CaEndpoints | None,
    ca_bundle: Path | None,
    use_crl: bool = True,
    use_ocsp: bool = True,
    timeout: float = DEADLINE_SECONDS,
    rules: FetchRules | None = None,
) -> Revinfo:
    """CRLs and OCSP answers for *cert* and every CA certificate above it but the root.

    OCSP is asked where a certificate names a responder, else at the CA's
    recorded one; validators use an OCSP answer only for a certificate that
    names a responder (RFC 5280 AIA), so CA certificates usually need the CRL.
    Requests go through the one fetcher (:mod:`csos_desktop.trust.fetch`) and its rules.
    """
    rules = rules or replace(rules_from_config(), ca_bundle=ca_bundle, deadline=timeout)
    budget = UrlBudget()
    crls: list[asn1_crl.CertificateList] = []
    ocsps: list[asn1_ocsp.OCSPResponse] = []
    problems: list[str] = []
    fetched: dict[str, bytes] = {}
    current = cert
    while current.self_signed == "no":
        issuer = _issuer_of(current, pool)
        if issuer is None:
            problems.append(f"the issuer of {current.subject.human_friendly} is unknown")
            break
        leaf = current is cert  # use_crl / use_ocsp choose the subscriber's sources only
        if use_crl or not leaf:
            urls = [*crl_urls(current), *(endpoints.crl_urls if endpoints else ())]
            for url in dict.fromkeys(u for u in urls if _usable(u)):
                try:
                    # Keep only the CRL of this certificate's issuer: the endpoint
                    # list mixes CAs, and use_crl=False must mean no subscriber CRL.
                    if url not in fetched:
                        budget.take(url)
                        fetched[url] = fetch_crl(url, rules)
                    crls += [c for c in load_crls([fetched[url]]) if c.issuer == current.issuer]
                except (FetchFailed, ValueError) as exc:
                    problems.append(f"CRL {url}: {_short(exc)}")
        if use_ocsp or not leaf:
            fallback = [endpoints.ocsp_url] if endpoints and endpoints.ocsp_url else []
            for url in [u for u in ocsp_urls(current) or fallback if _usable(u)][:1]:
                request = build_request(current, issuer)
                try:
                    budget.take(url)
                    reply = post_ocsp(url, request.der, rules)
                    ocsps.append(check_response(reply, current, request))
                except (FetchFailed, OcspReplyInvalid) as exc:
                    problems.append(f"OCSP {url}: {_short(exc)}")
        current = issuer
    return Revinfo(tuple(crls), tuple(ocsps), tuple(problems))


def _covers(reply: asn1_ocsp.OCSPResponse, cert: asn1_x509.Certificate) -> bool:
    answers = reply["response_bytes"]["response"].parsed["tbs_response_data"]["responses"]
    return any(a["cert_id"]["serial_number"].native == cert.serial_number for a in answers)


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def check_revocation(
    cert_der: bytes,
    chain_der: Sequence[bytes],
    *,
    endpoints: CaEndpoints | None,
    ca_bundle: Path | None,
    now: datetime,
    use_crl: bool = True,
    use_ocsp: bool = True,
) -> RevocationStatus:
    """Revocation status of a certificate, soft-failing to UNKNOWN with the reason."""
    cert = asn1_x509.Certificate.load(cert_der)
    pool = [asn1_x509.Certificate.load(d) for d in chain_der]
    roots = [c for c in pool if c.self_signed != "no"]
    if not roots:
        return RevocationStatus(
            RevocationState.NOT_CHECKED,
            "no CA root certificate is known: enrol again or give the CA's root with --trust",
        )
    info = fetch_revinfo(
        cert, pool, endpoints=endpoints, ca_bundle=ca_bundle, use_crl=use_crl, use_ocsp=use_ocsp
    )
    sources = tuple(
        s
        for s, have in (
            ("crl", any(c.issuer == cert.issuer for c in info.crls)),
            ("ocsp", any(_covers(r, cert) for r in info.ocsps)),
        )
        if have
    )
    if not info.crls and not info.ocsps:
        detail = "; ".join(info.problems) or "the certificate names no CRL or OCSP responder"
        return RevocationStatus(
            RevocationState.UNKNOWN,
            "revocation could not be checked ("
            f"{detail}); the certificate may still be used, but check "
            "again when the CA can be reached",
        )
    result = validate_chain(
        cert,
        trust_roots=roots,
        moment=now,
        crls=info.crls,
        ocsps=info.ocsps,
        intermediates=[c for c in pool if c.self_signed == "no"],
    )
    if result.status is ChainStatus.REVOKED:
        return RevocationStatus(
            RevocationState.REVOKED,
            result.message,
            result.revocation_reason,
            result.revocation_date,
            sources,
        )
    if result.status is ChainStatus.REVOCATION_UNKNOWN:
        extra = f" ({'; '.join(info.problems)})" if info.problems else ""
        return RevocationStatus(RevocationState.UNKNOWN, result.message + extra, sources=sources)
    if result.status is ChainStatus.UNTRUSTED:
        return RevocationStatus(RevocationState.UNTRUSTED, result.message, sources=sources)
    if result.status is ChainStatus.VALID:
        return RevocationStatus(RevocationState.GOOD, "not revoked", sources=sources)
    # Expired / not yet valid: `cert show` reports validity itself.
    return RevocationStatus(RevocationState.NOT_CHECKED, result.message, sources=sources)
