"""An order's state only moves forward, whatever order receipts, distributor statuses, voids
and cancellations arrive in; a recorded receipt is never undone and the figures add up."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from csos_desktop.domain.order_state import (
    PROGRESS,
    TRANSITIONS,
    IllegalTransition,
    OrderState,
    after_report,
    is_final,
)
from csos_desktop.domain.receipt import ReceiptInvalid, ReceiptLine, received_so_far
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import Store, lifecycle, open_store
from csos_desktop.store.distributor_status import apply_report
from tests.unit.store.helpers import (
    Clock,
    SoftwareDocumentSigner,
    SoftwareOrderSigner,
    order_input,
    software_identity,
)

S = OrderState
_CA: list[TestCa] = []


def _ca() -> TestCa:
    if not _CA:  # one CA for every example: making it is the slow part
        _CA.append(TestCa.init(Path(tempfile.mkdtemp()) / "ca"))
    return _CA[0]


def test_every_move_in_the_table_goes_forward() -> None:
    for current, targets in TRANSITIONS.items():
        for target in targets:
            assert PROGRESS[target] >= PROGRESS[current], f"{current} -> {target} goes back"


def test_a_received_order_never_goes_back_to_shipped() -> None:
    for received, shipped in itertools.product(
        [S.RECEIVED_PARTIAL, S.RECEIVED], [S.SHIPPED_PARTIAL, S.SHIPPED, S.ACCEPTED]
    ):
        assert shipped not in TRANSITIONS.get(received, frozenset())
        assert after_report(received, shipped) is received


@pytest.mark.parametrize("current", list(OrderState))
def test_a_report_never_moves_an_order_back_or_out_of_a_final_state(current: OrderState) -> None:
    for reported in OrderState:
        after = after_report(current, reported)
        assert PROGRESS[after] >= PROGRESS[current]
        if is_final(current):
            assert after is current


@dataclass(frozen=True)
class Report:
    status: OrderState


@dataclass(frozen=True)
class Receive:
    line_no: int
    quantity: int


@dataclass(frozen=True)
class Void:
    pass


@dataclass(frozen=True)
class Submit:
    pass


STEPS = st.lists(
    st.one_of(
        st.builds(Report, st.sampled_from(list(OrderState))),
        st.builds(Receive, st.integers(1, 3), st.integers(1, 3)),
        st.just(Void()),
        st.just(Submit()),
        # A cancellation is the distributor's "cancelled", as the feed reports it.
        st.just(Report(S.CANCELLED)),
    ),
    max_size=14,
)


class OneOrder:
    """One signed order in a fresh store, driven by the same calls sync and the GUI make."""

    def __init__(self, directory: Path) -> None:
        self.clock = Clock()
        self.store: Store = open_store(directory / "csos.db", clock=self.clock)
        identity, cms = software_identity(_ca())
        self.receipt_signer = SoftwareDocumentSigner(identity, cms, self.clock)
        [rec] = svc.import_orders(self.store, [order_input()], source="test", clock=self.clock)
        self.oid = rec.order_id
        svc.sign_orders(
            self.store, [self.oid], SoftwareOrderSigner(identity, cms, self.clock), clock=self.clock
        )
        self.ordered = {ln.line_no: ln.quantity for ln in self.store.orders.order(self.oid).lines}
        self.received: dict[int, int] = {}
        self.reported: OrderState | None = None

    @property
    def state(self) -> OrderState:
        return self.store.orders.get(self.oid).state

    def run(self, step: object) -> None:
        self.clock.advance(seconds=1)
        if isinstance(step, Report):
            apply_report(self.store, self.oid, step.status, now=self.clock())
            self.reported = step.status
        elif isinstance(step, Receive):
            line = ReceiptLine(step.line_no, step.quantity, datetime.now(UTC).date())
            try:
                svc.record_receipt(
                    self.store, self.oid, [line], self.receipt_signer, clock=self.clock
                )
            except (IllegalTransition, ReceiptInvalid):
                return  # refused, and nothing was recorded (checked by the figures)
            self.received[step.line_no] = self.received.get(step.line_no, 0) + step.quantity
            event("receipt recorded")
        elif isinstance(step, Void):
            try:
                svc.void_order(self.store, self.oid, "test", clock=self.clock)
            except IllegalTransition:
                return
        elif isinstance(step, Submit):
            pending = [m for m in self.store.outbox.pending() if m.record_id == self.oid]
            if pending:
                lifecycle.mark_submitted(
                    self.store, self.oid, pending[0].outbox_id, now=self.clock()
                )

    def check_figures(self) -> None:
        stored = received_so_far(r.receipt for r in self.store.receipts.for_order(self.oid))
        assert stored == self.received
        assert all(stored[n] <= self.ordered[n] for n in stored)
        state = self.state
        if self.received:
            # A recorded receipt is never undone by anything the distributor says.
            full = all(stored.get(n, 0) >= q for n, q in self.ordered.items())
            assert state is (S.RECEIVED if full else S.RECEIVED_PARTIAL)
        if self.reported is not None:
            assert self.store.orders.distributor_status(self.oid) == self.reported.value


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(sent=st.booleans(), steps=STEPS)
def test_any_interleaving_moves_the_order_only_forward_and_the_figures_add_up(
    sent: bool, steps: list[object]
) -> None:
    directory = Path(tempfile.mkdtemp())
    order = OneOrder(directory)
    try:
        if sent:  # most of an order's life is after it was sent
            order.run(Submit())
        before = order.state
        for step in steps:
            order.run(step)
            after = order.state
            assert PROGRESS[after] >= PROGRESS[before], f"{before} -> {after} after {step}"
            if is_final(before):
                assert after is before
            order.check_figures()
            before = after
        assert order.store.audit.verify().intact
        assert order.store.integrity_errors() == []
    finally:
        order.store.close()
        shutil.rmtree(directory, ignore_errors=True)


def test_a_send_recorded_after_another_process_learned_acceptance_keeps_the_order_accepted(
    tmp_path: Path,
) -> None:
    # The soak's race: the GUI's sync and the CLI's send the same queued order (the
    # distributor takes it once and answers the other as a replay); the GUI records its send
    # and then reads "accepted" from the feed before the CLI records its own. The CLI's
    # record must neither fail nor move the order back.
    one = OneOrder(tmp_path)
    [pending] = [m for m in one.store.outbox.pending() if m.record_id == one.oid]
    lifecycle.mark_submitted(one.store, one.oid, pending.outbox_id, now=one.clock())
    apply_report(one.store, one.oid, S.ACCEPTED, now=one.clock())
    assert one.state is S.ACCEPTED
    lifecycle.mark_submitted(one.store, one.oid, pending.outbox_id, now=one.clock())
    assert one.state is S.ACCEPTED
    assert not [m for m in one.store.outbox.pending() if m.record_id == one.oid]
    [*_, last] = one.store.audit.entries(order_id=one.oid)
    assert last.details["state_kept"] == "accepted"
    one.store.close()


def test_a_send_recorded_twice_by_two_processes_keeps_the_order_submitted(
    tmp_path: Path,
) -> None:
    # The off-hours soak's race: the GUI's sync and a `csos sync` both send the one queued
    # order and both record the send, nothing learned in between. The second record must
    # not fail as "submitted cannot become submitted".
    one = OneOrder(tmp_path)
    [pending] = [m for m in one.store.outbox.pending() if m.record_id == one.oid]
    lifecycle.mark_submitted(one.store, one.oid, pending.outbox_id, now=one.clock())
    lifecycle.mark_submitted(one.store, one.oid, pending.outbox_id, now=one.clock())
    assert one.state is S.SUBMITTED
    [*_, first, second] = one.store.audit.entries(order_id=one.oid)
    assert first.event == second.event == "order.submitted"
    assert second.details["state_kept"] == "submitted"
    assert one.store.audit.verify().intact
    one.store.close()


def test_a_rejection_learned_by_two_processes_is_recorded_once(tmp_path: Path) -> None:
    # Both syncs read "submitted", both fetch the distributor's refusal; the second to
    # record it finds the order rejected already and keeps the first statement.
    one = OneOrder(tmp_path)
    [pending] = [m for m in one.store.outbox.pending() if m.record_id == one.oid]
    lifecycle.mark_submitted(one.store, one.oid, pending.outbox_id, now=one.clock())
    for _ in range(2):
        lifecycle.record_rejection(
            one.store,
            one.oid,
            reason="quantity",
            statement=b"not accepted: quantity",
            media_type="text/plain",
            now=one.clock(),
        )
    assert one.state is S.REJECTED
    assert len(one.store.statements.for_order(one.oid)) == 1
    events = [e.event for e in one.store.audit.entries(order_id=one.oid)]
    assert events.count("order.rejected") == 1
    one.store.close()
