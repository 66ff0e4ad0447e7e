"""AS2 parties for the sandbox (demo, benchmarks): an RSA key and a self-signed certificate,
as AS2 trading partners exchange them, and the files `as2_key` / `as2_certificate` name."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from csos_desktop.pki.as2_message import As2Party


def self_signed_party(name: str, now: datetime, *, days: int = 30) -> As2Party:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return As2Party(key, cert)


def write_party(directory: Path, name: str, party: As2Party) -> tuple[Path, Path]:
    """(key file, certificate file) of *party* in *directory*; only its owner reads the key."""
    directory.mkdir(parents=True, exist_ok=True)
    key, cert = directory / f"{name}-key.pem", directory / f"{name}.pem"
    key.touch(mode=0o600)
    key.write_bytes(
        party.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert.write_bytes(party.certificate.public_bytes(serialization.Encoding.PEM))
    return key, cert
