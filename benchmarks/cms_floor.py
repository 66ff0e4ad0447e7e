"""The floor of verifying one detached CMS signature: what no verifier can skip.

The message digest of the document compared with the signed attribute, and one signature
check over the DER of the signed attributes with the signer's public key (``cryptography``).
No chain, no revocation, no profile: a fair in-process baseline for a full verification,
where one process per order (``openssl cms -verify``) mostly measures process start-up.
"""

from __future__ import annotations

import hashlib

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def signature_holds(document: bytes, signature: bytes) -> bool:
    """True when *signature* (DER SignedData) is a valid signature of *document*."""
    signed = cms.ContentInfo.load(signature)["content"]
    info = signed["signer_infos"][0]
    attrs = info["signed_attrs"]
    digest = next(a["values"][0].native for a in attrs if a["type"].native == "message_digest")
    if digest != hashlib.sha256(document).digest():
        return False
    serial = info["sid"].chosen["serial_number"].native
    cert = next(c.chosen for c in signed["certificates"] if c.chosen.serial_number == serial)
    key = x509.load_der_x509_certificate(cert.dump()).public_key()
    # The signature is over the attributes as a SET OF (tag 0x31), not the [0] IMPLICIT tag.
    data = b"\x31" + attrs.dump()[1:]
    raw = info["signature"].native
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True
