"""Certificate objects on the token, stored under the key pair's CKA_ID."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from pkcs11 import Attribute, CertificateType, ObjectClass

from csos_desktop.token.library import translated_errors
from csos_desktop.token.session import TokenSession


@dataclass(frozen=True)
class TokenCertificate:
    """A certificate object: its CKA_ID, label and DER value."""

    key_id: bytes
    label: str
    der: bytes

    @property
    def certificate(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.der)

    @property
    def is_ca(self) -> bool:
        return bool(self.certificate.ca)


def write_certificate(ts: TokenSession, der: bytes, key_id: bytes, label: str) -> None:
    """Store an X.509 certificate on the token (read-write, logged-in session)."""
    cert = asn1_x509.Certificate.load(der)
    with translated_errors("writing the certificate to the token"):
        ts.session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.ID: key_id,
                Attribute.LABEL: label,
                Attribute.SUBJECT: cert.subject.dump(),
                Attribute.ISSUER: cert.issuer.dump(),
                Attribute.SERIAL_NUMBER: cert["tbs_certificate"]["serial_number"].dump(),
                Attribute.VALUE: der,
            }
        )


def read_certificates(ts: TokenSession) -> list[TokenCertificate]:
    """Every X.509 certificate object on the token."""
    out: list[TokenCertificate] = []
    with translated_errors("reading certificates from the token"):
        for obj in ts.session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
            try:
                key_id = bytes(obj[Attribute.ID])
            except Exception:
                key_id = b""
            out.append(
                TokenCertificate(key_id, str(obj[Attribute.LABEL]), bytes(obj[Attribute.VALUE]))
            )
    return out
