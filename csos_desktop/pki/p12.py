"""Reading a PKCS#12 (.p12/.pfx) file exported from a browser enrolment, before any token use.

Everything that can be refused without the token is refused here (wrong
password, no key, key and certificate that do not belong together, a key the
app cannot sign with, a certificate outside the CSOS profile), so a refusal
never leaves anything on the token. No I/O: the caller reads the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, pkcs12

from csos_desktop.domain.errors import InputError
from csos_desktop.pki.profile import CsosCertificateInfo, NotACsosCertificate, read_csos_profile

ImportableKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class P12Problem(Enum):
    """Why a file is refused (each has its own message)."""

    WRONG_PASSWORD = "wrong-password"
    NO_KEY = "no-key"
    NO_CERTIFICATE = "no-certificate"
    UNSUPPORTED_KEY = "unsupported-key"
    KEY_MISMATCH = "key-mismatch"
    NOT_CSOS = "not-csos"


class P12Refused(InputError):
    """The file cannot be moved onto a token; nothing was written."""

    def __init__(self, problem: P12Problem, message: str) -> None:
        self.problem = problem
        super().__init__(f"{message} Nothing was written to the token.")


@dataclass(frozen=True)
class P12Contents:
    """The key, its certificate (DER) and the CA certificates the file carries."""

    key: ImportableKey
    certificate_der: bytes
    ca_certificates_der: tuple[bytes, ...]
    info: CsosCertificateInfo


def read_p12(data: bytes, password: str, name: str = "the file") -> P12Contents:
    """Open and check *data*; raise P12Refused naming what is wrong."""
    key, cert, extra = _load(data, password, name)
    if cert is None:
        # Files from tools that set no localKeyID: the one end-entity certificate is the key's.
        leaves = [c for c in extra if not _is_ca(c)]
        if len(leaves) == 1:
            cert = leaves[0]
            extra = [c for c in extra if c is not cert]
    if key is None:
        raise P12Refused(P12Problem.NO_KEY, f"{name} holds no private key.")
    if cert is None:
        raise P12Refused(P12Problem.NO_CERTIFICATE, f"{name} holds no certificate for its key.")
    if not _supported(key):
        raise P12Refused(
            P12Problem.UNSUPPORTED_KEY,
            f"The key in {name} is not RSA (2048 bits or more) or ECDSA P-256, the keys a "
            "CSOS certificate uses.",
        )
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    if _spki(key.public_key()) != _spki(cert.public_key()):
        raise P12Refused(
            P12Problem.KEY_MISMATCH,
            f"The private key in {name} does not belong to its certificate "
            f"({cert.subject.rfc4514_string()}); the file is damaged or was put together "
            "wrongly. Export it again from the browser it was issued to.",
        )
    der = cert.public_bytes(Encoding.DER)
    try:
        info = read_csos_profile(asn1_x509.Certificate.load(der))
    except NotACsosCertificate as exc:
        raise P12Refused(
            P12Problem.NOT_CSOS,
            f"The certificate in {name} ({cert.subject.rfc4514_string()}) is not a CSOS "
            f"certificate: {exc}. Only a certificate from the DEA's CSOS certificate authority "
            "can sign orders.",
        ) from None
    cas = tuple(c.public_bytes(Encoding.DER) for c in extra)
    return P12Contents(key, der, cas, info)


def _load(
    data: bytes, password: str, name: str
) -> tuple[object | None, x509.Certificate | None, list[x509.Certificate]]:
    # An empty password may have been exported as "no password" or as "": try both.
    tries: list[bytes | None] = [password.encode("utf-8")] + ([None] if not password else [])
    for attempt in tries:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, attempt)
        except ValueError:
            continue
        return key, cert, list(extra)
    raise P12Refused(
        P12Problem.WRONG_PASSWORD,
        f"{name} could not be opened with this password (or is not a .p12/.pfx file). "
        "Check the password chosen when the certificate was exported.",
    )


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _supported(key: object) -> bool:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.key_size >= 2048
    return isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)


def _spki(public: object) -> bytes:
    assert isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
    return public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def signature_matches(certificate_der: bytes, digest: bytes, signature: bytes) -> bool:
    """Does *signature* (PKCS#1 v1.5 or DER ECDSA) over a SHA-256 *digest* verify?"""
    public = x509.load_der_x509_certificate(certificate_der).public_key()
    prehashed = utils.Prehashed(hashes.SHA256())
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, digest, padding.PKCS1v15(), prehashed)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, digest, ec.ECDSA(prehashed))
        else:
            return False
    except InvalidSignature:
        return False
    return True
