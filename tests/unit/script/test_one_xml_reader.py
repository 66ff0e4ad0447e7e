"""No module of the product parses XML except through domain/script/safe_xml."""

from __future__ import annotations

import ast
from pathlib import Path

import csos_desktop

PACKAGE = Path(csos_desktop.__file__).parent
#: Modules that may name an XML parser: the safe reader, and the writers that only serialise
#: (ElementTree.canonicalize parses the writer's own output, never received bytes).
ALLOWED = {
    "domain/script/safe_xml.py",
    "domain/script/newrx.py",
    "domain/script/answer.py",
}
PARSERS = ("xml", "lxml", "defusedxml", "xmltodict", "bs4")


def test_every_xml_import_is_in_the_safe_reader_or_a_writer() -> None:
    found = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] in PARSERS for n in names) and rel not in ALLOWED:
                found.append(f"{rel}:{node.lineno}")
    assert not found, f"XML parsing outside domain/script/safe_xml: {found}"


def test_the_readers_of_received_bytes_call_parse_xml() -> None:
    newrx = (PACKAGE / "domain/script/newrx.py").read_text(encoding="utf-8")
    assert "parse_xml(data" in newrx
    assert "ET.fromstring" not in newrx and "ET.parse" not in newrx and "XMLParser" not in newrx
