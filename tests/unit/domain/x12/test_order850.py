"""The 850 carries every 1305.21(b) field in its stated place and reads back to the same order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csos_desktop.domain.order import Order
from csos_desktop.domain.x12.order850 import build_850, read_850
from csos_desktop.domain.x12.syntax import ISA_LENGTH, X12Error, X12Reason
from tests.unit.domain.samples import PURCHASER_DEA, SUPPLIER_DEA, sample_order
from tests.unit.domain.strategies import FAST, orders

AT = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def signed_sample() -> Order:
    return sample_order().with_date_signed(date(2026, 11, 25))


def x12(order: Order | None = None, control: int = 42) -> bytes:
    return build_850(order or signed_sample(), control_number=control, prepared_at=AT)


def segments(data: bytes) -> list[list[str]]:
    return [s.lstrip("\n").split("*") for s in data.decode().split("~")[:-1]]


def find(data: bytes, tag: str, **where: str) -> list[str]:
    hits = [
        s
        for s in segments(data)
        if s[0] == tag and all(s[int(k[1:])] == v for k, v in where.items())
    ]
    assert len(hits) == 1, (tag, where, hits)
    return hits[0]


def test_every_1305_21_b_field_sits_in_its_stated_place() -> None:
    data = x12()
    assert find(data, "BEG")[1:6] == ["00", "SA", "26X000123", "", "20261125"]
    assert find(data, "DTM", e1="004")[2] == "20261125"
    by = find(data, "N1", e1="BY")
    assert by[1:5] == ["BY", "Main Street Pharmacy", "11", PURCHASER_DEA]
    su = find(data, "N1", e1="SU")
    assert su[1:5] == ["SU", "Keystone Wholesale Drug Co.", "11", SUPPLIER_DEA]
    assert find(data, "N3", e1="120 Main Street")
    assert find(data, "N4", e1="Columbus")[1:4] == ["Columbus", "OH", "43219-1234"]
    po1 = find(data, "PO1", e1="1")
    assert po1[1:8] == ["1", "2", "EA", "", "", "N4", "00406055201"]
    assert find(data, "PID", e5="Oxycodone Hydrochloride")[1:3] == ["F", "08"]
    assert find(data, "PID", e5="500 mg")[3:5] == ["ZZ", "STRENGTH"]
    assert find(data, "PO4", e1="500")
    assert find(data, "CTT") == ["CTT", "3", "6"]


def test_envelope_follows_x12_rules() -> None:
    data = x12(control=7)
    text = data.decode()
    isa = text[:ISA_LENGTH]
    assert len(isa.split("*")) == 17 and isa[3] == "*" and isa[104] == ">" and isa[105] == "~"
    isa_el = isa[:-1].split("*")
    assert isa_el[6] == f"{PURCHASER_DEA:<15}" and isa_el[8] == f"{SUPPLIER_DEA:<15}"
    assert isa_el[12:14] == ["00401", "000000007"]
    assert find(data, "GS")[1:9] == [
        "PO",
        PURCHASER_DEA,
        SUPPLIER_DEA,
        "20261125",
        "1430",
        "7",
        "X",
        "004010",
    ]
    body = [s for s in segments(data) if s[0] not in ("ISA", "GS", "GE", "IEA")]
    assert find(data, "SE") == ["SE", str(len(body)), "0001"]
    assert find(data, "GE") == ["GE", "1", "7"]
    assert find(data, "IEA") == ["IEA", "1", "000000007"]


def test_separators_avoid_characters_in_the_order_text() -> None:
    order = signed_sample()
    order = replace(order, purchaser=replace(order.purchaser, name="Stars * and ~ tildes > here"))
    data = x12(order)
    assert data[3:4] == b"|" and data[104:106] == b":'"
    assert read_850(data) == order


def x12_orders() -> st.SearchStrategy[Order]:
    """Orders whose numbers fit the 850's element widths (PO102 15 digits, PO401 6)."""

    def fit(o: Order) -> Order:
        lines = tuple(
            replace(
                ln, package_size=ln.package_size % 999_999 + 1, quantity=ln.quantity % 10**9 + 1
            )
            for ln in o.lines
        )
        return replace(o, lines=lines)

    return orders().map(fit)


@FAST
@given(x12_orders(), st.integers(1, 999_999_999))
def test_order_to_850_and_back_is_the_same_order(order: Order, control: int) -> None:
    assert read_850(build_850(order, control_number=control, prepared_at=AT)) == order


def test_a_field_too_long_for_the_850_is_refused_with_its_place() -> None:
    order = signed_sample()
    order = replace(order, purchaser=replace(order.purchaser, name="N" * 61))
    with pytest.raises(X12Error) as e:
        x12(order)
    assert e.value.reason is X12Reason.FIELD_TOO_LONG and "purchaser.name" in str(e.value)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda t: t.replace("IEA*1*000000042", "IEA*1*000000043"), X12Reason.CONTROL_MISMATCH),
        (lambda t: t.replace("SE*", "SE*9"), X12Reason.CONTROL_MISMATCH),
        (lambda t: t.replace("GE*1*42", "GE*1*41"), X12Reason.CONTROL_MISMATCH),
        (lambda t: t.replace("CTT*3", "CTT*2"), X12Reason.CONTROL_MISMATCH),
        (lambda t: t.replace("*", "|", 1), X12Reason.SEPARATORS),
        (lambda t: t[:105] + "A" + t[106:], X12Reason.SEPARATORS),  # a letter ends segments
        (lambda t: "ISB" + t[3:], X12Reason.MALFORMED),
        (lambda t: t[:200], X12Reason.MALFORMED),
        (
            lambda t: t.replace("N1*BY*Main Street Pharmacy*11", "N1*BY*Main Street Pharmacy*ZZ"),
            X12Reason.MISSING_FIELD,
        ),
        (
            lambda t: t.replace("N4*Columbus*OH*43219-1234", "N4*Columbus*OH"),
            X12Reason.MISSING_FIELD,
        ),
        (
            lambda t: t.replace("PID*F*08***Alprazolam~\n", "").replace("SE*30", "SE*29"),
            X12Reason.MISSING_FIELD,
        ),
        (lambda t: t.replace("ST*850", "ST*855"), X12Reason.WRONG_DOCUMENT),
    ],
)
def test_bad_850_gets_a_stable_reason(change: Callable[[str], str], reason: X12Reason) -> None:
    text = x12().decode()
    bad = change(text)
    assert bad != text
    with pytest.raises(X12Error) as e:
        read_850(bad.encode())
    assert e.value.reason is reason, e.value


def test_non_text_bytes_are_malformed() -> None:
    with pytest.raises(X12Error) as e:
        read_850(b"ISA\xff" + b"*" * 200)
    assert e.value.reason is X12Reason.MALFORMED


def test_text_holding_every_printable_separator_falls_back_to_control_separators() -> None:
    order = signed_sample()
    everything = "*|^!` >:\\{} ~'@#$"
    order = replace(order, supplier=replace(order.supplier, name=everything))
    data = x12(order)
    assert data[3:4] == b"\x1d" and data[104:106] == b"\x1f\x1e"
    assert read_850(data) == order


def test_segments_ended_by_line_breaks_read_as_the_same_order() -> None:
    # Some partners end segments with a line break instead of a character (CR LF here).
    text = x12().decode()
    assert read_850(text.replace("~\n", "\r\n").encode()) == read_850(text.encode())
