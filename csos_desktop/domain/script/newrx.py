"""A signed prescription as an NCPDP SCRIPT NewRx, and back, with any mapping table.

Signed bytes (what DigestValue digests and SignatureValue signs): the W3C Canonical
XML 2.0 form (Python's ``xml.etree.ElementTree.canonicalize``, comments dropped, text
kept as is) of the whole ``Message`` with its ``Header/DigitalSignature`` element left
out, encoded UTF-8. The message itself is sent in the same canonical form, so a
reader that re-canonicalises it gets the very bytes the practitioner signed.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

from csos_desktop.domain.order import Address
from csos_desktop.domain.order_rules import Problem
from csos_desktop.domain.pharmacy import Pharmacy, PharmacyInvalid
from csos_desktop.domain.prescription import Prescription, PrescriptionInvalid
from csos_desktop.domain.schedule import Schedule
from csos_desktop.domain.script.mapping_2017071 import TABLE as SCRIPT_2017071
from csos_desktop.domain.script.safe_xml import DEFAULT_LIMITS, XmlLimits, parse_xml
from csos_desktop.domain.script.table import Codec, Field, MappingTable

_DIGITS = re.compile(r"[0-9]+")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_WHOLE = re.compile(r"([0-9]+)(?:\.0*)?")
_NOTE = "DEA schedule {}"
#: The namespace of the SCRIPT schemas (2017071 and later): written as the default
#: namespace, as the XSD wants; read as the default one or under a prefix.
SCRIPT_NAMESPACE = "http://www.ncpdp.org/schema/SCRIPT"


class NewRxInvalid(PrescriptionInvalid):
    """A NewRx whose content is not a complete, valid prescription."""

    noun = "NewRx message"


@dataclass(frozen=True)
class DigitalSignature:
    """The practitioner's signature as the message carries it."""

    digest_method: str
    digest_value: bytes
    signature_value: bytes
    certificate_der: bytes


@dataclass(frozen=True)
class SignatureIndicator:
    """Only the statement that the two-factor signing took place (1311.210(c))."""


@dataclass(frozen=True)
class NewRx:
    """A message read back: what it prescribes, to whom, and how it is signed."""

    prescription: Prescription
    pharmacy: Pharmacy
    signature: DigitalSignature | SignatureIndicator | None
    signed_bytes: bytes
    #: Header/MessageID and Header/From as sent: an answer relates to the one and goes to
    #: the other (ours carry the rx id as MessageID and no From).
    message_id: str = ""
    sender: str = ""


# -- writing ---------------------------------------------------------------------------
def _child(parent: ET.Element, path: str) -> ET.Element:
    node = parent
    for tag in path.split("/"):
        found = node.find(tag)
        node = found if found is not None else ET.SubElement(node, tag)
    return node


def _lookup(doc: Mapping[str, object], path: tuple[str, ...]) -> object:
    value: object = doc
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def _write(root: ET.Element, table: MappingTable, f: Field, value: object) -> None:
    node = _child(root, f.xml)
    if f.codec is Codec.NAME:
        first, space, last = str(value).rpartition(" ")
        if space:  # written even when empty, so " Smith" reads back as it was
            _child(node, "FirstName").text = first
        _child(node, "LastName").text = last
        # SCRIPT orders LastName before FirstName.
        node[:] = sorted(node, key=lambda e: e.tag != "LastName")
    elif f.codec is Codec.SCHEDULE:
        schedule = Schedule(value)
        node.text = table.code_of(schedule)
        if schedule in (Schedule.II_NON_NARCOTIC, Schedule.III_NON_NARCOTIC):
            _child(root, table.non_narcotic_note).text = _NOTE.format(schedule.value)
    else:
        node.text = str(value)


def build_newrx(
    rx: Prescription, pharmacy: Pharmacy, table: MappingTable = SCRIPT_2017071
) -> ET.Element:
    """The unsigned NewRx for *rx* sent to *pharmacy* (the choice is in the signed bytes)."""
    root = ET.Element("Message", {"xmlns": SCRIPT_NAMESPACE, **dict(table.message_attributes)})
    to = _child(root, table.to)
    to.text, to.attrib["Qualifier"] = pharmacy.ncpdp_id, table.to_qualifier
    _child(root, table.message_id).text = rx.rx_id
    doc, pdoc = rx.to_document(), pharmacy.to_document()
    for f in table.prescription:
        value = _lookup(doc, f.doc)
        if value is not None:
            _write(root, table, f, value)
    for path, text, needs in table.qualifiers:
        if _lookup(doc, needs) is not None:
            _child(root, path).text = text
    for f in table.pharmacy:
        _write(root, table, f, _lookup(pdoc, f.doc))
    return root


def signed_bytes(root: ET.Element, table: MappingTable = SCRIPT_2017071) -> bytes:
    """The canonical bytes of *root* without its DigitalSignature (what is signed)."""
    bare = copy.deepcopy(root)
    parent_path, _, tag = table.signature.rpartition("/")
    parent = bare.find(parent_path)
    if parent is not None:
        for node in parent.findall(tag):
            parent.remove(node)
    return _canonical(bare)


def _canonical(root: ET.Element) -> bytes:
    bare = copy.copy(root)
    bare.tail = None
    return ET.canonicalize(ET.tostring(bare, encoding="unicode")).encode("utf-8")


def with_signature(
    root: ET.Element,
    signature: DigitalSignature | SignatureIndicator,
    table: MappingTable = SCRIPT_2017071,
) -> bytes:
    """The message bytes to send: *root* with its DigitalSignature, canonical form."""
    signed = copy.deepcopy(root)
    parent_path, _, tag = table.signature.rpartition("/")
    parent = _child(signed, parent_path)
    after = signed.find(table.signature_after)
    index = list(parent).index(after) + 1 if after is not None and after in list(parent) else 0
    node = ET.Element(tag, {"Version": table.signature_version})
    if isinstance(signature, SignatureIndicator):
        ET.SubElement(node, "DigitalSignatureIndicator").text = "true"
    else:
        b64 = base64.b64encode
        ET.SubElement(node, "DigestMethod").text = signature.digest_method
        ET.SubElement(node, "DigestValue").text = b64(signature.digest_value).decode()
        ET.SubElement(node, "SignatureValue").text = b64(signature.signature_value).decode()
        ET.SubElement(node, "X509Data").text = b64(signature.certificate_der).decode()
    parent.insert(index, node)
    return _canonical(signed)


def digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# -- reading ---------------------------------------------------------------------------
def _text(root: ET.Element, path: str) -> str | None:
    node = root.find(path)
    return None if node is None else (node.text or "")


def _read(root: ET.Element, table: MappingTable, f: Field, problems: list[Problem]) -> object:
    node = root.find(f.xml)
    if node is None and f.xml.endswith("/Date"):
        # Other senders write the choice's other branch: <DateTime>CCYY-MM-DDThh:mm:ss</...>
        moment = root.find(f.xml.removesuffix("Date") + "DateTime")
        return None if moment is None else (moment.text or "").strip()[:10]
    if node is None:
        return None
    if f.codec is Codec.NAME:
        last, first = _text(node, "LastName"), _text(node, "FirstName")
        middle = _text(node, "MiddleName")
        if last is None or first is None:
            return last
        # As written: "" first names read back as " Smith" (see _write).
        return " ".join([first, *([middle] if middle else []), last])
    text = node.text or ""
    if f.codec is Codec.INTEGER:
        whole = _WHOLE.fullmatch(text.strip())  # "30", or "30.000": SCRIPT decimals
        return int(whole.group(1)) if whole else text
    if f.codec is Codec.SCHEDULE:
        schedule = table.schedule_of(text)
        if schedule is None:
            problems.append(
                Problem(
                    ".".join(f.doc),
                    "schedule-code-unknown",
                    f"DEA schedule code {text!r} is not one of SCRIPT {table.version}'s "
                    "codes; the prescription cannot be dispensed as sent",
                )
            )
            return None
        note = _text(root, table.non_narcotic_note)
        for nn in (Schedule.II_NON_NARCOTIC, Schedule.III_NON_NARCOTIC):
            if note == _NOTE.format(nn.value) and table.code_of(nn) == text:
                return nn.value
        return schedule.value
    return text


def _document(
    root: ET.Element, table: MappingTable, fields: tuple[Field, ...], problems: list[Problem]
) -> dict[str, object]:
    doc: dict[str, object] = {}
    for f in fields:
        value = _read(root, table, f, problems)
        if value is None:
            continue
        node = doc
        for key in f.doc[:-1]:
            node = node.setdefault(key, {})  # type: ignore[assignment]
        node[f.doc[-1]] = value
    return doc


def _signature(
    root: ET.Element, table: MappingTable
) -> DigitalSignature | SignatureIndicator | None:
    node = root.find(table.signature)
    if node is None:
        return None
    if node.find("SignatureValue") is None and _text(node, "DigitalSignatureIndicator") in (
        "true",
        "1",
    ):
        return SignatureIndicator()

    def b64(tag: str) -> bytes:
        text = _text(node, tag)
        try:
            return base64.b64decode(text or "", validate=True)
        except ValueError:
            return b""

    return DigitalSignature(
        _text(node, "DigestMethod") or "",
        b64("DigestValue"),
        b64("SignatureValue"),
        b64("X509Data"),
    )


def read_newrx(
    data: bytes, table: MappingTable = SCRIPT_2017071, limits: XmlLimits = DEFAULT_LIMITS
) -> NewRx:
    """Read a NewRx strictly; raises ``XmlRefused`` or :class:`NewRxInvalid` with reasons."""
    original = parse_xml(data, limits)
    root = _local_names(original)
    problems: list[Problem] = []
    if root.tag != "Message" or root.find("Body/NewRx") is None:
        raise NewRxInvalid((Problem("Message", "not-newrx", "is not a SCRIPT NewRx message"),))
    doc = _document(root, table, table.prescription, problems)
    doc["schema"] = "csos-rx/1"
    doc["rx_id"] = _rx_id(doc)
    rx: Prescription | None = None
    try:
        rx = Prescription.from_document(doc)
    except PrescriptionInvalid as e:
        told = {p.field for p in problems}  # an unknown code is not also "missing"
        problems.extend(p for p in e.problems if p.field not in told)
    pdoc = _document(root, table, table.pharmacy, problems)
    pharmacy = _pharmacy(pdoc, problems)
    if pharmacy is not None and _text(root, table.to) != pharmacy.ncpdp_id:
        problems.append(
            Problem("Header.To", "to-not-pharmacy", "names another pharmacy than the body")
        )
    if problems or rx is None or pharmacy is None:
        raise NewRxInvalid(tuple(problems))
    return NewRx(
        rx,
        pharmacy,
        _signature(root, table),
        signed_bytes(original, table),
        (_text(root, table.message_id) or "").strip(),
        (_text(root, "Header/From") or "").strip(),
    )


def _rx_id(doc: Mapping[str, object]) -> object:
    """Our prescriptions' IDs are UUIDs; another system's PrescriberOrderNumber is any
    text up to 35 characters. Its ID here is then a UUID derived from the prescriber's
    DEA number and that number, the same each time the message is read; the number
    itself stays in the message kept."""
    number = doc.get("rx_id")
    if not isinstance(number, str) or not number.strip() or _UUID.fullmatch(number):
        return number
    practitioner = doc.get("practitioner")
    dea = practitioner.get("dea_number") if isinstance(practitioner, Mapping) else None
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ncpdp-script:{dea}:{number}"))


def _local_names(root: ET.Element) -> ET.Element:
    """*root* with the SCRIPT namespace's prefix dropped from tags (``<s:Message
    xmlns:s=...>``): the paths of the tables are local names. As it is otherwise."""
    prefix, sep, _ = root.tag.partition(":")
    if not sep or root.attrib.get(f"xmlns:{prefix}") != SCRIPT_NAMESPACE:
        return root
    local = copy.deepcopy(root)
    for node in local.iter():
        if node.tag.startswith(prefix + ":"):
            node.tag = node.tag[len(prefix) + 1 :]
    return local


def _pharmacy(doc: Mapping[str, object], problems: list[Problem]) -> Pharmacy | None:
    address = doc.get("address")
    try:
        assert isinstance(address, Mapping)
        return Pharmacy(
            str(doc["ncpdp_id"]),
            str(doc["npi"]),
            str(doc["name"]),
            Address(
                str(address["street"]),
                str(address["city"]),
                str(address["state"]),
                str(address["postal_code"]),
            ),
        )
    except (KeyError, AssertionError):
        problems.append(Problem("pharmacy", "pharmacy-missing", "names no complete pharmacy"))
    except PharmacyInvalid as e:
        problems.append(Problem("pharmacy", "pharmacy-invalid", str(e)))
    return None
