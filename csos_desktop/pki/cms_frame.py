"""Where a detached SignedData's per-document bytes sit: its signed attributes and its
signature. Everything else (versions, algorithms, certificates, the signer's identifier)
is the same on every document a signer signs with one certificate.

Only definite-length DER with one-byte tags is split; anything else gives None and the
caller parses the whole structure as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class _Tlv(NamedTuple):  # a tuple: built some thirty times per signature
    tag: int
    start: int
    body: int
    end: int


def _tlv(data: bytes, pos: int, limit: int) -> _Tlv | None:
    if pos + 2 > limit:
        return None
    tag, first = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        return None  # multi-byte tag: not in a CSOS signature
    if first < 0x80:
        length, body = first, pos + 2
    elif 0x81 <= first <= 0x84:
        count = first & 0x7F
        if pos + 2 + count > limit:
            return None
        length = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
        body = pos + 2 + count
    else:
        return None  # indefinite or over-long length
    end = body + length
    # tuple.__new__ skips the generated __new__'s Python frame (thirty per signature).
    return tuple.__new__(_Tlv, (tag, pos, body, end)) if end <= limit else None


def _children(data: bytes, outer: _Tlv) -> list[_Tlv] | None:
    out, pos = [], outer.body
    while pos < outer.end:
        child = _tlv(data, pos, outer.end)
        if child is None:
            return None
        out.append(child)
        pos = child.end
    return out


def _only(data: bytes, outer: _Tlv, tag: int) -> _Tlv | None:
    kids = _children(data, outer)
    return kids[0] if kids is not None and len(kids) == 1 and kids[0].tag == tag else None


@dataclass(frozen=True)
class Split:
    """*key*: the signature's bytes without its signed attributes and signature value;
    *attributes*: the signed attributes' TLV ([0] IMPLICIT SET OF); *signature*: the
    signature value's TLV (OCTET STRING)."""

    key: bytes
    attributes: bytes
    signature: bytes


def split_signed_data(blob: bytes) -> Split | None:
    """ContentInfo{OID, [0]{SignedData{..., SET{SignerInfo{version, sid, digestAlgorithm,
    [0] signedAttrs, signatureAlgorithm, signature, ...}}}}}, or None."""
    info = _tlv(blob, 0, len(blob))
    if info is None or info.tag != 0x30 or info.end != len(blob):
        return None
    kids = _children(blob, info)
    if kids is None or len(kids) != 2 or kids[0].tag != 0x06 or kids[1].tag != 0xA0:
        return None
    signed_data = _only(blob, kids[1], 0x30)
    fields = _children(blob, signed_data) if signed_data is not None else None
    if not fields or fields[-1].tag != 0x31:
        return None
    signer_info = _only(blob, fields[-1], 0x30)
    parts = _children(blob, signer_info) if signer_info is not None else None
    if parts is None or len(parts) < 6 or parts[3].tag != 0xA0 or parts[5].tag != 0x04:
        return None
    attrs, sig = parts[3], parts[5]
    # Where the cuts are is part of the key: equal keys mean equal bytes around them.
    cuts = attrs.start.to_bytes(4, "big") + (sig.start - attrs.end).to_bytes(4, "big")
    return Split(
        cuts + blob[: attrs.start] + blob[attrs.end : sig.start] + blob[sig.end :],
        blob[attrs.start : attrs.end],
        blob[sig.start : sig.end],
    )


_CONTENT_TYPE = bytes.fromhex("06092a864886f70d010903")
_MESSAGE_DIGEST = bytes.fromhex("06092a864886f70d010904")
_SIGNING_TIME = bytes.fromhex("06092a864886f70d010905")
_SIGNING_CERTIFICATE_V2 = bytes.fromhex("060b2a864886f70d010910022f")
#: SET { OID id-data }: the content-type value of every detached CSOS signature.
_DATA = bytes.fromhex("310b06092a864886f70d010701")


@dataclass(frozen=True)
class PlainAttributes:
    """The signed attributes of a CSOS signature, read from their TLVs: the digest, the
    signing time's TLV (UTCTime or GeneralizedTime) and the signing-certificate-v2
    values' SET, as received."""

    digest: bytes
    time: bytes | None
    ess: bytes | None


def plain_attributes(attributes: bytes) -> PlainAttributes | None:
    """Exactly content-type (data), message-digest, signing-time and (optionally)
    signing-certificate-v2, once each and single-valued; anything else is None and the
    general reader decides."""
    outer = _tlv(attributes, 0, len(attributes))
    if outer is None or outer.end != len(attributes):
        return None
    found: dict[bytes, _Tlv] = {}
    for attribute in _children(attributes, outer) or ():
        parts = _children(attributes, attribute) if attribute.tag == 0x30 else None
        if parts is None or len(parts) != 2 or parts[0].tag != 0x06 or parts[1].tag != 0x31:
            return None
        oid = attributes[parts[0].start : parts[0].end]
        if oid in found or oid not in (
            _CONTENT_TYPE,
            _MESSAGE_DIGEST,
            _SIGNING_TIME,
            _SIGNING_CERTIFICATE_V2,
        ):
            return None
        found[oid] = parts[1]
    if _CONTENT_TYPE not in found or _MESSAGE_DIGEST not in found:
        return None
    ct = found[_CONTENT_TYPE]
    if attributes[ct.start : ct.end] != _DATA:
        return None
    digest = _only(attributes, found[_MESSAGE_DIGEST], 0x04)
    if digest is None:
        return None
    time: bytes | None = None
    if _SIGNING_TIME in found:
        values = _children(attributes, found[_SIGNING_TIME])
        if values is None or len(values) != 1 or values[0].tag not in (0x17, 0x18):
            return None
        time = attributes[values[0].start : values[0].end]
    ess: bytes | None = None
    if _SIGNING_CERTIFICATE_V2 in found:
        one = _children(attributes, found[_SIGNING_CERTIFICATE_V2])
        if one is None or len(one) != 1:
            return None
        ess_set = found[_SIGNING_CERTIFICATE_V2]
        ess = attributes[ess_set.start : ess_set.end]
    return PlainAttributes(attributes[digest.body : digest.end], time, ess)
