"""1305.26 at the distributor: the lost-order statement's endpoint, checks and effect.

`csos` commands on the SoftHSM2 token and `csos sync` against the running sandbox
distributor over TLS (the helpers of test_legal_workflow).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from csos_desktop.domain.notices import LostOrderStatement
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.db import lost_order_statements
from csos_desktop.store import open_store
from csos_desktop.store.notices import NoticeOutcome
from csos_desktop.sync.errors import DistributorRefused
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import StartSandbox
from tests.integration.distributor.test_legal_workflow import Pharmacy, _pharmacy


@pytest.fixture
def ph(
    start_sandbox: StartSandbox, rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> Pharmacy:
    return _pharmacy(start_sandbox(), rsa_token, test_ca, tmp_path)


def test_a_statement_for_an_order_the_distributor_holds_voids_its_open_balance(
    ph: Pharmacy, tmp_path: Path
) -> None:
    original = ph.new_order(tmp_path)
    ph.sync()
    assert ph.show(original)["state"] == "accepted"  # received, not yet shipped

    lost = ph.signing("order", "lost", original, "--explanation", "never delivered to us")
    assert lost.exit_code == 0, lost.output
    ph.sync()
    distributor = ph.sandbox.running.distributor
    with distributor.engine.connect() as conn:
        [kept] = conn.execute(select(lost_order_statements)).all()
    assert kept.order_id == original and kept.original_status == "accepted"
    with ph.sandbox.client() as client:
        record = client.order(original)
        # Its open balance will not ship: an order and its replacement are never both filled.
        assert record.status == "cancelled"
        assert all(ln.quantity_voided == ln.quantity_ordered for ln in record.lines)
        distributor.fulfil()
        assert all(ln.quantity_shipped == 0 for ln in client.order(original).lines)
    events = [str(e["event"]) for e in ph.show(original)["audit"]]  # type: ignore[index, union-attr]
    assert "order.lost-statement-delivered" in events


def test_a_forged_statement_is_refused_and_one_id_names_one_signed_statement(
    ph: Pharmacy, tmp_path: Path
) -> None:
    original = ph.new_order(tmp_path)
    ph.sync()
    lost = ph.signing("order", "lost", original, "--explanation", "lost in the mail room")
    assert lost.exit_code == 0, lost.output
    with open_store(ph.db) as store:
        [notice] = store.notices.for_order(original)
    # Same fields and text, another explanation: it reads well, but it is not what was signed.
    forged = replace(
        LostOrderStatement.from_document(json.loads(notice.document)),
        explanation="something else entirely",
    ).canonical_bytes()
    with ph.sandbox.client() as client, pytest.raises(DistributorRefused) as refused:
        client.declare_lost(original, notice.notice_id, forged, notice.signature)
    assert refused.value.status == 422
    assert refused.value.problem.code == "statement-signature-invalid"
    with ph.sandbox.running.distributor.engine.connect() as conn:
        assert conn.execute(select(lost_order_statements)).all() == []
    # The statement as signed goes through; the distributor keeps only that one.
    ph.sync()
    with open_store(ph.db) as store:
        assert store.notices.get(notice.notice_id).outcome is NoticeOutcome.ACCEPTED
    tampered = notice.document.replace(b"lost in the mail room", b"lost in the mail-room")
    with ph.sandbox.client() as client, pytest.raises(DistributorRefused) as conflict:
        client.declare_lost(original, notice.notice_id, tampered, notice.signature)
    assert conflict.value.status == 409  # one id names one signed statement
