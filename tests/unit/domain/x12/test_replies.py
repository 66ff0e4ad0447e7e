"""855, 856 and 997: written, read back, and read the same by the 4010 grammars."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import edi_parser
import pytest
from click.testing import CliRunner

from csos_desktop.cli import main
from csos_desktop.domain.ndc import Ndc
from csos_desktop.domain.x12.order850 import build_850
from csos_desktop.domain.x12.replies import (
    AckLine,
    AckStatus,
    FunctionalAck,
    LineStatus,
    OrderAck,
    ShipNotice,
    ShippedLine,
    acknowledge,
    build_reply,
    read_reply,
)
from csos_desktop.domain.x12.syntax import X12Error, X12Reason, read_interchange
from tests.unit.domain.samples import PURCHASER_DEA, SAMPLE_ORDER_ID, SUPPLIER_DEA, sample_order

AT = datetime(2026, 11, 26, 9, 15, tzinfo=UTC)
OXY, ALPRAZOLAM = Ndc("00406055201"), Ndc("59762372001")

ACCEPTED_IN_PART = OrderAck(
    SAMPLE_ORDER_ID,
    "26X000123",
    date(2026, 11, 26),
    AckStatus.ACCEPTED_WITH_CHANGES,
    (
        AckLine(1, OXY, 2, LineStatus.ACCEPTED, 2),
        AckLine(2, ALPRAZOLAM, 1, LineStatus.BACKORDERED, 1),
    ),
)
REJECTED = OrderAck(
    SAMPLE_ORDER_ID,
    "26X000123",
    date(2026, 11, 26),
    AckStatus.REJECTED,
    reason_code="dea-number-mismatch",
    reason="the certificate's DEA number hash does not match the purchaser",
)
SHIPPED = ShipNotice(
    "SHP-0001",
    SAMPLE_ORDER_ID,
    "26X000123",
    AT,
    (ShippedLine(1, OXY, 2, date(2026, 11, 26)), ShippedLine(2, ALPRAZOLAM, 1, date(2026, 11, 27))),
)
RECEIVED_OK = FunctionalAck("PO", 42, "850", True)


def interchange(doc: OrderAck | ShipNotice | FunctionalAck) -> bytes:
    return build_reply(
        doc, sender=SUPPLIER_DEA, receiver=PURCHASER_DEA, control_number=9, prepared_at=AT
    )


@pytest.mark.parametrize("doc", [ACCEPTED_IN_PART, REJECTED, SHIPPED, RECEIVED_OK])
def test_each_reply_reads_back_the_same(doc: OrderAck | ShipNotice | FunctionalAck) -> None:
    env, read = read_reply(interchange(doc))
    assert read == doc and (env.sender, env.receiver) == (SUPPLIER_DEA, PURCHASER_DEA)


@pytest.mark.parametrize("doc", [ACCEPTED_IN_PART, REJECTED, SHIPPED, RECEIVED_OK])
def test_the_4010_grammars_accept_each_reply(doc: OrderAck | ShipNotice | FunctionalAck) -> None:
    checked = edi_parser.validate_edi(
        content=interchange(doc), editype="x12", messagetype="envelope"
    )
    assert checked["valid"], checked["errors"]


def test_bots_reads_the_856_quantities_and_dates_per_line() -> None:
    parsed = edi_parser.parse_edi(
        content=interchange(SHIPPED), editype="x12", messagetype="envelope"
    )
    found: list[tuple[str, str]] = []

    def walk(node: dict[str, object]) -> None:
        kids = node.get("_children", node.get("children", []))
        assert isinstance(kids, list)
        sn1 = [k for k in kids if k.get("BOTSID") == "SN1"]
        dtm = [k for k in kids if k.get("BOTSID") == "DTM"]
        if sn1:
            found.append((sn1[0]["SN102"], dtm[0]["DTM02"]))
        for k in kids:
            walk(k)

    walk(parsed["data"])
    assert found == [("2", "20261126"), ("1", "20261127")]


def test_a_997_acknowledges_the_group_it_received() -> None:
    sent = build_850(sample_order(), control_number=42, prepared_at=AT)
    env = read_interchange(sent).envelope
    assert acknowledge(env, "850", True) == RECEIVED_OK


def test_an_850_is_not_a_reply() -> None:
    with pytest.raises(X12Error) as e:
        read_reply(build_850(sample_order(), control_number=1, prepared_at=AT))
    assert e.value.reason is X12Reason.WRONG_DOCUMENT


def test_csos_x12_show_prints_each_document_in_plain_words(tmp_path: Path) -> None:
    files = {
        "po.x12": build_850(sample_order(), control_number=1, prepared_at=AT),
        "ack.x12": interchange(REJECTED),
        "asn.x12": interchange(SHIPPED),
        "fa.x12": interchange(RECEIVED_OK),
    }
    said = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        done = CliRunner().invoke(main, ["x12", "show", str(tmp_path / name)])
        assert done.exit_code == 0, done.output
        said[name] = done.output
    assert "Purchase order (850) 26X000123" in said["po.x12"]
    assert (
        "line 1: 2 x 100 Oxycodone Hydrochloride 5 mg tablet, NDC 00406-0552-01" in said["po.x12"]
    )
    assert "REJECTED" in said["ack.x12"] and "dea-number-mismatch" in said["ack.x12"]
    assert "line 2: 1 package(s) shipped on 2026-11-27" in said["asn.x12"]
    assert "850 group 42 (PO) accepted" in said["fa.x12"]
    (tmp_path / "bad.x12").write_bytes(files["ack.x12"].replace(b"IEA*1*000000009", b"IEA*1*1"))
    bad = CliRunner().invoke(main, ["x12", "show", str(tmp_path / "bad.x12")])
    assert bad.exit_code == 2 and "IEA02" in bad.output
