"""Revocation data for a signer's path: cached CRLs, fetched CRLs, OCSP, in that order.

Nothing is fetched for a certificate whose path does not reach a configured anchor
(each certificate signed by the next, checked with the keys, not the names): the
addresses in an untrusted certificate are the attacker's. For every certificate in a
path that does, the issuer's CRL is taken from the cache while it is current (until its
nextUpdate); otherwise it is fetched from the certificate's distribution points and
kept only once its signature checks against the issuer in that path. When no current
CRL can be had and the certificate names an OCSP responder, the responder is asked.
Offline, only the cache is used. What could not be had is said in ``notes``:
pyhanko-certvalidator then decides (``require`` mode: no data is ``revocation-unknown``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509

from csos_desktop.pki.chain import path_to_anchor
from csos_desktop.pki.ocsp import OcspReplyInvalid, build_request, check_response, ocsp_urls
from csos_desktop.pki.ocsp import crl_urls as distribution_points
from csos_desktop.trust.crl_cache import CachedCrl, CrlCache, CrlUnreadable
from csos_desktop.trust.fetch import (
    BudgetSpent,
    CrlFetcher,
    FetchFailed,
    FetchRules,
    OcspPoster,
    UrlBudget,
    fetch_crl,
    post_ocsp,
    rules_from_config,
)

__all__ = ["RevocationData", "RevocationSource", "path_to_anchor"]

#: A distribution point that failed is not asked again for this long (a batch of orders
#: must not wait for an unreachable CA once per order).
RETRY_AFTER_SECONDS = 60.0
_failed: dict[str, float] = {}
_failed_lock = threading.Lock()


@dataclass(frozen=True)
class RevocationData:
    """What was found for one path, and what was not."""

    crls: tuple[asn1_crl.CertificateList, ...] = ()
    ocsps: tuple[asn1_ocsp.OCSPResponse, ...] = ()
    notes: tuple[str, ...] = ()
    #: Certificates (subjects) for which nothing current was found.
    uncovered: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.uncovered


@dataclass
class _Gathered:
    budget: UrlBudget
    crls: list[asn1_crl.CertificateList] = field(default_factory=list)
    ocsps: list[asn1_ocsp.OCSPResponse] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)


#: Addresses asked at most per verification (CRLs and OCSP together).
MAX_URLS = 6


class RevocationSource:
    """Cache + network; tests and the benchmark hand in their own fetchers."""

    def __init__(
        self,
        cache: CrlCache | None = None,
        *,
        rules: FetchRules | None = None,
        crl_fetcher: CrlFetcher | None = None,
        ocsp_poster: OcspPoster | None = None,
        max_urls: int = MAX_URLS,
    ) -> None:
        self.cache = cache or CrlCache()
        self._rules = rules
        self._fetch = crl_fetcher or (lambda url: fetch_crl(url, self.rules))
        self._post = ocsp_poster or (lambda url, der: post_ocsp(url, der, self.rules))
        self._max_urls = max_urls

    @property
    def rules(self) -> FetchRules:
        if self._rules is None:
            self._rules = rules_from_config()
        return self._rules

    def for_path(
        self,
        signer: asn1_x509.Certificate,
        intermediates: Sequence[asn1_x509.Certificate],
        anchors: Sequence[asn1_x509.Certificate],
        *,
        now: datetime,
        offline: bool = False,
    ) -> RevocationData:
        path, anchor = path_to_anchor(signer, intermediates, anchors)
        if anchor is None:
            return RevocationData(
                notes=(
                    f"{signer.subject.human_friendly} does not chain to a configured trust "
                    "anchor: no revocation data was fetched for it",
                ),
                uncovered=tuple(str(c.subject.human_friendly) for c in path),
            )
        out = _Gathered(UrlBudget(self._max_urls))
        for i, cert in enumerate(path):
            issuer = path[i + 1] if i + 1 < len(path) else anchor
            if self._crl(cert, issuer, now, offline, out):
                continue
            if not offline and self._ocsp(cert, issuer, out):
                continue
            out.uncovered.append(str(cert.subject.human_friendly))
        return RevocationData(
            tuple(out.crls), tuple(out.ocsps), tuple(out.notes), tuple(out.uncovered)
        )

    def fetch(self, url: str) -> bytes:
        return self._fetch(url)

    def refresh(
        self,
        cert: asn1_x509.Certificate,
        pool: Sequence[asn1_x509.Certificate],
        anchors: Sequence[asn1_x509.Certificate],
        now: datetime,
        notes: list[str],
        *,
        skip: Collection[str] = (),
    ) -> CachedCrl | None:
        """Fetch *cert*'s issuer CRL now, whatever the cache holds (``csos crl refresh``);
        nothing when one of *skip* (URLs just fetched) is among its distribution points,
        or when *cert* does not chain to one of *anchors* through *pool*."""
        path, anchor = path_to_anchor(cert, pool, anchors)
        if anchor is None:
            notes.append(
                f"{cert.subject.human_friendly} does not chain to a configured trust anchor: "
                "its CRL is not fetched"
            )
            return None
        issuer = path[1] if len(path) > 1 else anchor
        urls = distribution_points(cert)
        if set(skip) & set(urls):
            return None
        with _failed_lock:  # asked for explicitly: try again now
            for url in urls:
                _failed.pop(url, None)
        out = _Gathered(UrlBudget(self._max_urls))
        got = self._download(cert, issuer, now, out)
        notes += out.notes
        return got

    def _crl(
        self,
        cert: asn1_x509.Certificate,
        issuer: asn1_x509.Certificate,
        now: datetime,
        offline: bool,
        out: _Gathered,
    ) -> bool:
        held = self.cache.get(issuer)
        if held is not None and held.current(now):
            out.crls.append(held.crl)
            return True
        if offline:
            out.notes.append(
                f"offline: no current cached CRL for {cert.issuer.human_friendly}"
                + (
                    f" (the cached one expired on {held.next_update:%Y-%m-%d %H:%M} UTC)"
                    if held and held.next_update
                    else ""
                )
            )
            return False
        fresh = self._download(cert, issuer, now, out)
        if fresh is not None and fresh.current(now):
            out.crls.append(fresh.crl)
            return True
        if fresh is not None:
            out.notes.append(
                f"the CRL published for {fresh.issuer} is stale (next update was "
                f"{fresh.next_update:%Y-%m-%d %H:%M} UTC)"
                if fresh.next_update is not None and now >= fresh.next_update
                else f"the CRL published for {fresh.issuer} is not valid yet (check the clock)"
            )
        return False

    def _download(
        self,
        cert: asn1_x509.Certificate,
        issuer: asn1_x509.Certificate,
        now: datetime,
        out: _Gathered,
    ) -> CachedCrl | None:
        urls = distribution_points(cert)
        if not urls:
            out.notes.append(f"{cert.subject.human_friendly} names no CRL distribution point")
        for url in urls:
            with _failed_lock:
                since = time.monotonic() - _failed.get(url, float("-inf"))
            if since < RETRY_AFTER_SECONDS:
                out.notes.append(f"CRL from {url}: failed {since:.0f} s ago, not asked again yet")
                continue
            try:
                out.budget.take(url)
                der = self._fetch(url)
                # Kept only once the issuer's key in this path is proven to have signed it.
                return self.cache.put(der, url, now, issuer=issuer)
            except (FetchFailed, CrlUnreadable) as exc:
                if not isinstance(exc, BudgetSpent):
                    with _failed_lock:
                        _failed[url] = time.monotonic()
                out.notes.append(f"CRL from {url}: {exc}")
        return None

    def _ocsp(
        self, cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate, out: _Gathered
    ) -> bool:
        for url in ocsp_urls(cert):
            request = build_request(cert, issuer)
            try:
                out.budget.take(url)
                out.ocsps.append(check_response(self._post(url, request.der), cert, request))
                return True
            except (FetchFailed, OcspReplyInvalid) as exc:
                out.notes.append(f"OCSP at {url}: {exc}")
        return False
