"""Fetching CRLs and OCSP answers over HTTP(S), the way relying parties do.

CRLs and OCSP answers are signed by the CA, so plain HTTP is their usual transport
(RFC 5280 4.2.1.13, RFC 6960 A.1); an https:// address is verified against the
system store or the configured ``ca_bundle`` like every other connection. Replies
are size-limited and time-limited: a hostile server cannot hang or flood us.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
from asn1crypto import pem

from csos_desktop.domain.errors import CsosError

MAX_BYTES = 32 * 1024 * 1024
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class FetchFailed(CsosError):
    """The address could not be reached, refused, or sent something unusable."""


class UnsupportedScheme(FetchFailed):
    """An LDAP (or other non-HTTP) distribution point."""


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsupportedScheme(
            f"the distribution point {url} uses {scheme or 'no'}:// which this application "
            "does not fetch (only http and https); get the CRL from the CA and pass it with --crl"
        )


def _get(
    method: str, url: str, *, ca_bundle: Path | None, content: bytes | None, media: str
) -> bytes:
    _check_scheme(url)
    headers = {"Accept": media} | ({"Content-Type": "application/ocsp-request"} if content else {})
    try:
        with (
            httpx.Client(
                timeout=TIMEOUT, verify=str(ca_bundle) if ca_bundle else True, follow_redirects=True
            ) as client,
            client.stream(method, url, content=content, headers=headers) as reply,
        ):
            if reply.status_code != 200:
                raise FetchFailed(f"{url} answered HTTP {reply.status_code}")
            body = bytearray()
            for chunk in reply.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise FetchFailed(f"{url} sent more than {MAX_BYTES // 2**20} MB")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise FetchFailed(f"{url} could not be reached ({type(exc).__name__}: {exc})") from exc


def fetch_crl(url: str, *, ca_bundle: Path | None = None) -> bytes:
    """The DER CRL published at *url* (PEM is converted)."""
    body = _get("GET", url, ca_bundle=ca_bundle, content=None, media="application/pkix-crl")
    if body.lstrip().startswith(b"-----BEGIN"):
        try:
            return bytes(pem.unarmor(body)[2])
        except ValueError as exc:
            raise FetchFailed(f"{url} sent an unreadable PEM CRL") from exc
    return body


def post_ocsp(url: str, request_der: bytes, *, ca_bundle: Path | None = None) -> bytes:
    """The responder's DER answer to *request_der* (RFC 6960 A.1.1, POST)."""
    return _get(
        "POST", url, ca_bundle=ca_bundle, content=request_der, media="application/ocsp-response"
    )
