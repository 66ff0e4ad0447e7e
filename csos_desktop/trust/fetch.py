"""The one fetcher of CRLs and OCSP answers: verification, signing, `cert show`, the
reference distributor.

CRLs and OCSP answers are signed by the CA, so plain HTTP is their usual transport
(RFC 5280 4.2.1.13, RFC 6960 A.1); an https:// address is verified with the one TLS
context (:mod:`csos_desktop.trust.tls`). The addresses come from certificates, so a
hostile certificate chooses them; the rules keep it from using us against the network
we sit in or from holding us up:

- http and https only; a redirect is followed only to the same scheme, host and port;
- no loopback, link-local, private or otherwise non-public address unless the machine
  policy allows it (``allow_private_revocation_urls``; the sandbox's policy does);
- one total deadline per request (10 s unless told), whatever the server trickles;
- a size cap (4 MB): a CRL larger than that is refused, not cached.

Errors say what the user can act on; a server's HTTP status stays in the log.
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from asn1crypto import pem

from csos_desktop.config import Source, load_config
from csos_desktop.domain.errors import CsosError
from csos_desktop.trust.tls import CaBundleUnusable, tls_context

log = logging.getLogger(__name__)

MAX_BYTES = 4 * 1024 * 1024
DEADLINE_SECONDS = 10.0
MAX_REDIRECTS = 3


class FetchFailed(CsosError):
    """The address could not be reached, refused, or sent something unusable."""


class UnsupportedScheme(FetchFailed):
    """An LDAP (or other non-HTTP) distribution point."""


class BudgetSpent(FetchFailed):
    """Enough addresses were tried for one verification."""


class AddressRefused(FetchFailed):
    """A private, loopback or link-local address the machine policy does not allow."""


@dataclass(frozen=True)
class FetchRules:
    """How one request may go. Callers build it from the configuration
    (:func:`rules_from_config`); tests hand in their own."""

    ca_bundle: Path | None = None
    deadline: float = DEADLINE_SECONDS
    max_bytes: int = MAX_BYTES
    allow_private: bool = False


#: Set only by `csos demo` in its own process (its CA serves on this machine); no setting,
#: file or environment variable reaches it.
_demo_process = False


def allow_private_in_this_process() -> None:
    """For `csos demo` only: its CA's CRLs are on 127.0.0.1."""
    global _demo_process
    _demo_process = True


def rules_from_config() -> FetchRules:
    """The configured CA bundle, and private addresses only if this machine allows them."""
    config = load_config()
    bundle = config.text("ca_bundle")
    allowed = config.values["allow_private_revocation_urls"]
    # Like software tokens: only IT's machine policy, or the demo in its own process.
    private = _demo_process or (
        allowed.value is True and allowed.source in (Source.POLICY, Source.POLICY_LOCKED)
    )
    return FetchRules(ca_bundle=Path(bundle) if bundle else None, allow_private=private)


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsupportedScheme(
            f"the distribution point {url} uses {scheme or 'no'}:// which this application "
            "does not fetch (only http and https); get the CRL from the CA and pass it with --crl"
        )


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not ip.is_multicast


def _check_address(url: str, rules: FetchRules) -> None:
    """Refuse a host that resolves to a non-public address, unless allowed."""
    if rules.allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchFailed(f"{_where(url)} could not be found (its name does not resolve)") from exc
    if not infos or not all(_public(str(info[4][0])) for info in infos):
        raise AddressRefused(
            f"{_where(url)} is a local or private network address; revocation data is "
            "fetched only from public addresses on this computer (IT: the "
            "`allow_private_revocation_urls` policy setting)"
        )


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def _exchange(
    method: str, url: str, rules: FetchRules, content: bytes | None, media: str, started: float
) -> bytes:
    headers = {"Accept": media} | ({"Content-Type": "application/ocsp-request"} if content else {})
    timeout = httpx.Timeout(rules.deadline)
    with httpx.Client(
        timeout=timeout, verify=tls_context(rules.ca_bundle), follow_redirects=False
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            _check_scheme(url)
            _check_address(url, rules)
            with client.stream(method, url, content=content, headers=headers) as reply:
                if reply.is_redirect:
                    target = urljoin(url, reply.headers.get("location", ""))
                    if not _same_origin(url, target):
                        raise FetchFailed(
                            f"{_where(url)} sent us to another server; revocation data is "
                            "taken only from the address the certificate names"
                        )
                    url = target
                    continue
                if reply.status_code != 200:
                    log.info("revocation fetch %s: HTTP %s", _where(url), reply.status_code)
                    raise FetchFailed(f"{_where(url)} did not provide the revocation data")
                body = bytearray()
                for chunk in reply.iter_bytes():
                    body += chunk
                    if len(body) > rules.max_bytes:
                        raise FetchFailed(
                            f"{_where(url)} sent more than {rules.max_bytes // 2**20} MB; refused"
                        )
                    if time.monotonic() - started > rules.deadline:
                        raise FetchFailed(f"{_where(url)} is too slow to answer")
                return bytes(body)
    raise FetchFailed(f"{_where(url)} redirects too many times")


def _too_slow(url: str, rules: FetchRules) -> FetchFailed:
    return FetchFailed(f"{_where(url)} did not answer within {rules.deadline:g} s")


def _get(method: str, url: str, rules: FetchRules, content: bytes | None, media: str) -> bytes:
    """One request under one total deadline: the exchange runs on a worker thread that
    the caller stops waiting for at the deadline (the thread itself ends within one
    more read timeout, and its connection with it)."""
    _check_scheme(url)
    started = time.monotonic()
    answer: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=1)

    def work() -> None:
        try:
            answer.put((True, _exchange(method, url, rules, content, media, started)))
        except FetchFailed as exc:
            answer.put((False, exc))
        except CaBundleUnusable as exc:
            answer.put((False, FetchFailed(str(exc))))
        except httpx.TimeoutException:
            # A read that outlasts the deadline is the same slowness the caller's wait reports.
            answer.put((False, _too_slow(url, rules)))
        except (httpx.HTTPError, OSError, ValueError) as exc:
            log.info("revocation fetch %s: %s", _where(url), exc)
            answer.put((False, FetchFailed(f"{_where(url)} could not be reached")))
        except Exception as exc:  # a bug: raised again in the caller's thread
            answer.put((False, exc))

    threading.Thread(target=work, name="revocation-fetch", daemon=True).start()
    try:
        ok, value = answer.get(timeout=rules.deadline)
    except queue.Empty:
        raise _too_slow(url, rules) from None
    if not ok:
        raise value  # type: ignore[misc]
    return value  # type: ignore[return-value]


def fetch_crl(url: str, rules: FetchRules | None = None) -> bytes:
    """The DER CRL published at *url* (PEM is converted)."""
    body = _get("GET", url, rules or FetchRules(), None, "application/pkix-crl")
    if body.lstrip().startswith(b"-----BEGIN"):
        try:
            return bytes(pem.unarmor(body)[2])
        except ValueError as exc:
            raise FetchFailed(f"{_where(url)} sent an unreadable PEM CRL") from exc
    return body


def post_ocsp(url: str, request_der: bytes, rules: FetchRules | None = None) -> bytes:
    """The responder's DER answer to *request_der* (RFC 6960 A.1.1, POST)."""
    return _get("POST", url, rules or FetchRules(), request_der, "application/ocsp-response")


@dataclass
class UrlBudget:
    """At most *limit* addresses asked during one verification: a certificate cannot
    make us try a hundred distribution points."""

    limit: int = 6
    used: int = 0

    def take(self, url: str) -> None:
        if self.used >= self.limit:
            raise BudgetSpent(
                f"{_where(url)} not asked: {self.limit} addresses were already tried for "
                "this verification"
            )
        self.used += 1


CrlFetcher = Callable[[str], bytes]
OcspPoster = Callable[[str, bytes], bytes]
