"""The pharmacy's AS2 endpoint (`csos as2 serve`'s handler) on a real store: a 997 from the
distributor is kept and answered with a processed MDN; a message from a stranger's key, to
another AS2 identifier, or unsigned is kept with its reason and answered with an error MDN."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from csos_desktop.domain.x12.replies import FunctionalAck, build_reply
from csos_desktop.pki.as2_message import As2Error, As2Party, As2Problem, build_message, verify_mdn
from csos_desktop.store import Store, open_store
from csos_desktop.store.audit import AuditEvent
from csos_desktop.sync.as2_inbox import As2Inbox
from tests.integration.test_as2 import DISTRIBUTOR, NOW, PHARMACY, STRANGER

ACK = build_reply(
    FunctionalAck("PO", 7, "850", True),
    sender="RK0452716",
    receiver="AB1234563",
    control_number=7,
    prepared_at=NOW,
)
INBOX = As2Inbox(PHARMACY, "PHARMACY", DISTRIBUTOR.certificate, "DISTRIBUTOR")


def message(
    sender: As2Party = DISTRIBUTOR, *, to: str = "PHARMACY", message_id: str = "<m@dist>"
) -> tuple[dict[str, str], bytes, str]:
    ctype, body, mic = build_message(
        ACK,
        sender,
        PHARMACY.certificate,
        NOW,
        message_id=message_id,
        payload_type="application/edi-x12",
    )
    headers = {
        "Content-Type": ctype,
        "AS2-From": "DISTRIBUTOR",
        "AS2-To": to,
        "Message-ID": message_id,
        # What the distributor's AS2 software asks for (sync.as2.send_as2 sends the same).
        "Disposition-Notification-To": "DISTRIBUTOR",
        "Disposition-Notification-Options": "signed-receipt-protocol=required, "
        "pkcs7-signature; signed-receipt-micalg=required, sha-256",
    }
    return headers, body, mic


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db") as s:
        yield s


def _received(store: Store) -> list[tuple[object, ...]]:
    return [
        (e.details.get("transaction_set"), e.details.get("problem"))
        for e in store.audit.entries()
        if e.event == AuditEvent.X12_RECEIVED
    ]


def test_a_997_from_the_distributor_is_kept_and_answered_processed(store: Store) -> None:
    headers, body, mic = message()
    got = INBOX.handle(store, headers, body)
    mdn = verify_mdn(
        got.mdn_type, got.mdn, PHARMACY.certificate, message_id="<m@dist>", sent_mic=mic
    )
    assert mdn.processed and got.problem is None
    assert got.received is not None and got.received.transaction_set == "997"
    assert store.x12.get(got.received.control_number).document == ACK  # byte for byte
    assert _received(store) == [("997", None)]
    assert store.audit.verify().intact


@pytest.mark.parametrize(
    ("sender", "to", "code"),
    [
        (STRANGER, "PHARMACY", "as2-signature"),  # signed by another key than the partner's
        (DISTRIBUTOR, "SOMEONE-ELSE", "as2-unknown-partner"),
    ],
)
def test_a_message_that_cannot_be_trusted_is_kept_and_refused_in_the_mdn(
    store: Store, sender: As2Party, to: str, code: str
) -> None:
    headers, body, mic = message(sender, to=to)
    got = INBOX.handle(store, headers, body)
    with pytest.raises(As2Error) as e:
        verify_mdn(got.mdn_type, got.mdn, PHARMACY.certificate, message_id="<m@dist>", sent_mic=mic)
    assert e.value.problem is As2Problem.MDN_FAILED and code in str(e.value)
    assert got.received is None and got.problem is not None and got.problem.startswith(code)
    [(kind, problem)] = _received(store)
    assert kind == "AS2" and str(problem).startswith(code)


def test_an_unsigned_message_is_kept_and_refused(store: Store) -> None:
    headers = {"Content-Type": "application/edi-x12", "AS2-From": "DISTRIBUTOR",
               "AS2-To": "PHARMACY", "Message-ID": "<u@dist>"}  # fmt: skip
    got = INBOX.handle(store, headers, ACK)
    assert got.problem is not None and got.problem.startswith("as2-not-signed")
    assert b"processed/error: as2-not-signed" in got.mdn
    [(kind, problem)] = _received(store)
    assert kind == "AS2" and str(problem).startswith("as2-not-signed")  # kept, not lost
