"""Random sequences of lifecycle operations never break the store's invariants.

Invariants: a signed blob never changes; every state change has its audit entry;
an order is in exactly one state, the one the model expects; signed orders are
queued for the distributor until voided or sent; the audit chain stays intact.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from csos_desktop.domain.order_state import (
    RECEIVABLE,
    REISSUABLE,
    IllegalTransition,
    OrderState,
    check_transition,
)
from csos_desktop.domain.receipt import ReceiptInvalid, ReceiptLine
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import Store, lifecycle, open_store
from csos_desktop.token.identity import SigningIdentity
from tests.unit.store.helpers import (
    Clock,
    SoftwareDocumentSigner,
    SoftwareOrderSigner,
    order_input,
    software_identity,
)

S = OrderState
_SIGNING: list[tuple[SigningIdentity, CmsSigner]] = []


def _signing() -> tuple[SigningIdentity, CmsSigner]:
    if not _SIGNING:  # one CA and key for every run: making them is the slow part
        _SIGNING.append(software_identity(TestCa.init(Path(tempfile.mkdtemp()) / "ca")))
    return _SIGNING[0]


class Lifecycle(RuleBasedStateMachine):
    @initialize()
    def open(self) -> None:
        self.dir = Path(tempfile.mkdtemp())
        self.clock = Clock()
        self.store: Store = open_store(self.dir / "csos.db", clock=self.clock)
        identity, cms = _signing()
        self.signer = SoftwareOrderSigner(identity, cms, self.clock)
        self.receipt_signer = SoftwareDocumentSigner(identity, cms, self.clock)
        self.model: dict[str, OrderState] = {}
        self.blobs: dict[str, tuple[bytes, bytes]] = {}
        self.changes: dict[str, int] = {}
        self.ids: list[str] = []  # in creation order, so draws replay identically

    def _new_id(self) -> str:
        return f"00000000-0000-4000-8000-{len(self.ids) + 1:012d}"

    def teardown(self) -> None:
        if hasattr(self, "store"):
            self.store.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    def _moved(self, oid: str, new: OrderState) -> None:
        if oid not in self.model:
            self.ids.append(oid)
        self.model[oid] = new
        self.changes[oid] = self.changes.get(oid, 0) + 1

    def _pick(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(self.ids))

    @rule()
    def import_draft(self) -> None:
        [rec] = svc.import_orders(
            self.store, order_input(), source="test", clock=self.clock, new_id=self._new_id
        )
        self._moved(rec.order_id, S.DRAFT)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def sign(self, data: st.DataObject) -> None:
        oid = self._pick(data)
        result = svc.sign_orders(self.store, [oid], self.signer, clock=self.clock)
        if self.model[oid] is S.DRAFT:
            assert result.signed and not result.unsigned
            self._moved(oid, S.SIGNED)
            blob = self.store.signed.get(oid)
            self.blobs[oid] = (blob.document, blob.signature)
        else:
            assert result.unsigned[0].code == "IllegalTransition"

    def _attempt(self, oid: str, new: OrderState, action: object) -> None:
        try:
            check_transition(oid, self.model[oid], new)
        except IllegalTransition:
            try:
                action()  # type: ignore[operator]
            except IllegalTransition:
                return
            raise AssertionError(f"{self.model[oid]} -> {new} was allowed") from None
        action()  # type: ignore[operator]
        self._moved(oid, new)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        oid = self._pick(data)
        self._attempt(
            oid, S.VOID, lambda: svc.void_order(self.store, oid, "test", clock=self.clock)
        )

    @precondition(lambda self: self.store.outbox.pending())
    @rule(data=st.data())
    def submit(self, data: st.DataObject) -> None:
        orders = [m for m in self.store.outbox.pending() if m.kind.value == "submit-order"]
        if not orders:
            return
        msg = data.draw(st.sampled_from(orders))
        lifecycle.mark_submitted(self.store, msg.record_id, msg.outbox_id, now=self.clock())
        self._moved(msg.record_id, S.SUBMITTED)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), new=st.sampled_from(sorted(lifecycle.STATUS_UPDATES)))
    def status(self, data: st.DataObject, new: OrderState) -> None:
        oid = self._pick(data)
        self._attempt(
            oid, new, lambda: lifecycle.record_status(self.store, oid, new, now=self.clock())
        )

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def reject(self, data: st.DataObject) -> None:
        oid = self._pick(data)

        def record() -> None:
            lifecycle.record_rejection(
                self.store,
                oid,
                reason="test",
                statement=b"no",
                media_type="text/plain",
                now=self.clock(),
            )

        if self.model[oid] is S.REJECTED:
            # a second sync learning the same refusal: recorded once, nothing moves
            record()
            assert len(self.store.statements.for_order(oid)) == 1
            return
        self._attempt(oid, S.REJECTED, record)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def reissue(self, data: st.DataObject) -> None:
        oid = self._pick(data)
        if self.model[oid] not in REISSUABLE:
            try:
                svc.reissue_order(self.store, oid, clock=self.clock)
            except IllegalTransition:
                return
            raise AssertionError("re-issued an order that is still live")
        new = svc.reissue_order(self.store, oid, clock=self.clock, new_id=self._new_id)
        self._moved(new.order_id, S.DRAFT)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), line=st.integers(1, 3), qty=st.integers(1, 3))
    def receive(self, data: st.DataObject, line: int, qty: int) -> None:
        oid = self._pick(data)
        lines = [ReceiptLine(line, qty, datetime.now(UTC).date())]
        try:
            _, rec = svc.record_receipt(
                self.store, oid, lines, self.receipt_signer, clock=self.clock
            )
        except IllegalTransition:
            assert self.model[oid] not in RECEIVABLE
            return
        except ReceiptInvalid as exc:
            assert {p.rule for p in exc.problems} == {"over-receipt"}
            return
        assert self.model[oid] in RECEIVABLE
        self._moved(oid, rec.state)

    @invariant()
    def store_matches_model(self) -> None:
        if not hasattr(self, "store"):
            return
        assert {r.order_id: r.state for r in self.store.orders.list()} == self.model
        for oid, (doc, sig) in self.blobs.items():
            blob = self.store.signed.get(oid)
            assert (blob.document, blob.signature) == (doc, sig)
        audited: dict[str, int] = {}
        for e in self.store.audit.entries():
            if e.order_id is not None:
                audited[e.order_id] = audited.get(e.order_id, 0) + 1
        assert audited == self.changes
        queued = {
            m.record_id for m in self.store.outbox.pending() if m.kind.value == "submit-order"
        }
        assert queued == {oid for oid, s in self.model.items() if s is S.SIGNED}
        assert self.store.audit.verify().intact


Lifecycle.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_lifecycle_sequences = Lifecycle.TestCase
