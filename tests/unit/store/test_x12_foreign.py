"""855, 856 and 997 as other suppliers' EDI software writes them, taken into a real store.

Written here by hand, as a distributor's 4010 implementation guide shows them, not by our
writer: GS08 "004010VICS", the order named by its PO number only (no CSOS order ID), NDCs
under other qualifiers and beside a UPC, a CTP between a line and its ACK, other BAK and
ACK codes, the 856's shipment / order / pack / item levels with the ship date at the
shipment level and no line numbers, line breaks as segment terminators, a 997 "accepted
with errors". Each is kept, linked to the order, and pre-fills the receipt.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from csos_desktop.domain.x12.replies import AckStatus, LineStatus, OrderAck, ShipNotice
from csos_desktop.domain.x12.syntax import X12Error, read_interchange
from csos_desktop.services.orders.x12_intake import prefill_from_856
from csos_desktop.store import Store, lifecycle
from csos_desktop.sync.x12_intake import receive_x12
from tests.unit.store.helpers import Clock, SoftwareOrderSigner
from tests.unit.store.test_lifecycle import signed


def _isa(kind: str, control: int, gs08: str = "004010VICS", sep: str = "*", end: str = "~") -> str:
    isa = sep.join(
        ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "MCKDIST        ", "ZZ",
         "AB1234563      ", "261206", "1200", "U", "00401", f"{control:09d}", "0", "P", ">"]
    )  # fmt: skip
    gs = sep.join(["GS", kind, "MCKDIST", "AB1234563", "20261206", "1200", str(control), "X", gs08])
    return isa + end + gs + end


def _interchange(kind: str, st: str, body: list[str], control: int, **kw: str) -> bytes:
    end = kw.get("end", "~")
    head = _isa(kind, control, **kw)
    segs = [f"ST*{st}*0001", *body, f"SE*{len(body) + 2}*0001"]
    tail = [f"GE*1*{control}", f"IEA*1*{control:09d}"]
    return (head + end.join(segs + tail) + end).encode()


@pytest.fixture()
def order(store: Store, clock: Clock, signer: SoftwareOrderSigner) -> tuple[str, str, list[str]]:
    """A submitted order: its ID, number and line NDCs (11 digits)."""
    oid = signed(store, clock, signer)
    msg = next(m for m in store.outbox.pending() if m.record_id == oid)
    lifecycle.mark_submitted(store, oid, msg.outbox_id, now=clock())
    rec = store.orders.get(oid)
    lines = store.orders.order(oid).lines
    return oid, rec.order_number, [ln.ndc.digits for ln in lines]


def _855(number: str, ndcs: list[str]) -> bytes:
    first, second = ndcs[0], ndcs[1]
    return _interchange(
        "PR",
        "855",
        [
            f"BAK*00*AE*{number}*20261206",
            "DTM*068*20261207",
            # N4 beside a UPC; then ND written with hyphens, after a CTP.
            f"PO1*1*2*EA*12.50**UP*300000000001*N4*{first}",
            "CTP**CON*12.50",
            "ACK*IQ*1*EA*068*20261207",
            f"PO1*2*1*EA***ND*{second[:5]}-{second[5:9]}-{second[9:]}",
            "PID*F****ALPRAZOLAM 1MG TAB",
            "ACK*IB*1*EA",
            "CTT*2",
        ],
        101,
    )


def _856(number: str, ndcs: list[str], end: str = "~") -> bytes:
    first, second = ndcs[0], ndcs[1]
    return _interchange(
        "SH",
        "856",
        [
            "BSN*00*0004432187*20261206*1435*0001",
            "HL*1**S",
            "TD1*CTN25*1****G*2.5*LB",
            "TD5*B*2*UPSN*U",
            "REF*BM*1Z9999999999999999",
            "DTM*011*20261205",
            "N1*ST*MAIN STREET PHARMACY*15*AB1234563",
            "HL*2*1*O",
            f"PRF*{number}***20261201",
            "HL*3*2*P",
            "MAN*GM*00100000000000000011",
            "HL*4*3*I",
            f"LIN**UP*300000000001*N4*{first}",
            "SN1**1*EA",
            "PID*F****OXYCODONE HCL 5MG TAB",
            "HL*5*3*I",
            f"LIN**ND*{second}",
            "SN1**1.000*EA",  # X12 quantities are decimals
            "CTT*5",
        ],
        102,
        end=end,
    )


def test_another_supplier_s_855_is_linked_by_the_order_number(
    store: Store, order: tuple[str, str, list[str]]
) -> None:
    oid, number, ndcs = order
    got = receive_x12(store, _855(number, ndcs))
    assert got.problem is None and got.order_id == oid
    ack = got.document
    assert isinstance(ack, OrderAck)
    assert ack.status is AckStatus.ACCEPTED_WITH_CHANGES and ack.order_id == ""
    assert [(ln.line_no, ln.ndc.digits, ln.status, ln.quantity) for ln in ack.lines] == [
        (1, ndcs[0], LineStatus.ACCEPTED, 1),
        (2, ndcs[1], LineStatus.BACKORDERED, 1),
    ]


@pytest.mark.parametrize("end", ["~", "\n", "\r\n"], ids=["tilde", "LF", "CRLF"])
def test_another_supplier_s_856_prefills_the_receipt_by_ndc(
    store: Store, order: tuple[str, str, list[str]], end: str
) -> None:
    oid, number, ndcs = order
    got = receive_x12(store, _856(number, ndcs, end))
    assert got.problem is None and got.order_id == oid, got.problem
    notice = got.document
    assert isinstance(notice, ShipNotice) and notice.order_number == number
    assert [ln.line_no for ln in notice.lines] == [0, 0]  # no line numbers sent
    prefill = prefill_from_856(store, oid)
    assert [(r.line_no, r.quantity_received, r.date_received.isoformat()) for r in prefill] == [
        (1, 1, "2026-12-05"),  # the shipment's date, as no item carries one
        (2, 1, "2026-12-05"),
    ]
    assert receive_x12(store, _856(number, ndcs, end)).control_number == got.control_number


def test_a_997_accepted_with_errors_counts_as_accepted(store: Store) -> None:
    data = _interchange(
        "FA", "997", ["AK1*PO*7", "AK2*850*0001", "AK3*PO1*5**8", "AK5*E", "AK9*E*1*1*1"], 103
    )
    got = receive_x12(store, data)
    assert got.problem is None and got.transaction_set == "997"
    assert got.document is not None and got.document.accepted is True


def test_a_number_this_store_does_not_hold_is_kept_not_linked(
    store: Store, order: tuple[str, str, list[str]]
) -> None:
    _, _, ndcs = order
    got = receive_x12(store, _856("26X999999", ndcs))
    assert got.order_id is None and got.problem is not None
    assert "no order numbered '26X999999'" in got.problem
    assert store.x12.get(got.control_number).document == _856("26X999999", ndcs)  # kept


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda t: t.replace("004010VICS", "003050"), "group version '003050'"),
        (lambda t: t.replace("*00401*", "*00305*"), "interchange version '00305'"),
        (
            lambda t: t.replace("SE*", "SE*1*0001~ST*856*0002~SE*", 1),
            "holds 2 transaction sets",
        ),
    ],
)
def test_what_cannot_be_read_says_why(change: Callable[[str], str], words: str) -> None:
    text = _856("26X000001", ["00406055201", "59762372001"]).decode()
    with pytest.raises(X12Error, match=words.replace("(", r"\(")):
        read_interchange(change(text).encode())
