"""Reading XML that came from outside: no entities, bounded size and depth.

Every XML parser in the product goes through :func:`parse_xml`. It refuses a document
that declares a DOCTYPE at all (so no internal entity can expand into a billion
laughs and no external entity can make the parser read a file or a URL), one
larger than ``max_bytes`` before any parsing, and one nested deeper than
``max_depth`` while it is being read. The refusal is an :class:`XmlRefused` whose
``reason`` is a code the store keeps with the bytes, which the caller keeps as
received.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import Enum
from xml.parsers import expat

from csos_desktop.domain.errors import InputError

#: A NewRx is a few kilobytes; a megabyte leaves room for long directions and notes.
MAX_BYTES = 1_000_000
#: A NewRx nests about eight levels deep.
MAX_DEPTH = 32


class XmlReason(Enum):
    TOO_LARGE = "xml-too-large"
    DOCTYPE = "xml-doctype-refused"
    TOO_DEEP = "xml-too-deep"
    MALFORMED = "xml-malformed"


class XmlRefused(InputError):
    """XML we do not read; the message says why, ``reason`` is the code to keep."""

    def __init__(self, reason: XmlReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class XmlLimits:
    max_bytes: int = MAX_BYTES
    max_depth: int = MAX_DEPTH


DEFAULT_LIMITS = XmlLimits()


class _Builder(ET.TreeBuilder):
    """A tree builder that counts how deep it is."""

    def __init__(self, max_depth: int) -> None:
        super().__init__()
        self._depth = 0
        self._max = max_depth

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self._depth += 1
        if self._depth > self._max:
            raise XmlRefused(
                XmlReason.TOO_DEEP,
                f"The XML nests deeper than {self._max} levels; a prescription message never "
                "does. It was not read; ask the sender to check their system.",
            )
        return super().start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        self._depth -= 1
        return super().end(tag)


def _refuse_doctype(*_: object) -> int:
    raise XmlRefused(
        XmlReason.DOCTYPE,
        "The XML declares a DOCTYPE (entities or an external DTD). Prescription messages "
        "never need one and it can make a reader expand or fetch content, so it was not "
        "read; ask the sender to send the message without it.",
    )


def parse_xml(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> ET.Element:
    """The root element of *data*, or :class:`XmlRefused` with the reason."""
    if len(data) > limits.max_bytes:
        raise XmlRefused(
            XmlReason.TOO_LARGE,
            f"The XML is {len(data)} bytes, more than the {limits.max_bytes} a prescription "
            "message may be; it was not read.",
        )
    builder = _Builder(limits.max_depth)
    # expat itself, not ElementTree's parser: its handlers are ours to set, so a DOCTYPE
    # is refused at its declaration, before any entity is defined or any DTD is fetched.
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.ExternalEntityRefHandler = _refuse_doctype
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
        return builder.close()
    except expat.ExpatError as e:
        raise XmlRefused(
            XmlReason.MALFORMED,
            f"The message is not well-formed XML ({expat.ErrorString(e.code)}, line "
            f"{e.lineno}); it was not read.",
        ) from None
    except AssertionError:  # TreeBuilder.close() on a document with no element
        raise XmlRefused(XmlReason.MALFORMED, "The message holds no XML element.") from None
