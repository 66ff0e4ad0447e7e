"""The sandbox CA over HTTPS: EST enrolment, CRLs, OCSP and revocation requests (TEST ONLY).

Endpoints (RFC 7030 paths where EST has one):

- ``GET  /.well-known/est/cacerts``          issuing CA + root, PKCS#7 certs-only, base64
- ``GET  /enrolment/application``            what the one-time codes stand for (Basic auth)
- ``POST /.well-known/est/simpleenroll``     base64 PKCS#10, Basic auth reference:code
- ``POST /.well-known/est/simplereenroll``   renewal, proof in ``CSOS-Renewal-Signature``
- ``POST /revocation-request``               holder-signed request (21 CFR 1311.30(e))
- ``GET  /crl/issuing.crl``, ``/crl/root.crl``  DER CRLs
- ``POST /ocsp``, ``GET /ocsp/{b64}``        OCSP responder (RFC 6960)
- ``GET  /.well-known/csos-ca``              where the above live, for the client to record

Refusals carry a stable code in the ``CSOS-Error`` header and a sentence in a
text/plain body. Codes and PINs are never logged: uvicorn's access log shows
method and path only, and nothing here logs a header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, pkcs7
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from csos_desktop.domain.canonical import MalformedDocument, load_document
from csos_desktop.domain.errors import CsosError
from csos_desktop.pki.cms_parse import (
    MalformedSignature,
    digest_matches,
    parse_signed_data,
    signature_valid,
)
from csos_desktop.pki.ocsp import CertStatus, OcspResponder, build_response
from csos_desktop.sandbox.ca import REVOCATION_REASONS, TestCa
from csos_desktop.sandbox.ca_certs import CaKey, SubjectKey
from csos_desktop.sandbox.codes import CodeFailure, CodeRejected, CodeStore
from csos_desktop.sandbox.https import (
    RunningServer,
    TlsFiles,
    bind,
    start_in_thread,
    url_of,
    write_tls_files,
)
from csos_desktop.sandbox.limits import BodyLimit, RequestLimits

MAX_BODY = 64 * 1024
CA_LIMITS = RequestLimits(max_body=MAX_BODY)
#: How far a holder-signed request's signing time may be from the CA's clock.
FRESHNESS = timedelta(minutes=10)
RENEWAL_SIGNATURE_HEADER = "CSOS-Renewal-Signature"
ERROR_HEADER = "CSOS-Error"
PKCS7_CERTS = "application/pkcs7-mime; smime-type=certs-only"
#: Reasons a holder may ask for; CA-side reasons (caCompromise, ...) are the CA's to use.
HOLDER_REASONS = (
    "unspecified",
    "keyCompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
)


class Refused(Exception):
    """An HTTP refusal with a stable code and a sentence for the user."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _refusal(exc: Refused) -> Response:
    headers = {ERROR_HEADER: exc.code}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="csos-sandbox-ca"'
    return PlainTextResponse(exc.message, status_code=exc.status, headers=headers)


def _certs_only(certs: list[x509.Certificate]) -> Response:
    der = pkcs7.serialize_certificates(certs, Encoding.DER)
    return Response(
        base64.encodebytes(der),
        media_type=PKCS7_CERTS,
        headers={"Content-Transfer-Encoding": "base64"},
    )


async def _body(request: Request) -> bytes:
    # Already read and bounded (MAX_BODY) by the BodyLimit middleware, before any route.
    return await request.body()


def _limit_refusal(status: int, code: str, message: str) -> Response:
    return _refusal(Refused(status, code, message))


def _csr_der(body: bytes) -> bytes:
    try:
        return base64.b64decode(b"".join(body.split()), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise Refused(400, "bad-request", "the request body is not base64") from exc


def _csr(body: bytes) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_der_x509_csr(_csr_der(body))
        valid = csr.is_signature_valid
        csr.public_key()
    except (ValueError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise Refused(
            400, "bad-request", "the request body is not a base64 PKCS#10 certificate request"
        ) from exc
    if not valid:
        raise Refused(
            400,
            "bad-request",
            "the certificate request's signature does not verify: make a new request on the token",
        )
    return csr


def _spki_sha256(key: Any) -> str:
    return hashlib.sha256(
        key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    ).hexdigest()


def _source(request: Request) -> str:
    """The client's address, which wrong enrolment codes are counted against."""
    return request.client.host if request.client else "unknown"


def create_app(ca: TestCa, codes: CodeStore, *, limits: RequestLimits = CA_LIMITS) -> FastAPI:
    """The CA's HTTP interface over one CA directory.

    Every request body is bounded (size, time) before routing, so before the codes
    or a holder's signature are checked.
    """
    app = FastAPI(
        title="CSOS sandbox CA (TEST ONLY)", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.add_middleware(BodyLimit, limits=limits, refuse=_limit_refusal)
    basic = HTTPBasic(auto_error=False)
    issuing, root = ca.issuing_certificate, ca.root_certificate
    keys = _ca_keys(ca.directory)

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> Response:
        return _refusal(exc)

    @app.exception_handler(CodeRejected)
    async def _codes(_request: Request, exc: CodeRejected) -> Response:
        return _refusal(Refused(401, exc.failure.value, exc.message))

    @app.exception_handler(CsosError)
    async def _csos(_request: Request, exc: CsosError) -> Response:
        return _refusal(Refused(400, "refused", exc.message))

    def _credentials(creds: HTTPBasicCredentials | None) -> HTTPBasicCredentials:
        if creds is None:
            raise Refused(401, "codes-required", "give the reference number and authorisation code")
        return creds

    @app.get("/.well-known/est/cacerts")
    def cacerts() -> Response:
        return _certs_only([issuing, root])

    @app.get("/.well-known/csos-ca")
    def discovery(request: Request) -> dict[str, object]:
        base = str(request.base_url).rstrip("/")
        return {
            "name": issuing.subject.rfc4514_string(),
            "crl_urls": [f"{base}/crl/issuing.crl", f"{base}/crl/root.crl"],
            "ocsp_url": f"{base}/ocsp",
            "revocation_request_url": f"{base}/revocation-request",
        }

    @app.get("/enrolment/application")
    async def application(request: Request) -> Any:
        c = _credentials(await basic(request))
        app_data = codes.check(c.username, c.password, source=_source(request))
        return {
            "reference_number": app_data.reference_number,
            "name": app_data.name,
            "dea_number": app_data.dea_number,
            "schedules": sorted(s.value for s in app_data.schedules),
            "codes_expire": app_data.expires.isoformat(),
        }

    @app.post("/.well-known/est/simpleenroll")
    async def simpleenroll(request: Request) -> Response:
        c = _credentials(await basic(request))
        body = await _body(request)
        with codes.redeem(c.username, c.password, source=_source(request)) as redemption:
            csr = _csr(body)
            key = csr.public_key()
            spki = _spki_sha256(key)
            if redemption.issued_spki_sha256 is not None:
                if redemption.issued_spki_sha256 != spki or not redemption.previous_certificate:
                    raise CodeRejected(
                        CodeFailure.USED,
                        "These enrolment codes were already "
                        "used for another key. Ask the CA for new codes.",
                    )
                # The same key again: the client lost our reply; send the same certificate.
                return _certs_only(
                    [x509.load_der_x509_certificate(redemption.previous_certificate)]
                )
            if not isinstance(key, SubjectKey):
                raise Refused(400, "bad-request", "the request's key type is not supported")
            a = redemption.application
            subject = x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                    x509.NameAttribute(NameOID.COMMON_NAME, a.name),
                ]
            )
            cert = ca.issue_for_public_key(
                key, subject=subject, dea_number=a.dea_number, schedules=a.schedules
            )
            redemption.record(cert.serial_number, spki, cert.public_bytes(Encoding.DER))
        return _certs_only([cert])

    @app.post("/.well-known/est/simplereenroll")
    async def simplereenroll(request: Request) -> Response:
        body = await _body(request)
        csr = _csr(body)
        proof = request.headers.get(RENEWAL_SIGNATURE_HEADER)
        if not proof:
            raise Refused(
                401,
                "renewal-signature-missing",
                "a renewal must be signed with the current certificate's key",
            )
        current = _holder(ca, _csr_der(body), proof)
        key = csr.public_key()
        if not isinstance(key, SubjectKey):
            raise Refused(400, "bad-request", "the request's key type is not supported")
        if _spki_sha256(key) == _spki_sha256(current.public_key()):
            raise Refused(400, "same-key", "a renewal needs a new key pair")
        # The certificate carries only a hash of the DEA number: the CA's own log has it.
        record = next((i for i in ca.issued if i.serial == current.serial_number), None)
        if record is None:
            raise Refused(403, "not-our-certificate", "this CA has no record of that certificate")
        cert = ca.issue_for_public_key(
            key, subject=current.subject, dea_number=record.dea_number, schedules=record.schedules
        )
        return _certs_only([cert])

    @app.post("/revocation-request")
    async def revocation_request(request: Request) -> Any:
        try:
            payload = await request.json()
            document = base64.b64decode(payload["document"], validate=True)
            doc = load_document(document)
        except (ValueError, KeyError, TypeError, binascii.Error, MalformedDocument) as exc:
            raise Refused(400, "bad-request", "the revocation request is not readable") from exc
        holder = _holder(ca, document, str(payload.get("signature", "")))
        if doc.get("schema") != "csos-revocation-request/1" or doc.get("serial_number") != str(
            holder.serial_number
        ):
            raise Refused(
                400,
                "bad-request",
                "the request must name the serial number of the certificate that signs it",
            )
        reason = str(doc.get("reason"))
        if reason not in HOLDER_REASONS:
            raise Refused(400, "bad-reason", f"reason must be one of {', '.join(HOLDER_REASONS)}")
        ca.revoke(holder.serial_number, reason=reason)
        return {
            "serial_number": str(holder.serial_number),
            "reason": reason,
            "revoked_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        }

    @app.get("/crl/issuing.crl")
    def crl() -> Response:
        return Response(ca.crl().public_bytes(Encoding.DER), media_type="application/pkix-crl")

    @app.get("/crl/root.crl")
    def root_crl() -> Response:
        return Response(ca.root_crl().public_bytes(Encoding.DER), media_type="application/pkix-crl")

    def _ocsp(der: bytes) -> Response:
        return Response(_ocsp_response(der, ca, keys), media_type="application/ocsp-response")

    @app.post("/ocsp")
    async def ocsp_post(request: Request) -> Response:
        return _ocsp(await _body(request))

    @app.get("/ocsp/{encoded:path}")
    def ocsp_get(encoded: str) -> Response:
        try:
            der = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            der = b""
        return _ocsp(der)

    return app


def _holder(ca: TestCa, content: bytes, signature_b64: str) -> x509.Certificate:
    """The certificate of a holder who signed *content*; refuses anything less (401/403)."""
    try:
        parsed = parse_signed_data(base64.b64decode(signature_b64, validate=True))
    except (binascii.Error, ValueError, MalformedSignature) as exc:
        raise Refused(401, "signature-invalid", "the request's signature is not readable") from exc
    if not (digest_matches(parsed, content) and signature_valid(parsed)):
        raise Refused(401, "signature-invalid", "the request's signature does not verify")
    signer = x509.load_der_x509_certificate(parsed.signer.dump())
    try:
        signer.verify_directly_issued_by(ca.issuing_certificate)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise Refused(
            403,
            "not-our-certificate",
            "the request is signed with a certificate this CA did not issue",
        ) from exc
    now = datetime.now(UTC)
    if any(r.serial == signer.serial_number for r in ca.revocations):
        raise Refused(403, "certificate-revoked", "the signing certificate is revoked")
    if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
        raise Refused(
            403,
            "certificate-expired",
            "the signing certificate is not valid now; enrol again with new one-time codes",
        )
    when = parsed.signing_time
    if when is None or abs(now - when) > FRESHNESS:
        raise Refused(
            401,
            "stale-request",
            "the request's signing time is more than 10 "
            "minutes from the CA's clock: check this computer's clock",
        )
    return signer


def _ocsp_response(der: bytes, ca: TestCa, keys: dict[str, CaKey]) -> bytes:
    """Answer for subscriber certificates (signed by the issuing CA) and the issuing CA (root)."""
    revoked = {r.serial: r for r in ca.revocations}

    def status_from(known: set[int]) -> Callable[[int], CertStatus]:
        def status(serial: int) -> CertStatus:
            if serial not in known:
                return CertStatus(ocsp.OCSPCertStatus.UNKNOWN)
            r = revoked.get(serial)
            if r is None:
                return CertStatus(ocsp.OCSPCertStatus.GOOD)
            reason = None if r.reason == "unspecified" else REVOCATION_REASONS[r.reason]
            return CertStatus(ocsp.OCSPCertStatus.REVOKED, r.date, reason)

        return status

    return build_response(
        der,
        [
            OcspResponder(
                ca.issuing_certificate, keys["issuing"], status_from({i.serial for i in ca.issued})
            ),
            OcspResponder(
                ca.root_certificate,
                keys["root"],
                status_from({ca.issuing_certificate.serial_number}),
            ),
        ],
    )


def _ca_keys(directory: Path) -> dict[str, CaKey]:
    out: dict[str, CaKey] = {}
    for name, fname in (("root", "root-key.pem"), ("issuing", "ca-key.pem")):
        key = serialization.load_pem_private_key((directory / fname).read_bytes(), None)
        assert isinstance(key, CaKey)
        out[name] = key
    return out


def prepare_ca(
    ca: TestCa, sock: socket.socket, host: str, *, limits: RequestLimits = CA_LIMITS
) -> tuple[FastAPI, TlsFiles]:
    """App and TLS files for serving *ca* on *sock*; new certificates name its CRL URL."""
    tls = write_tls_files(ca, ca.directory / "tls", (host,))
    ca.crl_url = f"{url_of(sock)}/crl/issuing.crl"
    ca.ocsp_url = f"{url_of(sock)}/ocsp"
    return create_app(ca, CodeStore(ca.directory), limits=limits), tls


def start_ca(
    ca: TestCa,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    sock: socket.socket | None = None,
    limits: RequestLimits = CA_LIMITS,
) -> RunningServer:
    """Serve the CA from a background thread (tests, demo); *sock* when already bound
    (so the CA certificates could name its CRL address before the server started)."""
    sock = sock or bind(host, port)
    app, tls = prepare_ca(ca, sock, host, limits=limits)
    return start_in_thread(app, tls, sock, limits=limits)
