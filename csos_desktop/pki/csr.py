"""PKCS#10 certificate requests signed by a key on the token.

The CSR proves possession of the private key without the key leaving the
token: the token signs the DER of CertificationRequestInfo.
"""

from __future__ import annotations

import hashlib

from asn1crypto import algos, csr, keys
from asn1crypto import x509 as asn1_x509

from csos_desktop.pki.cms import DigestSigner


def build_csr(
    signer: DigestSigner,
    public_key_info: bytes,
    subject: dict[str, str],
) -> bytes:
    """DER PKCS#10 request for *subject* (asn1crypto name keys, e.g. common_name)."""
    spki = keys.PublicKeyInfo.load(public_key_info)
    info = csr.CertificationRequestInfo(
        {
            "version": "v1",
            "subject": asn1_x509.Name.build(subject),
            "subject_pk_info": spki,
            "attributes": [],
        }
    )
    signature = signer.sign_digest(hashlib.sha256(info.dump()).digest())
    if spki.algorithm == "rsa":
        alg = algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa", "parameters": None})
    else:
        alg = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    request = csr.CertificationRequest(
        {"certification_request_info": info, "signature_algorithm": alg, "signature": signature}
    )
    return bytes(request.dump())
