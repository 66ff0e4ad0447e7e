"""Hostile bytes from a CA or an OCSP responder give our error, never a crash; the responder."""

from __future__ import annotations

import base64
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from csos_desktop.enrol.errors import CaReplyInvalid
from csos_desktop.enrol.est_client import parse_certs_only
from csos_desktop.pki.ocsp import (
    CertStatus,
    OcspReplyInvalid,
    OcspResponder,
    build_request,
    build_response,
    check_response,
)

NOW = datetime.now(UTC)


def _cert(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    serial: int,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), True)
        .sign(issuer_key, hashes.SHA256())
    )


CA_KEY = ec.generate_private_key(ec.SECP256R1())
CA = _cert("CA", CA_KEY, None, CA_KEY, 1)
LEAF = _cert("Leaf", ec.generate_private_key(ec.SECP256R1()), CA, CA_KEY, 42)
REPLY = base64.encodebytes(pkcs7.serialize_certificates([LEAF, CA], Encoding.DER))


def _asn1(c: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(c.public_bytes(Encoding.DER))


def test_a_good_certs_only_reply_is_read() -> None:
    # PKCS#7 keeps certificates in a SET: order is not preserved.
    assert sorted(parse_certs_only(REPLY)) == sorted(
        [LEAF.public_bytes(Encoding.DER), CA.public_bytes(Encoding.DER)]
    )


@pytest.mark.parametrize("cut", [10, len(REPLY) // 2, len(REPLY) - 8])
def test_a_truncated_reply_is_refused(cut: int) -> None:
    with pytest.raises(CaReplyInvalid):
        parse_certs_only(REPLY[:cut])


@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_escape_as_anything_but_our_error(data: bytes) -> None:
    for blob in (data, base64.b64encode(data)):
        with contextlib.suppress(CaReplyInvalid):
            parse_certs_only(blob)


@given(st.binary(max_size=512))
def test_arbitrary_ocsp_replies_are_refused_cleanly(data: bytes) -> None:
    with pytest.raises(OcspReplyInvalid):
        check_response(data, _asn1(LEAF))


def _responder(status: CertStatus) -> list[OcspResponder]:
    return [
        OcspResponder(
            CA,
            CA_KEY,
            lambda serial: status if serial == 42 else CertStatus(ocsp.OCSPCertStatus.UNKNOWN),
        )
    ]


def test_responder_answers_revoked_with_reason_and_echoes_the_nonce() -> None:
    request = build_request(_asn1(LEAF), _asn1(CA))
    when = NOW.replace(microsecond=0) - timedelta(hours=1)
    der = build_response(
        request.der,
        _responder(CertStatus(ocsp.OCSPCertStatus.REVOKED, when, x509.ReasonFlags.key_compromise)),
    )
    reply = check_response(der, _asn1(LEAF), request)
    single = reply["response_bytes"]["response"].parsed["tbs_response_data"]["responses"][0]
    assert single["cert_status"].name == "revoked"
    assert single["cert_status"].chosen["revocation_reason"].native == "key_compromise"
    loaded = ocsp.load_der_ocsp_response(der)
    CA_KEY.public_key().verify(
        loaded.signature, loaded.tbs_response_bytes, ec.ECDSA(hashes.SHA256())
    )


def test_a_reply_to_someone_elses_request_is_refused() -> None:
    ours, theirs = build_request(_asn1(LEAF), _asn1(CA)), build_request(_asn1(LEAF), _asn1(CA))
    der = build_response(theirs.der, _responder(CertStatus(ocsp.OCSPCertStatus.GOOD)))
    with pytest.raises(OcspReplyInvalid, match="nonce"):
        check_response(der, _asn1(LEAF), ours)


def test_a_malformed_request_gets_malformed_request() -> None:
    der = build_response(b"junk", _responder(CertStatus(ocsp.OCSPCertStatus.GOOD)))
    with pytest.raises(OcspReplyInvalid, match="malformed_request"):
        check_response(der, _asn1(LEAF))


def test_a_certificate_from_another_ca_is_not_answered() -> None:
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _cert("Other CA", other_key, None, other_key, 2)
    request = build_request(_asn1(LEAF), _asn1(other))
    der = build_response(request.der, _responder(CertStatus(ocsp.OCSPCertStatus.GOOD)))
    with pytest.raises(OcspReplyInvalid, match="unauthorized"):
        check_response(der, _asn1(LEAF), request)
