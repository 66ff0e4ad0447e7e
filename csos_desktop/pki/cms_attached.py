"""An encapsulating (attached) SignedData from a detached one, and back.

A signed 850 travels as one file with the interchange inside the signature
(``application/x-csos-signed-order``). The signer signs the same attributes either way:
the content's digest is a signed attribute and the content itself is outside what is
signed, so moving it in or out changes no signed byte. The checks are run on the
detached form with the content beside it: one verifier for both formats.
"""

from __future__ import annotations

from asn1crypto import cms

from csos_desktop.pki.cms_parse import PARSE_ERRORS, MalformedSignature

#: The MIME type a signed X12 order is sent with.
SIGNED_ORDER_MIME = "application/x-csos-signed-order"


def attach(signature: bytes, content: bytes) -> bytes:
    """The detached *signature* with *content* encapsulated in it (DER)."""
    info = cms.ContentInfo.load(signature)
    sd = info["content"]
    sd["encap_content_info"] = cms.ContentInfo({"content_type": "data", "content": content})
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())


def is_attached(blob: bytes) -> bool:
    """True for a SignedData that encapsulates its content (a signed X12 order)."""
    try:
        return _content(blob) is not None
    except MalformedSignature:
        return False


def detach(blob: bytes) -> tuple[bytes, bytes]:
    """(content, detached signature) of an encapsulating SignedData."""
    content = _content(blob)
    if content is None:
        raise MalformedSignature("the signature encapsulates no content: it is a detached one")
    try:
        info = cms.ContentInfo.load(blob)
        sd = info["content"]
        sd["encap_content_info"] = cms.ContentInfo({"content_type": "data"})
        detached = bytes(cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())
    except PARSE_ERRORS as exc:
        raise MalformedSignature(f"the signed order cannot be read: {exc}") from exc
    return content, detached


def _content(blob: bytes) -> bytes | None:
    try:
        info = cms.ContentInfo.load(blob, strict=True)
        if info["content_type"].native != "signed_data":
            raise MalformedSignature("the file is CMS but not SignedData")
        encap = info["content"]["encap_content_info"]
        if encap["content_type"].native != "data":
            raise MalformedSignature("the signed content is not of type id-data")
        value = encap["content"].native
        if value is None:
            return None
        if not isinstance(value, bytes):
            raise MalformedSignature("the signed content is not an octet string")
        return value
    except MalformedSignature:
        raise
    except PARSE_ERRORS as exc:
        raise MalformedSignature(f"the signed order is not CMS SignedData: {exc}") from exc
