"""OCSP (RFC 6960): the client's request and first checks, and a CA-signed responder.

Whether a reply is signed by someone entitled to answer, and what it means for
the path, is pyhanko-certvalidator's job (:mod:`csos_desktop.pki.chain`). The
responder half serves the sandbox CA and tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

from csos_desktop.pki.cms_parse import PARSE_ERRORS


class OcspReplyInvalid(ValueError):
    """The responder's answer is unreadable, unsuccessful, or not about our certificate."""


@dataclass(frozen=True)
class OcspRequest:
    """A DER request and the nonce the reply must echo."""

    der: bytes
    nonce: bytes


def _crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def build_request(cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> OcspRequest:
    """An OCSP request for *cert* with a fresh nonce (RFC 8954: 32 bytes), SHA-1 CertID.

    SHA-1 is what RFC 5019 responders are required to understand; it only names
    the certificate here and carries no signature.
    """
    nonce = os.urandom(32)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(_crypto(cert), _crypto(issuer), hashes.SHA1())
        .add_extension(x509.OCSPNonce(nonce), critical=False)
        .build()
    )
    return OcspRequest(request.public_bytes(Encoding.DER), nonce)


def check_response(
    der: bytes, cert: asn1_x509.Certificate, request: OcspRequest | None = None
) -> asn1_ocsp.OCSPResponse:
    """Parse a reply; it must be successful, about *cert*, and echo the nonce if it has one.

    A reply without a nonce is accepted (many responders pre-sign replies) and
    is then judged on its thisUpdate/nextUpdate by the validator.
    """
    try:
        parsed = ocsp.load_der_ocsp_response(der)
    except ValueError as exc:
        raise OcspReplyInvalid(f"the OCSP reply is not readable ({exc})") from exc
    if parsed.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise OcspReplyInvalid(
            f"the OCSP responder refused the request ({parsed.response_status.name.lower()})"
        )
    try:
        serials = [r.serial_number for r in parsed.responses]
        nonce: bytes | None = parsed.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        nonce = None
    except ValueError as exc:
        raise OcspReplyInvalid(f"the OCSP reply is malformed ({exc})") from exc
    if cert.serial_number not in serials:
        raise OcspReplyInvalid("the OCSP reply is about another certificate")
    if request is not None and nonce is not None and nonce != request.nonce:
        raise OcspReplyInvalid(
            "the OCSP reply does not answer our request (nonce differs): "
            "it may be a replayed answer"
        )
    try:
        return asn1_ocsp.OCSPResponse.load(der, strict=True)
    except ValueError as exc:
        raise OcspReplyInvalid(f"the OCSP reply is malformed ({exc})") from exc


def ocsp_urls(cert: asn1_x509.Certificate) -> list[str]:
    """OCSP responder URLs from the certificate's Authority Information Access."""
    try:
        aia = (
            _crypto(cert).extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        )
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [
        d.access_location.value
        for d in aia
        if d.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
    ]


def crl_urls(cert: asn1_x509.Certificate) -> list[str]:
    """HTTP(S) CRL distribution point URLs of the certificate.

    asn1crypto parses every extension on the first read of any: a certificate with a
    malformed one (a truncated keyUsage) names nowhere to fetch from, and the
    signature's check reports the certificate as malformed.
    """
    try:
        points = cert.crl_distribution_points
    except PARSE_ERRORS:
        return []
    out = []
    for dp in points:
        point = dp["distribution_point"]
        if point.name != "full_name":
            continue  # relative names need the issuer's name: not used by CSOS CAs
        out += [str(n.native) for n in point.chosen if n.name == "uniform_resource_identifier"]
    return out


# -- responder -----------------------------------------------------------------
@dataclass(frozen=True)
class CertStatus:
    """What a responder says about one serial number."""

    status: ocsp.OCSPCertStatus
    revoked_at: datetime | None = None
    reason: x509.ReasonFlags | None = None


@dataclass(frozen=True)
class OcspResponder:
    """A CA answering for the certificates it issued, signing with its own key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    status_of: Callable[[int], CertStatus]


def _key_hash(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    # RFC 6960 CertID: hash of the issuer's public key BIT STRING value (no tag, length).
    spki = asn1_keys.PublicKeyInfo.load(
        cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    digest = hashes.Hash(algorithm)
    digest.update(bytes(spki["public_key"].contents[1:]))  # skip the unused-bits octet
    return digest.finalize()


def build_response(
    der: bytes, responders: Sequence[OcspResponder], *, validity: timedelta = timedelta(hours=1)
) -> bytes:
    """DER reply to an OCSP request, signed by the responder that issued the certificate.

    The CA answers for itself, with no delegated responder certificate (RFC 6960
    4.2.2.2), and includes its certificate. The request's nonce, if any, is echoed.
    """
    try:
        request = ocsp.load_der_ocsp_request(der)
        serial, key_hash = request.serial_number, request.issuer_key_hash
        algorithm = request.hash_algorithm
    except (ValueError, UnsupportedAlgorithm):
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    for responder in responders:
        if _key_hash(responder.certificate, algorithm) != key_hash:
            continue
        now = datetime.now(UTC).replace(microsecond=0)
        answer = responder.status_of(serial)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=request.issuer_name_hash,
                issuer_key_hash=key_hash,
                serial_number=serial,
                algorithm=algorithm,
                cert_status=answer.status,
                this_update=now,
                next_update=now + validity,
                revocation_time=answer.revoked_at,
                revocation_reason=answer.reason,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, responder.certificate)
            .certificates([responder.certificate])
        )  # validators may not search their roots
        try:
            nonce = request.extensions.get_extension_for_class(x509.OCSPNonce)
            builder = builder.add_extension(nonce.value, critical=False)
        except x509.ExtensionNotFound:
            pass
        return builder.sign(responder.key, hashes.SHA256()).public_bytes(Encoding.DER)
    return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(Encoding.DER)
