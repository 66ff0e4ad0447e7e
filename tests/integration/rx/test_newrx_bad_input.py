"""Bad NewRx input gets a clear reason and is kept exactly as received."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csos_desktop.domain.script.safe_xml import MAX_BYTES
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.rx.receive import Received, receive
from csos_desktop.store import Store, open_store
from tests.integration.rx.test_newrx_pharmacy import MAIN_STREET, Token, sign_newrx, trust_of
from tests.unit.script.samples import sample_pharmacy, sample_prescription
from tests.unit.script.test_safe_xml import BILLION_LAUGHS


@pytest.fixture()
def pharmacy_store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "pharmacy.db") as s:
        yield s


@pytest.fixture()
def signed(token: Token, test_ca: TestCa) -> bytes:
    """A good NewRx to Main Street Pharmacy, signed on the token."""
    assert sample_pharmacy().ncpdp_id == MAIN_STREET
    return sign_newrx(token, test_ca, sample_prescription(datetime.now(UTC)), sample_pharmacy())


def _receive(store: Store, ca: TestCa, message: bytes, source: str = "newrx.xml") -> Received:
    return receive(
        store,
        message,
        own_ncpdp_id=MAIN_STREET,
        source=source,
        trust=trust_of(ca),
        now=datetime.now(UTC),
    )


def _kept(store: Store, ca: TestCa, message: bytes, source: str = "newrx.xml") -> list[str]:
    got = _receive(store, ca, message, source)
    kept = store.script.get(got.record.message_id)
    assert kept.message == message and kept.source == source and kept.verdict == "not-verified"
    assert kept.answer is not None and b"<Error><Code>900</Code>" in kept.answer
    assert got.verification.findings and all(f.message for f in got.verification.findings)
    return [f.code for f in got.verification.findings]


def test_a_good_message_from_a_file_is_verified(
    pharmacy_store: Store, test_ca: TestCa, signed: bytes
) -> None:
    got = _receive(pharmacy_store, test_ca, signed)
    assert got.verification.verdict.value == "verified", got.verification.findings


def test_billion_laughs_is_kept_with_its_reason(pharmacy_store: Store, test_ca: TestCa) -> None:
    assert _kept(pharmacy_store, test_ca, BILLION_LAUGHS) == ["xml-doctype-refused"]


def test_a_huge_document_is_kept_with_its_reason(pharmacy_store: Store, test_ca: TestCa) -> None:
    huge = b"<Message>" + b" " * MAX_BYTES + b"</Message>"
    assert _kept(pharmacy_store, test_ca, huge) == ["xml-too-large"]


def test_a_missing_1306_05_element_is_kept_with_its_reason(
    pharmacy_store: Store, test_ca: TestCa, signed: bytes
) -> None:
    start = signed.index(b"<DEANumber>")
    end = signed.index(b"</DEANumber>") + len(b"</DEANumber>")
    assert _kept(pharmacy_store, test_ca, signed[:start] + signed[end:]) == ["missing"]


def test_a_signature_over_other_bytes_is_kept_with_its_reason(
    pharmacy_store: Store, test_ca: TestCa, signed: bytes
) -> None:
    changed = signed.replace(b"<Value>20</Value>", b"<Value>80</Value>")
    assert changed != signed
    assert _kept(pharmacy_store, test_ca, changed) == ["digest-mismatch", "signature-invalid"]


def test_an_unknown_schedule_code_is_kept_with_its_reason(
    pharmacy_store: Store, test_ca: TestCa, signed: bytes
) -> None:
    changed = signed.replace(b"<Code>C48675</Code>", b"<Code>C00000</Code>")
    assert _kept(pharmacy_store, test_ca, changed) == ["schedule-code-unknown"]


def test_the_kept_record_never_changes(
    pharmacy_store: Store, test_ca: TestCa, signed: bytes
) -> None:
    got = _receive(pharmacy_store, test_ca, signed)
    for sql in (
        "UPDATE script_messages SET message = x'00'",
        "UPDATE script_messages SET verdict = 'verified'",
        "DELETE FROM script_messages",
    ):
        with pytest.raises(sqlite3.DatabaseError):
            pharmacy_store.conn.execute(sql)
    assert pharmacy_store.script.get(got.record.message_id).message == signed


def test_another_system_s_unsigned_newrx_is_kept_and_answered_to_its_sender(
    pharmacy_store: Store, test_ca: TestCa
) -> None:
    # Written by another prescribing system (tests/unit/script/test_newrx_foreign.py): read
    # in full, kept as received, and its answer relates to *its* MessageID and goes to its
    # From, as SCRIPT answers do.
    from tests.unit.script.test_newrx_foreign import FOREIGN

    got = _receive(pharmacy_store, test_ca, FOREIGN.encode())
    kept = pharmacy_store.script.get(got.record.message_id)
    assert kept.message == FOREIGN.encode()
    assert got.verification.newrx is not None  # read, whatever the verdict on its signature
    assert kept.answer is not None
    assert b"<RelatesToMessageID>a1b2c3d4e5f6</RelatesToMessageID>" in kept.answer
    assert b"<To>EHRVENDOR01</To>" in kept.answer
    assert b'xmlns="http://www.ncpdp.org/schema/SCRIPT"' in kept.answer
