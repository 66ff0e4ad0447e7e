"""EST (RFC 7030) client for the CSOS CA, over TLS verified against a CA bundle or the system store.

There is no way to turn verification off. Replies are read up to a size cap
and parsed strictly; anything unexpected becomes :class:`CaReplyInvalid`
before the token is touched. HTTP Basic credentials (the one-time codes) go
only to the CA URL given, never into a log or an error message.
"""

from __future__ import annotations

import base64
import binascii
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from csos_desktop.domain.dea import parse_dea_number
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.domain.schedule import Schedule
from csos_desktop.enrol.errors import (
    CaCertificateUntrusted,
    CaRefused,
    CaReplyInvalid,
    CaUnavailable,
    CaUnreachable,
    EnrolmentCodesRefused,
)
from csos_desktop.known_secrets import remember_secret
from csos_desktop.trust.tls import tls_context

MAX_REPLY = 1024 * 1024
EST = "/.well-known/est"
RENEWAL_SIGNATURE_HEADER = "CSOS-Renewal-Signature"
ERROR_HEADER = "CSOS-Error"

_CODE_MESSAGES = {
    "wrong-code": "The CA did not accept the reference number and authorisation code. Check "
    "both against the CA's letter or e-mail (they are not case-sensitive).",
    "code-used": "These enrolment codes were already used. Each pair works once: ask the CA "
    "for new codes.",
    "code-expired": "These enrolment codes have expired. Ask the CA to send new codes.",
    "too-many-attempts": "These enrolment codes are locked after too many wrong tries. Do not "
    "try again: ask the CA for new codes.",
    "codes-required": "The CA needs the reference number and authorisation code.",
}


@dataclass(frozen=True)
class OneTimeCodes:
    """The reference number and authorisation code the CA sent; the code is never shown."""

    reference_number: str
    authorization_code: str = field(repr=False)

    def __post_init__(self) -> None:
        remember_secret(self.authorization_code)  # log redaction finds it even bare


@dataclass(frozen=True)
class ApplicationData:
    """The registrant data the CA holds for the codes: what the certificate must carry."""

    name: str
    dea_number: str
    schedules: frozenset[Schedule]


@dataclass(frozen=True)
class CaEndpoints:
    """Where the CA publishes revocation data and takes revocation requests."""

    crl_urls: tuple[str, ...]
    ocsp_url: str | None
    revocation_request_url: str | None


def _sanitised(text: str, limit: int = 300) -> str:
    # The CA's sentence is shown to the user: printable characters only, bounded.
    clean = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return clean[:limit]


def parse_certs_only(body: bytes) -> list[bytes]:
    """DER certificates from a base64 PKCS#7 certs-only reply (RFC 7030 4.1.3, 4.2.3)."""
    try:
        der = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CaReplyInvalid(
            "The CA's reply is not base64 PKCS#7 (it may be cut short or "
            "come from a proxy). Nothing was written to your token; try "
            "again."
        ) from exc
    try:
        certs = pkcs7.load_der_pkcs7_certificates(der)
    except ValueError as exc:
        raise CaReplyInvalid(
            "The CA's reply is not a readable PKCS#7 certificate list (it "
            "may be cut short). Nothing was written to your token; try "
            "again."
        ) from exc
    if not certs:
        raise CaReplyInvalid(
            "The CA's reply holds no certificate. Nothing was written to "
            "your token; contact the CA."
        )
    return [c.public_bytes(Encoding.DER) for c in certs]


class EstClient:
    """One CA, one TLS configuration; use as a context manager."""

    def __init__(
        self, ca_url: str, *, ca_bundle: Path | None = None, timeout: float = 20.0
    ) -> None:
        url = ca_url.strip().rstrip("/")
        if not url.lower().startswith("https://"):
            raise InputError(
                f"The CA URL must start with https:// (got {ca_url!r}); "
                "enrolment never runs over plain HTTP."
            )
        self.ca_url = url
        self.ca_bundle = ca_bundle
        self._http = httpx.Client(
            base_url=url, verify=tls_context(ca_bundle), timeout=timeout, follow_redirects=False
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EstClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- EST -------------------------------------------------------------------
    def cacerts(self) -> list[bytes]:
        """The CA certificates (issuing CA and root), DER."""
        return parse_certs_only(self._call("GET", f"{EST}/cacerts"))

    def simpleenroll(self, csr_der: bytes, codes: OneTimeCodes) -> list[bytes]:
        """Submit a PKCS#10 authenticated with the one-time codes; the issued certificate(s)."""
        return parse_certs_only(
            self._call(
                "POST",
                f"{EST}/simpleenroll",
                content=base64.encodebytes(csr_der),
                headers={
                    "Content-Type": "application/pkcs10",
                    "Content-Transfer-Encoding": "base64",
                },
                auth=(codes.reference_number.strip(), codes.authorization_code),
            )
        )

    def simplereenroll(self, csr_der: bytes, renewal_signature: bytes) -> list[bytes]:
        """Renewal: the CSR of a new key, with a CMS signature by the current certificate."""
        return parse_certs_only(
            self._call(
                "POST",
                f"{EST}/simplereenroll",
                content=base64.encodebytes(csr_der),
                headers={
                    "Content-Type": "application/pkcs10",
                    "Content-Transfer-Encoding": "base64",
                    RENEWAL_SIGNATURE_HEADER: base64.b64encode(renewal_signature).decode(),
                },
            )
        )

    # -- CSOS CA extras ----------------------------------------------------------
    def application(self, codes: OneTimeCodes) -> ApplicationData:
        """What the codes stand for (name, DEA number, schedules); does not spend them."""
        data = self._json(
            "GET",
            "/enrolment/application",
            auth=(codes.reference_number.strip(), codes.authorization_code),
        )
        try:
            name = str(data["name"]).strip()
            dea = parse_dea_number(str(data["dea_number"])).value
            schedules = frozenset(Schedule.parse(str(s)) for s in data["schedules"])
        except (KeyError, TypeError, ValueError, CsosError) as exc:
            raise CaReplyInvalid(
                "The CA's description of your application is incomplete or invalid; contact the CA."
            ) from exc
        if not name or not schedules:
            raise CaReplyInvalid(
                "The CA's description of your application has no name or no "
                "schedules; contact the CA."
            )
        return ApplicationData(_sanitised(name, 64), dea, schedules)

    def endpoints(self) -> CaEndpoints | None:
        """The CA's CRL/OCSP/revocation URLs, or None if it does not publish them."""
        try:
            data = self._json("GET", "/.well-known/csos-ca")
        except CaRefused:
            return None
        try:
            return CaEndpoints(
                tuple(str(u) for u in data.get("crl_urls", [])),
                _opt_str(data.get("ocsp_url")),
                _opt_str(data.get("revocation_request_url")),
            )
        except (TypeError, AttributeError) as exc:
            raise CaReplyInvalid("The CA's list of endpoints is not readable.") from exc

    def revocation_request(self, document: bytes, signature: bytes) -> dict[str, Any]:
        """Send a holder-signed revocation request; the CA's acknowledgement."""
        return self._json(
            "POST",
            "/revocation-request",
            json={
                "document": base64.b64encode(document).decode(),
                "signature": base64.b64encode(signature).decode(),
            },
        )

    # -- transport ---------------------------------------------------------------
    def _json(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        import json

        body = self._call(method, path, **kw)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise CaReplyInvalid("The CA's reply is not valid JSON (it may be cut short).") from exc
        if not isinstance(data, dict):
            raise CaReplyInvalid("The CA's reply is not the expected JSON object.")
        return data

    def _call(self, method: str, path: str, **kw: Any) -> bytes:
        try:
            with self._http.stream(method, path, **kw) as reply:
                body = b""
                for chunk in reply.iter_bytes():
                    body += chunk
                    if len(body) > MAX_REPLY:
                        raise CaReplyInvalid(
                            "The CA's reply is far larger than any "
                            "certificate, so it was refused. Nothing was "
                            "written to your token."
                        )
                status, code = reply.status_code, reply.headers.get(ERROR_HEADER, "")
        except httpx.ConnectError as exc:
            if isinstance(
                exc.__context__ or exc.__cause__, ssl.SSLCertVerificationError
            ) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise CaCertificateUntrusted(
                    f"The CA at {self.ca_url} presented a certificate this computer does not "
                    "trust, so nothing was sent. If this is the right CA, give its root "
                    "certificate with --ca-bundle ROOT.pem."
                ) from exc
            raise CaUnreachable(
                f"Cannot connect to the CA at {self.ca_url}. Check the URL, "
                "the network and any proxy, then try again."
            ) from exc
        except httpx.TimeoutException as exc:
            raise CaUnreachable(
                f"The CA at {self.ca_url} did not answer in time. Try again later."
            ) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise CaReplyInvalid(
                "The connection to the CA broke off during its reply. Nothing "
                "was written to your token; try again.",
                retryable=True,
            ) from exc
        except httpx.HTTPError as exc:
            raise CaUnreachable(
                f"Talking to the CA at {self.ca_url} failed ({type(exc).__name__}). Try again."
            ) from exc
        if status == 200:
            return body
        said = _sanitised(body.decode("utf-8", "replace"))
        if code in _CODE_MESSAGES:
            detail = f" ({said})" if code == "wrong-code" and "attempt" in said else ""
            raise EnrolmentCodesRefused(_CODE_MESSAGES[code] + detail, code)
        if status >= 500:
            raise CaUnavailable(
                f"The CA reported a problem on its side (HTTP {status}). Try "
                "again later; nothing was written to your token."
            )
        if 400 <= status < 500:
            raise CaRefused(
                f"The CA refused the request: {said or f'HTTP {status}'}.", code or str(status)
            )
        raise CaReplyInvalid(
            f"The CA answered with HTTP {status}, which is not a reply to this request."
        )


def _opt_str(value: object) -> str | None:
    return str(value) if value else None
