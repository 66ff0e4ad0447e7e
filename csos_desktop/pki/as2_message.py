"""AS2 (RFC 4130) messages and signed MDNs: S/MIME signing, encryption, MIC (pure, no I/O).

The AS2 keys are not CSOS keys: they are files, and the signing uses the same CMS code
as orders (``CmsSigner``) with a software signer. Encryption is CMS EnvelopedData
(``cryptography``), so the partner's AS2 certificate must hold an RSA key. The payload
is the signed order itself (``application/x-csos-signed-order``): AS2 protects the
transfer, the pharmacist's signature inside protects the order.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import re
import zlib
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import pkcs7

from csos_desktop.domain.errors import CsosError
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.cms_attached import SIGNED_ORDER_MIME
from csos_desktop.pki.cms_parse import (
    PARSE_ERRORS,
    MalformedSignature,
    digest_matches,
    parse_signed_data,
    signature_valid,
)
from csos_desktop.pki.mime_parts import CRLF, MimeError, canonical, headers, multipart, read_entity

#: MIC algorithms a partner may ask for (``signed-receipt-micalg``), by normalised name.
_MIC_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512,
               "sha1": hashlib.sha1}  # fmt: skip
DEFAULT_MICALG = "sha-256"


class As2Problem(enum.Enum):
    MALFORMED = "as2-malformed"
    NOT_SIGNED = "as2-not-signed"
    SIGNATURE = "as2-signature"
    DECRYPTION = "as2-decryption"
    MDN_MIC = "as2-mdn-mic"
    MDN_FAILED = "as2-mdn-failed"


class As2Error(CsosError):
    """An AS2 message or receipt that must not be trusted, with a stable ``problem``."""

    def __init__(self, problem: As2Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


class RsaFileKey:
    """An AS2 private key read from a file, signing digests for ``CmsSigner``."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key

    def sign_digest(self, digest: bytes) -> bytes:
        return self.key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


@dataclass(frozen=True)
class As2Party:
    """Our side: AS2 key and certificate (files, not the DEA token)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def signer(self) -> CmsSigner:
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return CmsSigner(RsaFileKey(self.key), der)


@dataclass(frozen=True)
class Opened:
    """A received AS2 message: the payload and the MIC its signed receipt must carry."""

    payload: bytes
    content_type: str
    mic: str


def _alg(name: str) -> str:
    return name.strip().strip('"').lower().replace("-", "")


def mic_of(part: bytes, micalg: str = DEFAULT_MICALG) -> str:
    """The RFC 4130 MIC of a signed MIME part: base64 digest, then the algorithm as named."""
    digest = _MIC_HASHES[_alg(micalg)](part).digest()
    return base64.b64encode(digest).decode("ascii") + ", " + micalg.strip().strip('"')


def chosen_micalg(options: str) -> str:
    """The first MIC algorithm of ``signed-receipt-micalg`` we support, spelled as asked
    (``sha1`` or ``sha-256`` alike); sha-256 when none is asked or none is known."""
    m = re.search(r"signed-receipt-micalg\s*=\s*(?:optional|required)\s*,([^;]*)", options, re.I)
    for name in m.group(1).split(",") if m else ():
        if _alg(name) in _MIC_HASHES:
            return name.strip().strip('"')
    return DEFAULT_MICALG


def wants_signed_mdn(options: str) -> bool:
    """Whether ``Disposition-Notification-Options`` asks for a signed receipt."""
    return (
        re.search(r"signed-receipt-protocol\s*=\s*(optional|required)", options, re.I) is not None
    )


def same_mic(received: str, sent: str) -> bool:
    """Equal digests by the same algorithm, whatever the spelling (``sha1``/``sha-1``)."""
    got, _, got_alg = received.partition(",")
    want, _, want_alg = sent.partition(",")
    return got.strip() == want.strip() and _alg(got_alg) == _alg(want_alg)


def _part(content_type: str, body: bytes) -> bytes:
    return (
        f"Content-Type: {content_type}".encode()
        + CRLF
        + b"Content-Transfer-Encoding: binary"
        + CRLF
        + CRLF
        + body
    )


def _base64_part(content_type: str, body: bytes, *more_headers: str) -> bytes:
    """A MIME part with its body in base64 (CRLF lines). For the payload, only CRLF line
    ends are then signed, so S/MIME readers that canonicalise line ends (OpenSSL does)
    verify the very bytes we signed: an X12 interchange with bare LF between segments,
    sent binary, would not verify. The signature part is written so as S/MIME does."""
    head = [f"Content-Type: {content_type}", "Content-Transfer-Encoding: base64", *more_headers]
    encoded = base64.encodebytes(body).replace(b"\n", CRLF)
    return CRLF.join(h.encode() for h in head) + CRLF + CRLF + encoded


def _signed(part: bytes, signer: CmsSigner, now: datetime, boundary: str) -> tuple[str, bytes]:
    signature = _base64_part(
        "application/pkcs7-signature; name=smime.p7s",
        signer.sign(part, now),
        'Content-Disposition: attachment; filename="smime.p7s"',
    )
    b = boundary.encode()
    body = (
        b"--" + b + CRLF + part + CRLF
        + b"--" + b + CRLF + signature + CRLF
        + b"--" + b + b"--" + CRLF
    )  # fmt: skip
    content_type = (
        'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; '
        f'boundary="{boundary}"'
    )
    return content_type, body


COMPRESSED_MIME = 'application/pkcs7-mime; smime-type=compressed-data; name="smime.p7z"'


def compress_entity(entity: bytes) -> bytes:
    """RFC 5402: the MIME entity as CMS CompressedData (zlib), DER."""
    data = cms.ContentInfo(
        {
            "content_type": "compressed_data",
            "content": cms.CompressedData(
                {
                    "version": "v0",
                    "compression_algorithm": {"algorithm": "zlib"},
                    "encap_content_info": {
                        "content_type": "data",
                        "content": zlib.compress(entity),
                    },
                }
            ),
        }
    )
    return bytes(data.dump())


def decompress_entity(der: bytes) -> bytes:
    """The MIME entity inside RFC 5402 CompressedData; As2Error when it is not that."""
    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "compressed_data":
            raise ValueError(f"{info['content_type'].native}, not compressed-data")
        return bytes(info["content"].decompressed)
    except (ValueError, TypeError, KeyError, zlib.error) as exc:
        raise As2Error(
            As2Problem.MALFORMED, f"the compressed AS2 part cannot be read: {exc}"
        ) from exc


def build_message(
    payload: bytes,
    ours: As2Party,
    partner: x509.Certificate,
    now: datetime,
    *,
    message_id: str,
    encrypt: bool = True,
    compress: bool = False,
    payload_type: str = SIGNED_ORDER_MIME,
) -> tuple[str, bytes, str]:
    """(HTTP Content-Type, body, MIC) of a signed and, by default, encrypted message.

    *compress*: the signed entity is compressed (RFC 5402, after signing, before
    encrypting), so the MIC stays the one of the signed part."""
    part = _base64_part(payload_type, payload)
    content_type, body = _signed(part, ours.signer, now, f"csos-{_token(message_id)}")
    if compress:
        entity = f"Content-Type: {content_type}".encode() + CRLF + CRLF + body
        content_type, body = COMPRESSED_MIME, compress_entity(entity)
    if not encrypt:
        return content_type, body, mic_of(part)
    entity = f"Content-Type: {content_type}".encode() + CRLF + CRLF + body
    enveloped = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(entity)
        .add_recipient(partner)
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    return (
        'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
        enveloped,
        mic_of(part),
    )


def _token(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def open_message(
    content_type: str,
    body: bytes,
    ours: As2Party,
    partner: x509.Certificate,
    *,
    micalg: str = DEFAULT_MICALG,
) -> Opened:
    """Decrypt (if encrypted) and verify a message from *partner*; As2Error otherwise.

    *micalg* is the MIC algorithm the partner asked its receipt to use."""
    lowered = content_type.lower()
    if lowered.startswith("application/pkcs7-mime") and "compressed-data" not in lowered:
        try:
            entity = pkcs7.pkcs7_decrypt_der(_der(body), ours.certificate, ours.key, [])
        except ValueError as exc:
            raise As2Error(
                As2Problem.DECRYPTION, f"the AS2 message cannot be decrypted: {exc}"
            ) from exc
        content_type, body = _split_entity(entity)
    if "compressed-data" in content_type.lower():
        content_type, body = _split_entity(decompress_entity(_der(body)))
    part, signature = _signed_parts(content_type, body)
    signed = _verify(part, signature, partner, "message")
    inner_type, payload = _split_entity(part)
    return Opened(payload, inner_type, mic_of(signed, micalg))


def _der(body: bytes) -> bytes:
    """A CMS body as DER: some partners send it base64 without saying so in a header."""
    if body[:1] == b"\x30":
        return body
    try:
        return base64.b64decode(b"".join(body.split()), validate=True)
    except ValueError:
        return body  # not base64 either: the CMS reader says what is wrong


def _split_entity(entity: bytes) -> tuple[str, bytes]:
    try:
        return read_entity(entity)
    except MimeError as exc:
        raise As2Error(As2Problem.MALFORMED, str(exc)) from exc


def _signed_parts(content_type: str, body: bytes) -> tuple[bytes, bytes]:
    if not content_type.lower().startswith("multipart/signed"):
        raise As2Error(
            As2Problem.NOT_SIGNED,
            f"the AS2 message is not signed ({content_type.split(';')[0]}); it is refused",
        )
    try:
        parts = multipart(content_type, body)
    except MimeError as exc:
        raise As2Error(As2Problem.MALFORMED, f"multipart/signed: {exc}") from exc
    if len(parts) != 2:
        raise As2Error(As2Problem.MALFORMED, "multipart/signed must hold two parts")
    _, signature = _split_entity(parts[1])
    return parts[0], signature


def _verify(part: bytes, signature: bytes, partner: x509.Certificate, what: str) -> bytes:
    """The bytes the signature covers: *part* as it came, or in canonical CRLF form
    (a partner that wrote bare LF line ends signed that, RFC 5751 3.1.1)."""
    try:
        parsed = parse_signed_data(signature)
        covered = next(
            (p for p in dict.fromkeys((part, canonical(part))) if digest_matches(parsed, p)),
            None,
        )
        ok = covered is not None and signature_valid(parsed)
        signer_der = bytes(parsed.signer.dump())
    except (MalformedSignature, *PARSE_ERRORS) as exc:
        raise As2Error(
            As2Problem.SIGNATURE, f"the AS2 {what}'s signature cannot be read: {exc}"
        ) from exc
    if not ok or covered is None:
        raise As2Error(As2Problem.SIGNATURE, f"the AS2 {what}'s signature does not verify")
    if signer_der != partner.public_bytes(serialization.Encoding.DER):
        raise As2Error(
            As2Problem.SIGNATURE,
            f"the AS2 {what} is signed by another certificate than the partner's",
        )
    return covered


# -- MDN ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mdn:
    """A verified signed receipt: what the partner did and the MIC it computed."""

    original_message_id: str
    disposition: str
    mic: str
    content_type: str
    body: bytes

    @property
    def processed(self) -> bool:
        """ "processed", or "processed/warning" (RFC 3798: done, with a remark)."""
        outcome = self.disposition.rsplit(";", 1)[-1].strip().lower()
        return outcome == "processed" or outcome.startswith("processed/warning")


def build_mdn(
    original_message_id: str,
    mic: str,
    ours: As2Party,
    now: datetime,
    *,
    error: str | None = None,
    signed: bool = True,
) -> tuple[str, bytes]:
    """An MDN for a message: processed, or processed/error with *error*; signed unless
    the sender did not ask for a signed receipt."""
    disposition = "automatic-action/MDN-sent-automatically; " + (
        "processed" if error is None else f"processed/error: {error}"
    )
    notification = (
        f"Original-Message-ID: {original_message_id}\r\n"
        f"Received-Content-MIC: {mic}\r\n"
        f"Disposition: {disposition}\r\n"
    ).encode()
    b = f"report-{_token(original_message_id)}".encode()
    report = (
        b"--" + b + CRLF + _part("text/plain", b"The message was received." + CRLF) + CRLF
        + b"--" + b + CRLF + _part("message/disposition-notification", notification) + CRLF
        + b"--" + b + b"--" + CRLF
    )  # fmt: skip
    report_type = f'multipart/report; report-type=disposition-notification; boundary="{b.decode()}"'
    if not signed:
        return report_type, report
    return _signed(
        _part(report_type, report), ours.signer, now, f"mdn-{_token(original_message_id)}"
    )


def _notification(part: bytes) -> dict[str, str]:
    """The fields of the report's message/disposition-notification part."""
    report_type, report = _split_entity(part)
    try:
        pieces = multipart(report_type, report) if "multipart" in report_type.lower() else []
    except MimeError as exc:
        raise As2Error(As2Problem.MALFORMED, f"the MDN report: {exc}") from exc
    for piece in pieces:
        kind, body = _split_entity(piece)
        if kind.lower().startswith("message/disposition-notification"):
            return headers(body)
    raise As2Error(As2Problem.MALFORMED, "the MDN has no disposition-notification part")


def _message_id(text: str) -> str:
    return text.strip().strip("<>").strip()


def verify_mdn(
    content_type: str,
    body: bytes,
    partner: x509.Certificate,
    *,
    message_id: str,
    sent_mic: str,
) -> Mdn:
    """The partner's signed MDN for *message_id*, its MIC equal to what we sent."""
    part, signature = _signed_parts(content_type, body)
    signed = _verify(part, signature, partner, "receipt (MDN)")
    fields = _notification(signed)
    if _message_id(fields.get("original-message-id", "")) != _message_id(message_id):
        raise As2Error(As2Problem.MALFORMED, "the MDN answers another message")
    mdn = Mdn(message_id, fields.get("disposition", ""), sent_mic, content_type, body)
    if not mdn.processed:
        raise As2Error(As2Problem.MDN_FAILED, f"the partner did not process it: {mdn.disposition}")
    received = fields.get("received-content-mic", "")
    if not same_mic(received, sent_mic):
        raise As2Error(
            As2Problem.MDN_MIC,
            f"the partner's MIC {received!r} is not the MIC of what "
            f"was sent ({sent_mic}): the order it received is not the one sent",
        )
    return mdn
