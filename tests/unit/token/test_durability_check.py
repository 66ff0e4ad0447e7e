"""Judging what a new process found on the token: every object, and a key that signs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.token.durability import DurabilityReport
from csos_desktop.token.durability_check import Expected, KeyNotKept, missing_from

CHALLENGE = hashlib.sha256(b"challenge").digest()


def _certificate(key: ec.EllipticCurvePrivateKey, name: str) -> bytes:
    subject = x509.Name.from_rfc4514_string(f"CN={name}")
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return cert.public_bytes(Encoding.DER)


def _sign(key: ec.EllipticCurvePrivateKey) -> str:
    return key.sign(CHALLENGE, ec.ECDSA(utils.Prehashed(hashes.SHA256()))).hex()


@pytest.fixture(scope="module")
def written() -> tuple[ec.EllipticCurvePrivateKey, Expected]:
    key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(ec.generate_private_key(ec.SECP256R1()), "CA")
    return key, Expected(b"\x01" * 20, (_certificate(key, "Pharmacy"), ca))


def _kept(key: ec.EllipticCurvePrivateKey, expected: Expected) -> DurabilityReport:
    return DurabilityReport(
        private_keys=1,
        public_keys=1,
        certificates=tuple(hashlib.sha256(d).hexdigest() for d in expected.certificates),
        signature=_sign(key),
    )


def test_everything_kept_and_a_verifying_signature_is_nothing_missing(
    written: tuple[ec.EllipticCurvePrivateKey, Expected],
) -> None:
    key, expected = written
    report = _kept(key, expected)
    assert missing_from(DurabilityReport.from_json(report.to_json()), expected, CHALLENGE) == []


def test_a_lost_private_key_is_named(
    written: tuple[ec.EllipticCurvePrivateKey, Expected],
) -> None:
    key, expected = written
    report = _kept(key, expected)
    lost = DurabilityReport(0, 1, report.certificates, None)
    assert missing_from(lost, expected, CHALLENGE) == ["the private key"]


def test_a_key_that_signs_for_another_certificate_is_not_the_key(
    written: tuple[ec.EllipticCurvePrivateKey, Expected],
) -> None:
    key, expected = written
    report = _kept(key, expected)
    other = DurabilityReport(
        1, 1, report.certificates, _sign(ec.generate_private_key(ec.SECP256R1()))
    )
    assert missing_from(other, expected, CHALLENGE) == [
        "a private key that signs for the certificate"
    ]


def test_lost_certificates_are_counted_and_named_in_the_refusal(
    written: tuple[ec.EllipticCurvePrivateKey, Expected],
) -> None:
    key, expected = written
    report = _kept(key, expected)
    partial = DurabilityReport(1, 0, report.certificates[:1], report.signature)
    missing = missing_from(partial, expected, CHALLENGE)
    assert missing == ["the public key", "1 CA certificate(s)"]
    refusal = KeyNotKept(missing, "The file was kept.")
    assert refusal.message.startswith("The token did not keep the key: it may be full or failing")
    assert "the public key, 1 CA certificate(s)" in refusal.message
    assert refusal.message.endswith("The file was kept.")
