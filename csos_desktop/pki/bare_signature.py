"""A bare signature (no CMS around it) checked against the public key of a certificate.

SCRIPT's DigitalSignature carries SignatureValue = RSA PKCS#1 v1.5 or ECDSA with SHA-256
over the signed bytes, as ``openssl dgst -sha256 -verify`` checks it.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def bare_signature_valid(certificate_der: bytes, data: bytes, signature: bytes) -> bool:
    """True when *signature* over *data* verifies with the certificate's key."""
    try:
        key = x509.load_der_x509_certificate(certificate_der).public_key()
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True
