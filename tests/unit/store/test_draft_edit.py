"""A draft can be corrected before signing; a signed order never changes."""

from __future__ import annotations

import pytest

from csos_desktop.domain.errors import InputError
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import Store
from tests.unit.store.helpers import Clock, SoftwareOrderSigner, order_input


def test_a_draft_is_edited_in_place_and_the_change_audited(store: Store, clock: Clock) -> None:
    [rec] = svc.import_orders(store, order_input(), source="t")
    changed = order_input()
    changed["lines"] = changed["lines"][:1]
    changed["lines"][0]["quantity"] = 7
    clock.advance(minutes=5)
    after = svc.update_draft(store, rec.order_number, changed, clock=clock)
    assert (after.order_id, after.order_number, after.lines) == (rec.order_id, rec.order_number, 1)
    order = store.orders.order(rec.order_id)
    assert (
        order.lines[0].quantity == 7
        and order.created_at == store.orders.order(rec.order_id).created_at
    )
    [entry] = [e for e in store.audit.entries() if e.event == "order.draft-changed"]
    assert entry.details["before_sha256"] != entry.details["after_sha256"]
    assert store.audit.verify().intact


def test_a_signed_order_cannot_be_edited(store: Store, signer: SoftwareOrderSigner) -> None:
    [rec] = svc.import_orders(store, order_input(), source="t")
    svc.sign_orders(store, [rec.order_id], signer)
    with pytest.raises(InputError, match="only drafts can be edited"):
        svc.update_draft(store, rec.order_id, order_input())
    assert store.signed.get(rec.order_id).intact()


def test_an_edit_keeps_the_purchaser(store: Store) -> None:
    [rec] = svc.import_orders(store, order_input(), source="t")
    other = order_input(dea="BC2345672")
    with pytest.raises(InputError, match="keeps its order number and purchaser"):
        svc.update_draft(store, rec.order_id, other)
