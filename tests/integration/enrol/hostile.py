"""A CA that misbehaves on purpose: wrong key, wrong DEA number, cut-short or oversized replies."""

from __future__ import annotations

import base64

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Request, Response

from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.sandbox.ca import TestCa

MODES = ("other-key", "wrong-dea", "truncated", "not-base64", "empty-pkcs7", "huge", "error-500")


def _certs_only(certs: list[x509.Certificate]) -> bytes:
    return base64.encodebytes(pkcs7.serialize_certificates(certs, Encoding.DER))


def hostile_app(ca: TestCa) -> tuple[FastAPI, dict[str, str]]:
    """The app and a dict whose "mode" a test sets before enrolling."""
    state = {"mode": "other-key"}
    app = FastAPI()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Main Street Pharmacy")])
    schedules = parse_schedule_list("2,3")

    @app.get("/enrolment/application")
    def application() -> dict[str, object]:
        return {"name": "Main Street Pharmacy", "dea_number": "AB1234563", "schedules": ["2", "3"]}

    @app.get("/.well-known/est/cacerts")
    def cacerts() -> Response:
        return Response(_certs_only([ca.issuing_certificate, ca.root_certificate]))

    @app.post("/.well-known/est/simpleenroll")
    async def simpleenroll(request: Request) -> Response:
        csr = x509.load_der_x509_csr(base64.b64decode(await request.body()))
        mode = state["mode"]
        if mode == "other-key":
            other = ec.generate_private_key(ec.SECP256R1()).public_key()
            cert = ca.issue_for_public_key(
                other, subject=name, dea_number="AB1234563", schedules=schedules
            )
            return Response(_certs_only([cert]))
        if mode == "wrong-dea":
            key = csr.public_key()
            assert isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
            cert = ca.issue_for_public_key(
                key, subject=name, dea_number="BJ6125341", schedules=schedules
            )
            return Response(_certs_only([cert]))
        if mode == "truncated":
            good = _certs_only([ca.issuing_certificate])
            return Response(good[: len(good) // 2])
        if mode == "not-base64":
            return Response(b"<html><body>Proxy error</body></html>")
        if mode == "empty-pkcs7":
            return Response(base64.b64encode(b"0\x00"))  # an empty SEQUENCE
        if mode == "huge":
            return Response(b"A" * (2 * 1024 * 1024))
        return Response(b"internal error", status_code=500)

    return app, state
