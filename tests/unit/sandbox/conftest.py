"""Shared fixtures: subscriber keys and CSRs made with `cryptography`, a fresh test CA."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from csos_desktop.sandbox.ca import TestCa

SubscriberKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

PHARMACY = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Main Street Pharmacy"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Jane Pharmacist"),
    ]
)
DEA = "AB1234563"


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(params=["rsa", "ec"])
def subscriber_key(
    request: pytest.FixtureRequest, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> SubscriberKey:
    return rsa_key if request.param == "rsa" else ec_key


def make_csr(key: SubscriberKey, subject: x509.Name = PHARMACY) -> bytes:
    """A PEM PKCS#10 request signed by `key`."""
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def write_pem(path: Path, *objs: x509.Certificate | x509.CertificateRevocationList) -> Path:
    path.write_bytes(b"".join(o.public_bytes(serialization.Encoding.PEM) for o in objs))
    return path


@pytest.fixture
def ca(tmp_path: Path) -> TestCa:
    return TestCa.init(tmp_path / "ca")
