"""Reading a detached CMS SignedData and checking its signature cryptographically.

Only the structure and the signature are checked here; whether the signer
is trusted is :mod:`csos_desktop.pki.chain`'s job.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_der_public_key


class MalformedSignature(ValueError):
    """The CMS blob is not a usable detached SHA-256 SignedData."""


@dataclass(frozen=True)
class ParsedSignature:
    """What a detached SignedData says about its signer."""

    signer: asn1_x509.Certificate
    other_certificates: tuple[asn1_x509.Certificate, ...]
    message_digest: bytes
    signing_time: datetime | None
    signed_attrs_der: bytes
    signature: bytes
    signature_algorithm: str


def parse_signed_data(blob: bytes) -> ParsedSignature:
    """Parse DER CMS; raise MalformedSignature with a readable reason."""
    try:
        info = cms.ContentInfo.load(blob, strict=True)
        if info["content_type"].native != "signed_data":
            raise MalformedSignature("the file is CMS but not SignedData")
        sd = info["content"]
        if sd["encap_content_info"]["content"].native is not None:
            raise MalformedSignature("expected a detached signature; this one embeds content")
        signer_infos = list(sd["signer_infos"])
        if len(signer_infos) != 1:
            raise MalformedSignature(f"expected one signer, found {len(signer_infos)}")
        si = signer_infos[0]
        if si["digest_algorithm"]["algorithm"].native != "sha256":
            raise MalformedSignature("the signature does not use SHA-256")
        attrs = si["signed_attrs"]
        if not attrs:
            raise MalformedSignature("the signature has no signed attributes")
        values = {a["type"].native: a["values"] for a in attrs}
        if "message_digest" not in values:
            raise MalformedSignature("the signature has no message-digest attribute")
        if values.get("content_type") is None or values["content_type"][0].native != "data":
            raise MalformedSignature("the signed content-type is not 'data'")
        signing_time = values["signing_time"][0].native if "signing_time" in values else None
        certs = [
            certificate_from_der(bytes(c.chosen.dump()))
            for c in sd["certificates"]
            if c.name == "certificate"
        ]
        sid = si["sid"]
        if sid.name != "issuer_and_serial_number":
            raise MalformedSignature("the signer is not identified by issuer and serial number")
        ias = sid.chosen
        serial, issuer = ias["serial_number"].native, ias["issuer"]
        same_serial = [c for c in certs if c.serial_number == serial]
        # Byte-equal names first: asn1crypto's RFC 4518 comparison costs milliseconds and
        # is only needed when a signer re-encoded the issuer name.
        signer = next((c for c in same_serial if c.issuer.dump() == issuer.dump()), None) or next(
            (c for c in same_serial if c.issuer == issuer), None
        )
        if signer is None:
            raise MalformedSignature("the signer's certificate is not included in the signature")
        signed_attrs_der = b"\x31" + bytes(attrs.dump())[1:]
        return ParsedSignature(
            signer=signer,
            other_certificates=tuple(c for c in certs if c is not signer),
            message_digest=bytes(values["message_digest"][0].native),
            signing_time=signing_time,
            signed_attrs_der=signed_attrs_der,
            signature=bytes(si["signature"].native),
            signature_algorithm=str(si["signature_algorithm"].signature_algo),
        )
    except MalformedSignature:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise MalformedSignature(f"the signature file is not valid CMS ({exc})") from exc


@functools.lru_cache(maxsize=1024)
def certificate_from_der(der: bytes) -> asn1_x509.Certificate:
    """One parsed object per certificate: a signer's orders all carry the same bytes, and
    asn1crypto keeps what it has parsed (names, extensions) on the object."""
    return asn1_x509.Certificate.load(der)


@functools.lru_cache(maxsize=1024)
def _public_key(spki_der: bytes) -> PublicKeyTypes:
    return load_der_public_key(spki_der)


def digest_matches(parsed: ParsedSignature, content: bytes) -> bool:
    """True when the signed message-digest equals SHA-256 of *content*."""
    return parsed.message_digest == hashlib.sha256(content).digest()


def signature_valid(parsed: ParsedSignature) -> bool:
    """Check the signature over the signed attributes with the signer's public key."""
    try:
        key = _public_key(bytes(parsed.signer.public_key.dump()))
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(
                parsed.signature, parsed.signed_attrs_der, padding.PKCS1v15(), hashes.SHA256()
            )
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(parsed.signature, parsed.signed_attrs_der, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True
