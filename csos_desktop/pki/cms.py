"""CMS SignedData (RFC 5652): detached, SHA-256, signed on the token.

Signed attributes: content-type, message-digest, signing-time and ESS
signing-certificate-v2 (RFC 5035); signer certificate and chain included.
Everything that does not change between orders (certificates, signer
identifier, algorithm identifiers, the signing-certificate-v2 attribute) is
encoded once per signer; each signature only hashes the document, encodes
three small attributes and concatenates. That keeps our cost per order well
under a millisecond beyond the token's own signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509

from csos_desktop.pki.der import length, octet_string, sequence, set_of, tlv

OID_DATA = "1.2.840.113549.1.7.1"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
OID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_RSA = "1.2.840.113549.1.1.1"
OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"


class DigestSigner(Protocol):
    """Anything that signs a SHA-256 digest with the certificate's key (token or software)."""

    def sign_digest(self, digest: bytes) -> bytes: ...


def _oid(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).dump())


def _attribute(oid: str, value_der: bytes) -> bytes:
    return sequence(_oid(oid), set_of(value_der))


def _signing_time(when: datetime) -> bytes:
    # RFC 5652 11.3: UTCTime for 1950-2049, GeneralizedTime otherwise.
    when = when.astimezone(UTC).replace(microsecond=0)
    if 1950 <= when.year <= 2049:
        return tlv(0x17, when.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return tlv(0x18, when.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


class CmsSigner:
    """Produces detached CMS SignedData for one certificate, many times."""

    def __init__(
        self,
        signer: DigestSigner,
        certificate_der: bytes,
        chain_der: Sequence[bytes] = (),
    ) -> None:
        cert = asn1_x509.Certificate.load(certificate_der)
        self._signer = signer
        self.certificate = cert
        algo = cert.public_key.algorithm
        if algo == "rsa":
            sig_alg = algos.SignedDigestAlgorithm(
                {"algorithm": "rsassa_pkcs1v15", "parameters": None}
            )
        elif algo == "ec":
            sig_alg = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
        else:
            raise ValueError(f"unsupported key algorithm {algo}")
        digest_alg = bytes(algos.DigestAlgorithm({"algorithm": "sha256"}).dump())
        sid = bytes(
            cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value=cms.IssuerAndSerialNumber(
                    {"issuer": cert.issuer, "serial_number": cert.serial_number}
                ),
            ).dump()
        )
        ess = tsp.SigningCertificateV2(
            {
                "certs": [
                    {
                        "cert_hash": hashlib.sha256(certificate_der).digest(),
                        "issuer_serial": {
                            "issuer": [
                                asn1_x509.GeneralName(name="directory_name", value=cert.issuer)
                            ],
                            "serial_number": cert.serial_number,
                        },
                    }
                ]
            }
        )
        # Attributes that never change for this signer, pre-encoded.
        self._static_attrs = (
            _attribute(OID_CONTENT_TYPE, _oid(OID_DATA)),
            _attribute(OID_SIGNING_CERTIFICATE_V2, bytes(ess.dump())),
        )
        version1 = tlv(0x02, b"\x01")
        self._signer_info_head = version1 + sid + digest_alg
        self._signer_info_sigalg = bytes(sig_alg.dump())
        certs = [certificate_der, *[c for c in chain_der if c != certificate_der]]
        self._signed_data_head = (
            version1
            + set_of(digest_alg)
            + sequence(_oid(OID_DATA))  # encapContentInfo without eContent: detached
            + tlv(0xA0, b"".join(sorted(certs)))  # [0] IMPLICIT CertificateSet
        )
        self._content_info_oid = _oid(OID_SIGNED_DATA)

    def signed_attributes(self, content: bytes, signing_time: datetime) -> bytes:
        """DER of the SET OF signed attributes (the bytes the token signs)."""
        return set_of(
            *self._static_attrs,
            _attribute(OID_MESSAGE_DIGEST, octet_string(hashlib.sha256(content).digest())),
            _attribute(OID_SIGNING_TIME, _signing_time(signing_time)),
        )

    def sign(self, content: bytes, signing_time: datetime) -> bytes:
        """Detached CMS SignedData over *content*, DER-encoded."""
        attrs = self.signed_attributes(content, signing_time)
        signature = self._signer.sign_digest(hashlib.sha256(attrs).digest())
        # In SignerInfo the attributes carry [0] IMPLICIT instead of the SET tag.
        signer_info = sequence(
            self._signer_info_head,
            b"\xa0" + attrs[1:],
            self._signer_info_sigalg,
            octet_string(signature),
        )
        signed_data = sequence(self._signed_data_head, set_of(signer_info))
        explicit = b"\xa0" + length(len(signed_data)) + signed_data
        return sequence(self._content_info_oid, explicit)
