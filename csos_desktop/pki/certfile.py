"""Certificates from a file's bytes: one or many PEM certificates, or one DER certificate."""

from __future__ import annotations

from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.errors import InputError


class CertificateFileInvalid(ValueError):
    """The bytes hold no readable certificate."""


def certificates_from_bytes(data: bytes, where: str) -> list[bytes]:
    """DER certificates in *data*; *where* names the file in the message."""
    try:
        if pem.detect(data):
            ders = [d for kind, _, d in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"]
        else:
            ders = [data]
        for der in ders:
            # .native parses every field: asn1crypto is lazy, and a certificate that only
            # parses at the top would otherwise fail later, deep inside path validation.
            asn1_x509.Certificate.load(der, strict=True).native  # noqa: B018
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CertificateFileInvalid(
            f"{where} does not contain valid certificates ({why[:200]})."
        ) from exc
    if not ders:
        raise CertificateFileInvalid(f"{where} contains no certificate.")
    return ders


def load_certificates(path: Path) -> list[bytes]:
    """DER certificates from a PEM bundle or a single DER file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}") from exc
    try:
        return certificates_from_bytes(data, str(path))
    except CertificateFileInvalid as exc:
        raise InputError(str(exc)) from exc
