"""MIME entities as AS2 partners write them (pure, no I/O).

Other AS2 software (OpenSSL's S/MIME, Mendelson, OpenAS2, pyas2lib) varies in what
RFC 2045 allows: header names in any case, folded header lines, a base64 or
quoted-printable body, bare LF line ends, a preamble before the first boundary. These
helpers read all of that; what was signed is always taken as the bytes that came (the
MIC and the signature are over them), only a body is decoded for use.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re

CRLF = b"\r\n"
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"]+)"|([^";\s]+))', re.IGNORECASE)


class MimeError(ValueError):
    """A MIME entity that cannot be read (the message says what is missing)."""


def split_head(entity: bytes) -> tuple[bytes, bytes]:
    """(header block, body) at the first blank line (CRLF CRLF, or LF LF)."""
    crlf = entity.find(CRLF + CRLF)
    lf = entity.find(b"\n\n")
    if crlf < 0 and lf < 0:
        raise MimeError("a MIME part has no blank line after its headers")
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return entity[:crlf], entity[crlf + 4 :]
    return entity[:lf], entity[lf + 2 :]


def headers(head: bytes) -> dict[str, str]:
    """Header names lower-cased, folded lines joined (RFC 5322 2.2.3)."""
    out: dict[str, str] = {}
    name = ""
    for raw in head.replace(CRLF, b"\n").split(b"\n"):
        line = raw.decode("latin-1")
        if line[:1] in (" ", "\t") and name:
            out[name] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if sep:
            name = key.strip().lower()
            out[name] = value.strip()
    return out


def decoded(body: bytes, transfer_encoding: str) -> bytes:
    """*body* with its Content-Transfer-Encoding undone (7bit/8bit/binary: as it is)."""
    encoding = transfer_encoding.strip().lower()
    try:
        if encoding == "base64":
            return base64.b64decode(b"".join(body.split()), validate=True)
        if encoding == "quoted-printable":
            return quopri.decodestring(body)
    except (binascii.Error, ValueError) as exc:
        raise MimeError(f"a {encoding} MIME body cannot be decoded: {exc}") from exc
    return body


def read_entity(entity: bytes) -> tuple[str, bytes]:
    """(Content-Type, decoded body) of one MIME entity."""
    head, body = split_head(entity)
    found = headers(head)
    content_type = found.get("content-type")
    if not content_type:
        raise MimeError("a MIME part has no Content-Type")
    return content_type, decoded(body, found.get("content-transfer-encoding", ""))


def boundary_of(content_type: str) -> bytes:
    m = _BOUNDARY.search(content_type.encode("latin-1"))
    if m is None:
        raise MimeError(f"{content_type.split(';')[0]} without a boundary")
    return m.group(1) or m.group(2)


def multipart(content_type: str, body: bytes) -> list[bytes]:
    """The body parts of a multipart entity, each as the bytes that came (RFC 2046 5.1.1:
    the line break before a delimiter belongs to the delimiter, not to the part)."""
    delimiter = b"--" + boundary_of(content_type)
    parts: list[bytes] = []
    at = _delimiter_at(body, delimiter, 0)
    if at < 0:
        raise MimeError("a multipart body has no delimiter line")
    while True:
        start = body.find(b"\n", at) + 1
        if start == 0:
            raise MimeError("a multipart body ends inside a delimiter line")
        if body[at + len(delimiter) : at + len(delimiter) + 2] == b"--":
            return parts
        end = _delimiter_at(body, delimiter, start)
        if end < 0:
            raise MimeError("a multipart body has no closing delimiter")
        part = body[start:end]
        if part.endswith(CRLF):
            part = part[:-2]
        elif part.endswith(b"\n"):
            part = part[:-1]
        parts.append(part)
        at = end


def _delimiter_at(body: bytes, delimiter: bytes, start: int) -> int:
    """Where the next line starting with *delimiter* begins, or -1."""
    at = start
    while True:
        at = body.find(delimiter, at)
        if at < 0 or at == 0 or body[at - 1 : at] == b"\n":
            return at
        at += len(delimiter)


def canonical(part: bytes) -> bytes:
    """*part* with bare LF line ends as CRLF: the form S/MIME signs (RFC 5751 3.1.1)."""
    return re.sub(rb"(?<!\r)\n", CRLF, part)
