"""The few DER encodings the CMS signer assembles by hand on its hot path."""

from __future__ import annotations


def length(n: int) -> bytes:
    """DER definite length octets."""
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, content: bytes) -> bytes:
    """One tag-length-value (single-byte tags only)."""
    return bytes((tag,)) + length(len(content)) + content


def sequence(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def set_of(*elements: bytes) -> bytes:
    """DER SET OF: elements sorted by their encodings (X.690 11.6)."""
    return tlv(0x31, b"".join(sorted(elements)))


def octet_string(data: bytes) -> bytes:
    return tlv(0x04, data)
