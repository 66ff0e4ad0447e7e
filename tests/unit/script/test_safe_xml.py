"""Hostile XML is refused with a reason before it can cost memory, time or a file read."""

from __future__ import annotations

from pathlib import Path

import pytest

from csos_desktop.domain.script.newrx import read_newrx
from csos_desktop.domain.script.safe_xml import (
    DEFAULT_LIMITS,
    MAX_BYTES,
    XmlLimits,
    XmlReason,
    XmlRefused,
    parse_xml,
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Message><Body><NewRx><Patient>&lol9;</Patient></NewRx></Body></Message>"""


def _refused(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> XmlRefused:
    with pytest.raises(XmlRefused) as e:
        parse_xml(data, limits)
    return e.value


def test_billion_laughs_is_refused_at_the_doctype() -> None:
    e = _refused(BILLION_LAUGHS)
    assert e.reason is XmlReason.DOCTYPE
    assert "DOCTYPE" in str(e)


def test_an_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("PATIENT SSN 123-45-6789")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<Message>&x;</Message>"
    ).encode()
    e = _refused(doc)
    assert e.reason is XmlReason.DOCTYPE
    assert "123-45" not in str(e)


def test_an_external_dtd_alone_is_refused() -> None:
    doc = b'<!DOCTYPE Message SYSTEM "http://127.0.0.1:9/x.dtd"><Message/>'
    assert _refused(doc).reason is XmlReason.DOCTYPE


def test_deep_nesting_is_refused_while_reading() -> None:
    depth = 100_000
    doc = b"<a>" * depth + b"</a>" * depth
    e = _refused(doc, XmlLimits(max_bytes=10 * len(doc)))
    assert e.reason is XmlReason.TOO_DEEP
    assert "deeper than 32" in str(e)


def test_a_huge_document_is_refused_before_parsing() -> None:
    doc = b"<Message>" + b"x" * MAX_BYTES + b"</Message>"
    e = _refused(doc)
    assert e.reason is XmlReason.TOO_LARGE
    assert str(len(doc)) in str(e)


@pytest.mark.parametrize("doc", [b"", b"<Message>", b"not xml", b"<a></b>", b"\xff\xfe<a/>"])
def test_malformed_xml_gets_a_reason(doc: bytes) -> None:
    assert _refused(doc).reason is XmlReason.MALFORMED


def test_the_newrx_reader_goes_through_the_safe_parser() -> None:
    with pytest.raises(XmlRefused) as e:
        read_newrx(BILLION_LAUGHS)
    assert e.value.reason is XmlReason.DOCTYPE


def test_a_plain_document_reads() -> None:
    root = parse_xml(b'<Message a="1"><Header><To Qualifier="P">1234567</To></Header></Message>')
    assert root.findtext("Header/To") == "1234567"
