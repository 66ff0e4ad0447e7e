"""X12 syntax: separators, segments, and the ISA/GS/ST envelope (version 004010).

Pure: bytes in, values out. The separators of an interchange are declared by its ISA
segment (element separator at byte 3, sub-element separator at byte 104, segment
terminator at byte 105), so a reader takes them from there, and a writer picks ones that
occur in no data element: X12 004010 has no escape character, so a separator inside a
name would split it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.domain.errors import InputError

#: Length of an ISA segment, its terminator included (every ISA element is fixed width).
ISA_LENGTH = 106
#: Interchange control version of 004010 (ISA12) and the GS08 release of the groups.
ISA_VERSION = "00401"
GS_VERSION = "004010"
#: What is read: 004010 and 005010 envelopes, and industry releases of them in GS08
#: ("004010VICS", "005010UCS"): the segments read here sit at the same places in each.
READ_ISA_VERSIONS = ("00401", "00501")
READ_GS_VERSIONS = ("004010", "005010")

# Tried in this order; the first that occurs in no element is used. The usual ones first;
# last the information separators (GS, US, RS), which EDI uses too and an order's text
# never holds (it refuses control characters), so a separator is always found.
ELEMENT_CANDIDATES = "*|^!`\x1d"
COMPONENT_CANDIDATES = ">:\\{}\x1f"
SEGMENT_CANDIDATES = "~'@#$\x1e"

_DIGITS9 = re.compile(r"[0-9]{9}")


class X12Reason(enum.Enum):
    """Why received X12 cannot be read; stable codes shown to the user and stored."""

    MALFORMED = "x12-malformed"
    SEPARATORS = "x12-separators"
    CONTROL_MISMATCH = "x12-control-mismatch"
    MISSING_FIELD = "x12-missing-field"
    WRONG_DOCUMENT = "x12-wrong-document"
    FIELD_TOO_LONG = "x12-field-too-long"


class X12Error(InputError):
    """X12 that cannot be written or read, with a stable ``reason``."""

    def __init__(self, reason: X12Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Separators:
    element: str = "*"
    component: str = ">"
    segment: str = "~"

    def __post_init__(self) -> None:
        chars = (self.element, self.component, self.segment)
        # A partner may end segments with a line break (read, never chosen when writing).
        inner = (self.element, self.component)
        if (
            any(len(c) != 1 or c.isalnum() or c in " \t" for c in chars)
            or any(c in "\r\n" for c in inner)
            or len(set(chars)) != 3
        ):
            raise X12Error(
                X12Reason.SEPARATORS,
                f"X12 separators {chars!r} must be three different single characters that"
                " are neither letters, digits nor spaces (only the segment terminator may be"
                " a line break)",
            )

    @classmethod
    def avoiding(cls, data: Iterable[str]) -> Separators:
        """The usual separators, or others where a data element holds one of them."""
        used = set("".join(data))
        return cls(
            element=_first_free(ELEMENT_CANDIDATES, used, "element"),
            component=_first_free(COMPONENT_CANDIDATES, used, "component"),
            segment=_first_free(SEGMENT_CANDIDATES, used, "segment"),
        )


def _first_free(candidates: str, used: set[str], kind: str) -> str:
    for c in candidates:
        if c not in used:
            return c
    raise X12Error(
        X12Reason.SEPARATORS,
        f"every X12 {kind} separator ({candidates!r}) occurs in the text to send;"
        " remove one of these characters from the names or addresses",
    )


@dataclass(frozen=True)
class Segment:
    """One segment: its ID and elements (element 1 is ``elements[0]``)."""

    tag: str
    elements: tuple[str, ...]

    def get(self, n: int) -> str:
        """Element ``n`` (1-based) or "" when absent."""
        return self.elements[n - 1] if 0 < n <= len(self.elements) else ""


def seg(tag: str, *elements: str) -> Segment:
    """A segment with trailing empty elements dropped, as X12 requires."""
    items = list(elements)
    while items and items[-1] == "":
        items.pop()
    return Segment(tag, tuple(items))


@dataclass(frozen=True)
class Envelope:
    """What the ISA and GS segments say about an interchange of one group."""

    sender: str
    receiver: str
    control_number: int
    prepared_at: datetime
    functional_id: str
    usage: str = "P"  # P production, T test (ISA15)

    def __post_init__(self) -> None:
        if not 0 < self.control_number <= 999_999_999:
            raise X12Error(
                X12Reason.CONTROL_MISMATCH,
                f"X12 control number {self.control_number} must be 1 to 999999999",
            )


@dataclass(frozen=True)
class Interchange:
    """A read interchange of one functional group with one transaction set."""

    envelope: Envelope
    separators: Separators
    transaction_type: str
    body: tuple[Segment, ...]  # between ST and SE, both excluded


# -- writing ------------------------------------------------------------------------------


def write_interchange(
    env: Envelope, transaction_type: str, body: Sequence[Segment], sep: Separators
) -> bytes:
    """ISA, GS, ST, *body*, SE, GE, IEA; one segment per line after its terminator."""
    for s in body:
        for e in s.elements:
            if sep.element in e or sep.segment in e or sep.component in e:
                raise X12Error(
                    X12Reason.SEPARATORS, f"X12 element {e!r} holds a separator character"
                )
    at = env.prepared_at
    ctl = f"{env.control_number:09d}"
    isa = seg(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        f"{env.sender:<15}",
        "ZZ",
        f"{env.receiver:<15}",
        at.strftime("%y%m%d"),
        at.strftime("%H%M"),
        "U",
        ISA_VERSION,
        ctl,
        "0",
        env.usage,
        sep.component,
    )
    st_ctl = "0001"
    segments = [
        isa,
        seg(
            "GS",
            env.functional_id,
            env.sender,
            env.receiver,
            at.strftime("%Y%m%d"),
            at.strftime("%H%M"),
            str(env.control_number),
            "X",
            GS_VERSION,
        ),
        seg("ST", transaction_type, st_ctl),
        *body,
    ]
    segments.append(seg("SE", str(len(body) + 2), st_ctl))
    segments.append(seg("GE", "1", str(env.control_number)))
    segments.append(seg("IEA", "1", ctl))
    text = "".join(sep.element.join((s.tag, *s.elements)) + sep.segment + "\n" for s in segments)
    return text.encode("utf-8")


# -- reading ------------------------------------------------------------------------------


def read_interchange(data: bytes) -> Interchange:
    """Read an interchange of one group and one transaction set, checking its envelope."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise X12Error(X12Reason.MALFORMED, f"the X12 file is not text: {exc.reason}") from exc
    if not text.startswith("ISA") or len(text) < ISA_LENGTH:
        raise X12Error(X12Reason.MALFORMED, "an X12 interchange must begin with an ISA segment")
    sep = _separators_of(text)
    segments = _split(text, sep)
    isa = segments[0]
    if len(isa.elements) != 16:
        raise X12Error(
            X12Reason.SEPARATORS,
            f"the ISA segment has {len(isa.elements)} elements, not 16: its separators are wrong",
        )
    if isa.get(12) not in READ_ISA_VERSIONS:
        raise X12Error(
            X12Reason.WRONG_DOCUMENT,
            f"interchange version {isa.get(12)!r} is not {ISA_VERSION} (X12 004010) or 00501",
        )
    tags = [s.tag for s in segments]
    expected = ["ISA", "GS", "ST"]
    if tags[:3] != expected or tags[-3:] != ["SE", "GE", "IEA"]:
        raise X12Error(
            X12Reason.MALFORMED,
            "the interchange must be ISA, GS, ST ... SE, GE, IEA with one group of one"
            f" transaction set; it has {' '.join(tags[:3])} ... {' '.join(tags[-3:])}",
        )
    gs, st, se, ge, iea = segments[1], segments[2], segments[-3], segments[-2], segments[-1]
    body = tuple(segments[3:-3])
    if any(t in ("ISA", "GS", "ST", "SE", "GE", "IEA") for t in (s.tag for s in body)):
        raise X12Error(
            X12Reason.MALFORMED,
            f"the interchange holds {tags.count('ST')} transaction sets in "
            f"{tags.count('GS')} group(s); one is read per interchange: ask the distributor "
            "to send one document per interchange",
        )
    ctl = isa.get(13)
    if not _DIGITS9.fullmatch(ctl):
        raise X12Error(X12Reason.MALFORMED, f"ISA13 control number {ctl!r} is not 9 digits")
    _same(iea.get(2), ctl, "IEA02", "ISA13")
    _same(iea.get(1), "1", "IEA01 (number of groups)", "the groups present")
    _same(ge.get(2), gs.get(6), "GE02", "GS06")
    _same(ge.get(1), "1", "GE01 (number of transaction sets)", "the sets present")
    _same(se.get(2), st.get(2), "SE02", "ST02")
    _same(se.get(1), str(len(body) + 2), "SE01 (segment count)", "the segments present")
    if not gs.get(8).startswith(READ_GS_VERSIONS):
        raise X12Error(
            X12Reason.WRONG_DOCUMENT, f"group version {gs.get(8)!r} is not {GS_VERSION} or 005010"
        )
    try:
        prepared = datetime.strptime(gs.get(4) + gs.get(5)[:4], "%Y%m%d%H%M")
        control = int(ctl)
    except ValueError as exc:
        raise X12Error(X12Reason.MALFORMED, f"the GS date or time cannot be read: {exc}") from exc
    env = Envelope(
        sender=isa.get(6).rstrip(),
        receiver=isa.get(8).rstrip(),
        control_number=control,
        prepared_at=prepared,
        functional_id=gs.get(1),
        usage=isa.get(15),
    )
    return Interchange(env, sep, st.get(1), body)


def _separators_of(text: str) -> Separators:
    element, component, terminator = text[3], text[104], text[105]
    if text[3:ISA_LENGTH].count(element) != 16:
        raise X12Error(
            X12Reason.SEPARATORS,
            f"the ISA segment is not 106 characters with element separator {element!r}"
            " at position 4: it is damaged or its separators are wrong",
        )
    return Separators(element, component, terminator)


def _split(text: str, sep: Separators) -> list[Segment]:
    raw = text.split(sep.segment)
    if raw[-1].strip("\r\n"):
        raise X12Error(
            X12Reason.MALFORMED,
            f"the interchange does not end with the segment terminator {sep.segment!r}",
        )
    out = []
    for part in raw[:-1]:
        part = part.strip("\r\n")
        if not part and sep.segment in "\r\n":
            continue  # CR LF after each segment: the LF after a CR terminator
        tag, *elements = part.split(sep.element)
        if not re.fullmatch(r"[A-Z][A-Z0-9]{1,2}", tag):
            raise X12Error(X12Reason.MALFORMED, f"{tag[:20]!r} is not an X12 segment ID")
        out.append(Segment(tag, tuple(elements)))
    return out


def _same(found: str, expected: str, what: str, against: str) -> None:
    if found != expected:
        raise X12Error(
            X12Reason.CONTROL_MISMATCH,
            f"{what} is {found!r} but {against} is {expected!r}: the interchange is"
            " incomplete or was altered",
        )
