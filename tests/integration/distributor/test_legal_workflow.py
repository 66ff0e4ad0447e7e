"""Cancellations, supplier voids, the 60-day void and lost orders, as a pharmacist runs them.

`csos` commands on the SoftHSM2 token, `csos sync` against the sandbox distributor
over TLS, the local store read back; nothing stands in for our own components.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from csos_desktop.cli import main
from csos_desktop.domain.order_state import OrderState
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.db import lost_order_statements
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentMode
from csos_desktop.store import lifecycle, open_store
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.notices import NoticeOutcome
from tests.conftest import TEST_PIN, Provisioned, trust_sandbox_root
from tests.integration.distributor.conftest import Sandbox, StartSandbox, seed_crl_cache
from tests.registrant import record_registrant_at
from tests.unit.store.helpers import order_input

# Token work on its own thread, TLS on this one (SoftHSM2 leaves OpenSSL errors per thread).
_TOKEN = ThreadPoolExecutor(max_workers=1, thread_name_prefix="token")


@dataclass
class Pharmacy:
    """A CSOS_HOME, the token, and the sandbox it orders from."""

    home: Path
    prov: Provisioned
    chain: Path
    sandbox: Sandbox

    def run(self, *args: str, stdin: str = "") -> Result:
        env = {"CSOS_HOME": str(self.home), "CSOS_PKCS11_MODULE": self.prov.hsm.module}
        return CliRunner().invoke(main, list(args), input=stdin, env=env, catch_exceptions=False)

    def signing(self, *args: str) -> Result:
        """A command that signs on the token (PIN on stdin), run on the token thread."""
        full = [*args, "--token", self.prov.label, "--chain", str(self.chain), "--pin-stdin"]
        return _TOKEN.submit(lambda: self.run(*full, stdin=TEST_PIN + "\n")).result()

    def sync(self) -> dict[str, object]:
        done = self.run(
            "sync",
            "--once",
            "--json",
            "--url",
            self.sandbox.url,
            "--ca-bundle",
            str(self.sandbox.running.tls.ca_bundle),
        )
        assert done.exit_code == 0, done.output
        return dict(json.loads(done.stdout))

    def new_order(self, tmp: Path) -> str:
        (tmp / "order.json").write_text(json.dumps(order_input()))
        imported = self.run("order", "import", str(tmp / "order.json"), "--json")
        assert imported.exit_code == 0, imported.output
        order_id = str(json.loads(imported.stdout)[0]["order_id"])
        signed = self.signing("order", "sign", "--draft", order_id)
        assert signed.exit_code == 0, signed.output
        return order_id

    def show(self, order_id: str) -> dict[str, object]:
        shown = self.run("order", "show", order_id, "--json")
        assert shown.exit_code == 0, shown.output
        return dict(json.loads(shown.stdout))

    @property
    def db(self) -> Path:
        return self.home / "data" / "csos.db"


def _pharmacy(sandbox: Sandbox, prov: Provisioned, ca: TestCa, tmp_path: Path) -> Pharmacy:
    chain = tmp_path / "chain.pem"
    chain.write_bytes(ca.issuing_certificate.public_bytes(Encoding.PEM))
    trust_sandbox_root(ca, tmp_path / "home")
    # The CA's CRLs where `csos sync` finds them: its statements' signer must be covered.
    seed_crl_cache(ca, tmp_path / "home" / "data" / "crl")
    ph = Pharmacy(tmp_path / "home", prov, chain, sandbox)
    record_registrant_at(ph.db, prov)  # the orders carry schedule II (1305.05)
    login = ph.run("sync", "login", "--url", sandbox.url, "--token-stdin", stdin=sandbox.token)
    assert login.exit_code == 0, login.output
    return ph


@pytest.fixture
def partial(
    start_sandbox: StartSandbox, rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> Pharmacy:
    """A distributor that ships half of each line on its first pass."""
    return _pharmacy(start_sandbox(mode=FulfilmentMode.PARTIAL), rsa_token, test_ca, tmp_path)


def _events(ph: Pharmacy, order_id: str) -> list[str]:
    return [str(e["event"]) for e in ph.show(order_id)["audit"]]  # type: ignore[index, union-attr]


def test_cancelling_before_shipping_is_accepted_and_after_shipping_refused(
    partial: Pharmacy,
) -> None:
    ph = partial
    order_id = ph.new_order(ph.home.parent)
    ph.sync()
    assert ph.show(order_id)["state"] == "accepted"

    # Before anything ships: cancel the one package of line 2.
    cancelled = ph.signing("order", "cancel", order_id, "--line", "2=1", "--reason", "not needed")
    assert cancelled.exit_code == 0, cancelled.output
    assert TEST_PIN not in cancelled.output
    report = ph.sync()
    assert len(report["sent"]) == 1  # type: ignore[arg-type]
    record = ph.sandbox.client().order(order_id)
    assert [(ln.line_no, ln.quantity_cancelled) for ln in record.lines] == [(1, 0), (2, 1), (3, 0)]

    # The distributor ships half of lines 1 and 3; line 2 no longer ships.
    ph.sandbox.running.distributor.fulfil()
    ph.sync()
    assert ph.show(order_id)["state"] == "shipped-partial"

    # Cancelling both packages of line 1 now asks for one that shipped: refused before the
    # PIN by the client (it knows what shipped), and by the distributor when sent anyway.
    early = ph.signing("order", "cancel", order_id, "--line", "1=2", "--reason", "not needed")
    assert early.exit_code == 2 and "only 1 are still open" in early.output
    # As if the last sync had not happened yet: no shipment on record, no local check.
    with open_store(ph.db) as store, store.transaction():
        store.conn.execute("DELETE FROM order_fulfilment WHERE order_id = ?", (order_id,))
    sent_anyway = ph.signing("order", "cancel", order_id, "--line", "1=2", "--reason", "too late")
    assert sent_anyway.exit_code == 0, sent_anyway.output
    report = ph.sync()
    assert len(report["refused"]) == 1  # type: ignore[arg-type]
    shown = ph.show(order_id)
    [refused] = [n for n in shown["notices"] if n["outcome"] == "refused"]  # type: ignore[union-attr]
    assert "shipped" in refused["outcome_reason"]
    assert "order.cancel-refused" in _events(ph, order_id)

    # The open balance (one package of line 1, two of line 3) can still be cancelled.
    rest = ph.signing("order", "cancel", order_id, "--reason", "rest not needed")
    assert rest.exit_code == 0, rest.output
    ph.sync()
    balances = {b["line_no"]: b for b in ph.show(order_id)["balances"]}  # type: ignore[union-attr]
    assert [balances[n]["open_balance"] for n in (1, 2, 3)] == [0, 0, 0]
    assert [balances[n]["cancelled"] for n in (1, 2, 3)] == [1, 1, 2]
    record = ph.sandbox.client().order(order_id)
    assert [ln.quantity_shipped for ln in record.lines] == [1, 0, 1]


def test_a_whole_order_cancelled_before_shipping_ends_cancelled(partial: Pharmacy) -> None:
    ph = partial
    order_id = ph.new_order(ph.home.parent)
    ph.sync()
    done = ph.signing("order", "cancel", order_id, "--reason", "ordered twice by mistake")
    assert done.exit_code == 0, done.output
    ph.sync()
    assert ph.show(order_id)["state"] == "cancelled"
    assert ph.sandbox.client().order(order_id).status == "cancelled"
    ph.sandbox.running.distributor.fulfil()
    assert all(ln.quantity_shipped == 0 for ln in ph.sandbox.client().order(order_id).lines)


def test_void_on_day_61_then_a_receipt_over_the_quantity_shipped_is_refused(
    partial: Pharmacy, test_ca: TestCa, tmp_path: Path
) -> None:
    ph = partial
    order_id = ph.new_order(tmp_path)
    ph.sync()
    distributor = ph.sandbox.running.distributor
    distributor.fulfil()  # half of lines 1 and 3 ship today
    shipped = ph.sync()["statements"]
    assert isinstance(shipped, list)
    assert [(s["kind"], s["verification"]) for s in shipped] == [("shipment", "verified")]
    distributor.fulfil(datetime.now(UTC) + timedelta(days=61))  # the balance is void
    voided = ph.sync()["statements"]
    assert isinstance(voided, list)
    assert [(s["kind"], s["verification"]) for s in voided] == [("supplier-void", "rejected")]

    shown = ph.show(order_id)
    statements = shown["statements"]
    assert isinstance(statements, list)
    # The record's per-line void (unsigned); the distributor's signed void statement is dated
    # 61 days ahead of this pharmacy's clock, so it is kept as rejected, never as its word.
    [void] = [s for s in statements if s["kind"] == "supplier-void" and not s["signed"]]
    [signed] = [s for s in statements if s["kind"] == "supplier-void" and s["signed"]]
    assert signed["verification"] == "rejected" and "later than now" in signed["rejection"]
    assert void["voided_lines"] == {"1": 1, "2": 1, "3": 2}
    assert "60 days" in void["reason"]
    assert "order.supplier-void" in _events(ph, order_id)

    over = ph.signing("order", "receive", order_id, "--line", "1=2")
    assert over.exit_code == 2
    assert "the distributor reports 1 shipped" in over.output
    none_shipped = ph.signing("order", "receive", order_id, "--line", "2=1")
    assert none_shipped.exit_code == 2 and "0 shipped" in none_shipped.output
    ok = ph.signing("order", "receive", order_id, "--line", "1=1", "--line", "3=1")
    assert ok.exit_code == 0, ok.output
    assert ph.show(order_id)["state"] == "received-partial"
    ph.sync()  # the distributor accepts the receipt: it matches what shipped
    assert ph.sandbox.client().order(order_id).receipts

    out = tmp_path / "inspector"
    exported = ph.run("order", "export", order_id, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    record = json.loads((out / f"{order_id}.record.json").read_text())
    # Unsigned: the record's per-line void; signed: the shipment and void statements, the
    # void one dated 61 days ahead of this pharmacy's clock (kept as rejected).
    kept = {(s["kind"], s["verification"]) for s in record["statements"]}
    assert kept == {
        ("supplier-void", "unsigned"),
        ("shipment", "verified"),
        ("supplier-void", "rejected"),
    }
    [void] = [s for s in record["statements"] if s["verification"] == "unsigned"]
    assert void["voided_lines"]


def test_a_supplier_void_of_part_of_a_line_is_kept_and_limits_the_receipt(
    start_sandbox: StartSandbox, rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    ph = _pharmacy(start_sandbox(mode=FulfilmentMode.BACKORDER), rsa_token, test_ca, tmp_path)
    order_id = ph.new_order(tmp_path)
    ph.sync()
    ph.sandbox.running.distributor.void_lines(order_id, {3: 2})
    ph.sync()
    with open_store(ph.db) as store:
        [st] = store.statements.for_order(order_id)
        assert store.statements.void_lines(st.statement_id) == {3: 2}
        body = json.loads(st.body)
        assert body["lines"][2]["quantity_voided"] == 2 and body["event"] == "voided"
    refused = ph.signing("order", "receive", order_id, "--line", "3=1")
    assert refused.exit_code == 2 and "0 shipped" in refused.output


def test_a_lost_order_its_replacement_and_the_late_original_not_accepted(
    partial: Pharmacy, tmp_path: Path
) -> None:
    ph = partial
    original = ph.new_order(tmp_path)
    with open_store(ph.db) as store:  # it was sent, and never reached the distributor
        [msg] = store.outbox.pending()
        lifecycle.mark_submitted(store, original, msg.outbox_id, now=datetime.now(UTC))

    lost = ph.signing(
        "order", "lost", original, "--explanation", "the distributor never received it"
    )
    assert lost.exit_code == 0, lost.output
    with open_store(ph.db) as store:
        [replacement] = [r for r in store.orders.list() if r.reissue_of == original]
        old = store.orders.get(original)
        assert replacement.order_number != old.order_number
        [notice] = store.notices.for_order(original)
        statement = json.loads(notice.document)
        assert statement["order_number"] == old.order_number
        assert statement["order_date"] == old.date_signed
        assert statement["replacement_order_number"] == replacement.order_number
        assert "1305.26" in statement["statement"]
        [queued] = store.outbox.pending()  # the statement goes to the supplier
        assert queued.record_id == notice.notice_id
    out = tmp_path / "lost"
    out.mkdir()
    (out / "s.json").write_bytes(notice.document)
    (out / "s.p7s").write_bytes(notice.signature)

    # The statement reaches the distributor through the outbox, verified and kept there.
    assert notice.notice_id in ph.sync()["sent"]  # type: ignore[operator]
    distributor = ph.sandbox.running.distributor
    with distributor.engine.connect() as conn:
        [kept] = conn.execute(select(lost_order_statements)).all()
    assert (kept.document, kept.signature) == (notice.document, notice.signature)
    assert kept.original_status is None  # the original never arrived
    with open_store(ph.db) as store:
        assert store.notices.get(notice.notice_id).outcome is NoticeOutcome.ACCEPTED

    signed = ph.signing("order", "sign", "--draft", replacement.order_id)
    assert signed.exit_code == 0, signed.output
    ph.sync()
    assert ph.show(replacement.order_id)["state"] == "accepted"

    # The original turns up 5 days later, well within its 60 days: the supplier does not
    # accept it because of the statement (1305.26), not because it expired.
    late = datetime.now(UTC) + timedelta(days=5)  # (inside the CA CRL's 7 days)
    distributor.clock = lambda: late
    with open_store(ph.db) as store, ph.sandbox.client() as client:
        blob = store.signed.get(original)
        record = client.submit_order(original, blob.document, blob.signature)
    assert record.status == "rejected"
    assert [r.code for r in record.reasons] == ["lost-order-statement-received"]
    assert record.statement is not None and "1305.26" in record.statement
    assert replacement.order_number in record.statement
    ph.sync()
    shown = ph.show(original)
    assert shown["state"] == "rejected"
    statements = shown["statements"]
    assert isinstance(statements, list)
    # Its signed statement is dated 5 days ahead of this pharmacy's clock: kept as rejected.
    assert [(s["kind"], s["verification"]) for s in statements] == [
        ("non-acceptance", "rejected"),
        ("non-acceptance", "unsigned"),
    ]
    assert [n["kind"] for n in shown["notices"]] == ["lost-order"]  # type: ignore[union-attr]
    assert ph.show(replacement.order_id)["notices"]  # linked both ways
    events = _events(ph, original)
    assert events.index("order.lost-statement") < events.index("order.lost-statement-delivered")
    assert events.index("order.lost-statement-delivered") < events.index("order.rejected")
    exported = ph.run("order", "export", original, "--out", str(tmp_path / "x"))
    assert exported.exit_code == 0 and (tmp_path / "x" / f"{notice.notice_id}.p7s").exists()


def test_lost_order_and_cancel_refuse_before_the_pin(partial: Pharmacy, tmp_path: Path) -> None:
    ph = partial
    (tmp_path / "d.json").write_text(json.dumps(order_input()))
    draft = json.loads(ph.run("order", "import", str(tmp_path / "d.json"), "--json").stdout)[0]
    lost = ph.signing("order", "lost", draft["order_id"], "--explanation", "never arrived")
    assert lost.exit_code == 2 and "1305.26" in lost.output
    cancel = ph.signing("order", "cancel", draft["order_id"], "--reason", "not needed")
    assert cancel.exit_code == 2 and "void it instead" in cancel.output
    with open_store(ph.db) as store:
        assert not [e for e in store.audit.entries() if e.event == AuditEvent.SIGNING_STOPPED]
        assert store.orders.get(draft["order_id"]).state is OrderState.DRAFT


def test_the_som_check_uses_the_distributors_policy_and_history_once_synced(
    partial: Pharmacy, tmp_path: Path
) -> None:
    from csos_desktop.domain.order import parse_order_input
    from csos_desktop.services.som import gate as som_gate

    ph = partial
    with open_store(ph.db) as store:
        order = parse_order_input(order_input(number="26X000900"), now=datetime.now(UTC))
        before = som_gate.check_som(store, order, now=datetime.now(UTC))
        assert before is None or "not cached" in before.policy_note
        assert "No order history" in som_gate.history_note(
            store, order.purchaser.dea_number.value, datetime.now(UTC)
        )
    ph.sync()
    with open_store(ph.db) as store:
        _, note = som_gate.policy_for(store)
        assert note.startswith("distributor policy")
        fresh = som_gate.history_note(store, order.purchaser.dea_number.value, datetime.now(UTC))
        assert "cached" in fresh
        later = datetime.now(UTC) + timedelta(days=8)
        assert "stale" in som_gate.history_note(store, order.purchaser.dea_number.value, later)
