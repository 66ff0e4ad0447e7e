"""The hand-assembled CMS is what asn1crypto and RFC 5652 say it should be.

A software key stands in for the token here so the structure can be fuzzed
quickly; the token path is covered in tests/integration.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.cms_parse import (
    MalformedSignature,
    digest_matches,
    parse_signed_data,
    signature_valid,
)
from csos_desktop.pki.der import length, set_of


class SoftwareSigner:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    def sign_digest(self, digest: bytes) -> bytes:
        return self.key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


@pytest.fixture(scope="module")
def signer() -> CmsSigner:
    soft = SoftwareSigner()
    name = x509.Name.from_rfc4514_string("CN=Test Signer")
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(soft.key.public_key())
        .serial_number(12345)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(soft.key, hashes.SHA256())
    )
    return CmsSigner(soft, cert.public_bytes(Encoding.DER))


def test_der_length_forms() -> None:
    assert length(0x7F) == b"\x7f"
    assert length(0x80) == b"\x81\x80"
    assert length(0x1234) == b"\x82\x12\x34"


def test_set_of_is_sorted_by_encoding() -> None:
    assert set_of(b"\x30\x02\x05\x00", b"\x02\x01\x01") == b"\x31\x07\x02\x01\x01\x30\x02\x05\x00"


def test_asn1crypto_reads_what_we_assemble(signer: CmsSigner) -> None:
    when = datetime(2026, 11, 25, 10, 30, 0, tzinfo=UTC)
    blob = signer.sign(b'{"a":1}', when)
    info = cms.ContentInfo.load(blob, strict=True)
    sd = info["content"]
    assert info["content_type"].native == "signed_data"
    assert sd["version"].native == "v1"
    assert sd["encap_content_info"]["content"].native is None
    si = sd["signer_infos"][0]
    attrs = {a["type"].native: a["values"][0].native for a in si["signed_attrs"]}
    assert attrs["content_type"] == "data"
    assert attrs["message_digest"] == hashlib.sha256(b'{"a":1}').digest()
    assert attrs["signing_time"] == when
    assert "signing_certificate_v2" in attrs
    # DER: re-encoding the parsed structure yields the same bytes.
    assert info.dump(force=True) == blob


def test_parsed_signature_verifies_and_binds_the_content(signer: CmsSigner) -> None:
    blob = signer.sign(b"content", datetime.now(UTC))
    parsed = parse_signed_data(blob)
    assert signature_valid(parsed)
    assert digest_matches(parsed, b"content")
    assert not digest_matches(parsed, b"Content")


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_any_single_byte_change_is_malformed_or_fails_verification(
    signer: CmsSigner, position: int, value: int
) -> None:
    blob = signer.sign(b"content", datetime(2026, 1, 1, tzinfo=UTC))
    i = position % len(blob)
    if blob[i] == value:
        return
    mutated = blob[:i] + bytes([value]) + blob[i + 1 :]
    try:
        parsed = parse_signed_data(mutated)
    except MalformedSignature:
        return
    # Some bytes (e.g. inside the unsigned certificate set) do not change the
    # signed attributes; everything that does must break verification.
    if (
        parsed.signed_attrs_der != parse_signed_data(blob).signed_attrs_der
        or parsed.signature != parse_signed_data(blob).signature
    ):
        assert not (signature_valid(parsed) and digest_matches(parsed, b"content"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_never_crash_the_parser(data: bytes) -> None:
    with contextlib.suppress(MalformedSignature):
        parse_signed_data(data)
