"""A signer's later signatures are read through the remembered frame; whatever is changed
in their signed attributes or signature value, the answer is the whole parse's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.cms_frame import split_signed_data
from csos_desktop.pki.cms_parse import (
    MalformedSignature,
    ParsedSignature,
    _parse_whole,
    parse_signed_data,
)
from csos_desktop.sandbox.ca import TestCa
from tests.conftest import ALL_SCHEDULES, PURCHASER_DEA
from tests.integration.crafted import SoftwareSigner, chain


@cache
def _signatures() -> tuple[bytes, bytes]:
    import tempfile
    from pathlib import Path

    ca = TestCa.init(Path(tempfile.mkdtemp(prefix="csos-frame-")) / "ca")
    key = SoftwareSigner()
    cert = ca.issue_for_public_key(
        key.key.public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Frame Pharmacy"),
        dea_number=PURCHASER_DEA,
        schedules=ALL_SCHEDULES,
    )
    signer = CmsSigner(key, cert.public_bytes(Encoding.DER), chain(ca))
    now = datetime.now(UTC)
    # ECDSA values vary in length, and lengths are part of the frame: two of equal length.
    by_key: dict[bytes, bytes] = {}
    for i in range(40):
        blob = signer.sign(b'{"a":%d}' % i, now + timedelta(seconds=i))
        split = split_signed_data(blob)
        assert split is not None
        if split.key in by_key:
            return by_key[split.key], blob
        by_key[split.key] = blob
    raise AssertionError("no two signatures of equal length")


def _outcome(fn: object, blob: bytes) -> ParsedSignature | str:
    try:
        return fn(blob)  # type: ignore[operator,no-any-return]
    except MalformedSignature as exc:
        return str(exc)


def _same(a: ParsedSignature | str, b: ParsedSignature | str) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return (
        a.signer.dump() == b.signer.dump()
        and [c.dump() for c in a.other_certificates] == [c.dump() for c in b.other_certificates]
        and (a.message_digest, a.signing_time, a.signed_attrs_der, a.signature)
        == (b.message_digest, b.signing_time, b.signed_attrs_der, b.signature)
        and a.signature_algorithm == b.signature_algorithm
    )


def test_a_second_signature_of_a_signer_reads_the_same_through_the_frame() -> None:
    first, second = _signatures()
    parse_signed_data(first)  # remembers the frame
    split = split_signed_data(second)
    assert split is not None and split.key == split_signed_data(first).key  # type: ignore[union-attr]
    assert _same(parse_signed_data(second), _parse_whole(second))


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_a_changed_attribute_or_signature_byte_gets_the_whole_parses_answer(
    data: st.DataObject,
) -> None:
    first, second = _signatures()
    parse_signed_data(first)
    split = split_signed_data(second)
    assert split is not None
    start = second.index(split.attributes)
    region = list(range(start, start + len(split.attributes)))
    sig_at = second.rindex(split.signature)
    region += list(range(sig_at, sig_at + len(split.signature)))
    at = data.draw(st.sampled_from(region))
    blob = bytearray(second)
    blob[at] = data.draw(st.integers(0, 255))
    assert _same(_outcome(parse_signed_data, bytes(blob)), _outcome(_parse_whole, bytes(blob)))
