"""Reading a detached CMS SignedData and checking its signature cryptographically.

Only the structure and the signature are checked here; whether the signer
is trusted is :mod:`csos_desktop.pki.chain`'s job.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_der_public_key

from csos_desktop.pki.cms_frame import Split, plain_attributes, split_signed_data


class MalformedSignature(ValueError):
    """The CMS blob is not a usable detached SHA-256 SignedData."""


#: What asn1crypto raises on bytes it cannot parse. It parses lazily, so these can come
#: from any access to a certificate's fields, long after it "loaded".
PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


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


@dataclass(frozen=True)
class _Frame:
    """What the per-signer part of an accepted signature gave."""

    signer: asn1_x509.Certificate
    others: tuple[asn1_x509.Certificate, ...]
    algorithm: str


_FRAMES: OrderedDict[bytes, _Frame] = OrderedDict()
_FRAMES_LOCK = threading.Lock()
_FRAMES_HELD = 1024


def parse_signed_data(blob: bytes) -> ParsedSignature:
    """Parse DER CMS; raise MalformedSignature with a readable reason.

    A supplier reads many signatures from few signers, identical but for the signed
    attributes and the signature value: the rest, once accepted by the whole parse, is
    recognised by its bytes, and only those two parts are read again. Any doubt on that
    path (an error included) is settled by the whole parse, so both give one answer.
    """
    split = split_signed_data(blob)
    if split is not None:
        with _FRAMES_LOCK:
            frame = _FRAMES.get(split.key)
        if frame is not None:
            try:
                return _with_frame(frame, split)
            except (MalformedSignature, *PARSE_ERRORS):
                pass  # the whole parse below gives the reason
    parsed = _parse_whole(blob)
    if split is not None:
        with _FRAMES_LOCK:
            _FRAMES[split.key] = _Frame(
                parsed.signer, parsed.other_certificates, parsed.signature_algorithm
            )
            while len(_FRAMES) > _FRAMES_HELD:
                _FRAMES.popitem(last=False)
    return parsed


def _with_frame(frame: _Frame, split: Split) -> ParsedSignature:
    plain = plain_attributes(split.attributes)
    if plain is not None:
        digest = plain.digest
        signing_time = _time(plain.time) if plain.time is not None else None
        ess = plain.ess
    else:
        attrs = cms.CMSAttributes.load(b"\x31" + split.attributes[1:], strict=True)
        values, ess = _attribute_values(attrs)
        digest, signing_time = _digest_and_time(values)
    _signing_certificate_names(ess, frame.signer)
    return ParsedSignature(
        signer=frame.signer,
        other_certificates=frame.others,
        message_digest=digest,
        signing_time=signing_time,
        signed_attrs_der=b"\x31" + split.attributes[1:],
        signature=bytes(cms.OctetString.load(split.signature, strict=True).native),
        signature_algorithm=frame.algorithm,
    )


def _time(tlv: bytes) -> datetime:
    value = (cms.UTCTime if tlv[0] == 0x17 else cms.GeneralizedTime).load(tlv, strict=True).native
    if not isinstance(value, datetime):
        raise MalformedSignature("the signed signing-time is not a time")
    return value


def _digest_and_time(values: dict[str, cms.SetOfAny]) -> tuple[bytes, datetime | None]:
    """The message digest and signing time, after the checks every signature gets."""
    if "message_digest" not in values:
        raise MalformedSignature("the signature has no message-digest attribute")
    if values.get("content_type") is None or values["content_type"][0].native != "data":
        raise MalformedSignature("the signed content-type is not 'data'")
    signing_time = values["signing_time"][0].native if "signing_time" in values else None
    if signing_time is not None and not isinstance(signing_time, datetime):
        raise MalformedSignature("the signed signing-time is not a time")
    return bytes(values["message_digest"][0].native), signing_time


def _signing_certificate_names(ess: bytes | None, signer: asn1_x509.Certificate) -> None:
    if ess is not None:
        # The same attribute value and signer on every order of a signer: checked once.
        # Keyed by the certificate's hash, which asn1crypto keeps on the object: dumping a
        # certificate whose fields were read walks all of them.
        _remembered(_ESS_CHECKED, (ess, signer.sha256), lambda: _check_ess(ess, signer))


def _parse_whole(blob: bytes) -> ParsedSignature:
    try:
        info = cms.ContentInfo.load(blob, strict=True)
        if info["content_type"].native != "signed_data":
            raise MalformedSignature("the file is CMS but not SignedData")
        sd = info["content"]
        # The unsigned frame must be well-formed too: asn1crypto parses lazily, and a
        # SignedData whose version swallowed the digestAlgorithms SET still let the
        # signer's attributes verify (found by `make fuzz` on archive manifests).
        if sd["version"].native not in ("v1", "v3"):
            raise MalformedSignature("the SignedData version is not 1 or 3 (RFC 5652 5.1)")
        if "sha256" not in {a["algorithm"].native for a in sd["digest_algorithms"]}:
            raise MalformedSignature("the SignedData does not list SHA-256 as a digest algorithm")
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
        # The bytes as received, taken before any value is read: reading some values
        # (algorithm parameters) marks asn1crypto's tree changed, and a dump after that
        # re-encodes the whole set (milliseconds, and not necessarily the bytes signed).
        signed_attrs_der = b"\x31" + bytes(attrs.dump())[1:]
        values, ess = _attribute_values(attrs)
        digest, signing_time = _digest_and_time(values)
        cert_set = bytes(sd["certificates"].dump())  # empty when the field is absent
        certs = list(_certificates(cert_set)) if cert_set else []
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
        _signing_certificate_names(ess, signer)
        return ParsedSignature(
            signer=signer,
            other_certificates=tuple(c for c in certs if c is not signer),
            message_digest=digest,
            signing_time=signing_time,
            signed_attrs_der=signed_attrs_der,
            signature=bytes(si["signature"].native),
            signature_algorithm=str(si["signature_algorithm"].signature_algo),
        )
    except MalformedSignature:
        raise
    except PARSE_ERRORS as exc:
        raise MalformedSignature(
            f"the signature file is not valid CMS ({short_reason(exc)})"
        ) from exc


#: Attributes RFC 5652 11.1-11.3 and RFC 5035 5.4 allow exactly once, with exactly one value.
_SINGLE_VALUED = ("content_type", "message_digest", "signing_time", "signing_certificate_v2")


def _attribute_values(attrs: cms.CMSAttributes) -> tuple[dict[str, cms.SetOfAny], bytes | None]:
    """Signed attributes by type, and the signing-certificate-v2 values' bytes as
    received (taken before anything in them is read, when dumping them costs nothing);
    a repeated or multi-valued attribute is refused.

    A second message-digest or signing-time would let two readers of the same
    signature disagree about what was signed and when.
    """
    values: dict[str, cms.SetOfAny] = {}
    ess: bytes | None = None
    for a in attrs:
        kind = a["type"].native
        if kind in values:
            raise MalformedSignature(f"the signed attribute {kind} appears more than once")
        values[kind] = a["values"]
        if kind == "signing_certificate_v2":
            ess = bytes(values[kind].dump())
        if kind in _SINGLE_VALUED and len(a["values"]) != 1:
            raise MalformedSignature(
                f"the signed attribute {kind} has {len(a['values'])} values; exactly one is allowed"
            )
    return values, ess


def _check_signing_certificate(
    value: tsp.SigningCertificateV2, signer: asn1_x509.Certificate
) -> None:
    """RFC 5035: the first ESSCertIDv2 names the signer certificate (hash, and issuer/serial)."""
    certs = value["certs"]
    if len(certs) == 0:
        raise MalformedSignature("the signing-certificate-v2 attribute names no certificate")
    first = certs[0]
    algorithm = first["hash_algorithm"]["algorithm"].native
    if algorithm not in hashlib.algorithms_available:
        raise MalformedSignature(
            f"the signing-certificate-v2 attribute uses an unknown hash ({algorithm})"
        )
    if hashlib.new(algorithm, signer.dump()).digest() != bytes(first["cert_hash"].native):
        raise MalformedSignature(
            "the signing-certificate-v2 attribute names another certificate than the one "
            "included as the signer's"
        )
    issuer_serial = first["issuer_serial"]
    if issuer_serial.native is not None and (
        issuer_serial["serial_number"].native != signer.serial_number
    ):
        raise MalformedSignature(
            "the signing-certificate-v2 attribute names another serial number than the signer's"
        )


def short_reason(exc: BaseException) -> str:
    """The first line of an exception, cut short: parser messages can quote whole inputs."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"


@functools.lru_cache(maxsize=1024)
def _certificates(set_der: bytes) -> tuple[asn1_x509.Certificate, ...]:
    """The certificates of a CertificateSet (its DER, [0] tag and all): a signer's orders
    all carry the same set, parsed once."""
    parsed = cms.CertificateSet.load(b"\x31" + set_der[1:], strict=True)
    return tuple(
        certificate_from_der(bytes(c.chosen.dump())) for c in parsed if c.name == "certificate"
    )


_HELD = 1024
_ESS_CHECKED: OrderedDict[tuple[bytes, bytes], object] = OrderedDict()
_KEYS: OrderedDict[bytes, object] = OrderedDict()
_MEMO_LOCK = threading.Lock()


def _remembered(store: OrderedDict[Any, object], key: object, make: Callable[[], object]) -> Any:
    """*make()* once per *key* (a refusal raises and is not kept), the last 1024 kept."""
    with _MEMO_LOCK:
        if key in store:
            return store[key]
    value = make()
    with _MEMO_LOCK:
        store[key] = value
        while len(store) > _HELD:
            store.popitem(last=False)
    return value


def _check_ess(values_der: bytes, signer: asn1_x509.Certificate) -> bool:
    values = cms.SetOfAny.load(values_der, strict=True)
    _check_signing_certificate(tsp.SigningCertificateV2.load(values[0].dump(), strict=True), signer)
    return True


@functools.lru_cache(maxsize=1024)
def certificate_from_der(der: bytes) -> asn1_x509.Certificate:
    """One parsed object per certificate: a signer's orders all carry the same bytes, and
    asn1crypto keeps what it has parsed (names, extensions) on the object."""
    return asn1_x509.Certificate.load(der)


def _public_key(signer: asn1_x509.Certificate) -> PublicKeyTypes:
    key: PublicKeyTypes = _remembered(
        _KEYS, signer.sha256, lambda: load_der_public_key(bytes(signer.public_key.dump()))
    )
    return key


def digest_matches(parsed: ParsedSignature, content: bytes) -> bool:
    """True when the signed message-digest equals SHA-256 of *content*."""
    return parsed.message_digest == hashlib.sha256(content).digest()


def signature_valid(parsed: ParsedSignature) -> bool:
    """Check the signature over the signed attributes with the signer's public key."""
    try:
        key = _public_key(parsed.signer)
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
