"""Sending the purchaser's signed notices about a sent order, and keeping the answers.

A cancellation (1305.28) goes to ``POST /v1/orders/{id}/cancellations``; a lost-order
statement (1305.26) to ``POST /v1/orders/{id}/lost-order-statements``, so the supplier
does not accept the original if it turns up. Both travel as ``cancel-order`` outbox
messages (see ``OutboxKind``); the notice row says which. A refusal other than of the
credential is final and kept with the notice; a refused credential is raised, and the
sync pass keeps everything queued.
"""

from __future__ import annotations

from dataclasses import dataclass

from csos_desktop.domain.clock import Clock
from csos_desktop.store import Store, legal
from csos_desktop.store.notices import NoticeKind, StoredNotice
from csos_desktop.store.outbox import OutboxMessage
from csos_desktop.sync.client import DistributorClient
from csos_desktop.sync.errors import DistributorRefused


@dataclass(frozen=True)
class NoticeAnswer:
    """What the distributor made of one notice, and what the pass does next."""

    order_id: str
    delivered: bool
    #: The order's status after a cancellation, to apply; None: nothing to apply.
    order_status: str | None = None
    #: Fetch the order's record after this event (what shipped, what was voided).
    refresh_event: str | None = None


def send_notice(
    store: Store, client: DistributorClient, msg: OutboxMessage, clock: Clock
) -> NoticeAnswer | None:
    """Send the notice *msg* names; None when the store holds no such notice (it stays
    queued, and says why on every pass)."""
    try:
        notice = store.notices.get(msg.record_id)
    except KeyError:
        with store.transaction():
            store.outbox.mark_failed(
                msg.outbox_id, f"no signed cancellation {msg.record_id} in the store"
            )
        return None
    if notice.kind is NoticeKind.LOST_ORDER:
        return _lost_statement(store, client, msg, notice, clock)
    return _cancellation(store, client, msg, notice, clock)


def _refused(exc: DistributorRefused) -> str:
    if exc.status in (401, 403):
        raise exc  # the credential, not the notice: the pass keeps it queued
    return exc.message


def _cancellation(
    store: Store, client: DistributorClient, msg: OutboxMessage, notice: StoredNotice, clock: Clock
) -> NoticeAnswer:
    """A refusal (e.g. already shipped) is final; what did ship is fetched for the next try."""
    try:
        record = client.cancel_order(
            notice.order_id, msg.record_id, notice.document, notice.signature
        )
    except DistributorRefused as exc:
        reason = _refused(exc)
        legal.cancellation_answered(
            store, msg.outbox_id, msg.record_id, accepted=False, reason=reason, now=clock()
        )
        return NoticeAnswer(notice.order_id, False, refresh_event="cancel-refused")
    legal.cancellation_answered(
        store, msg.outbox_id, msg.record_id, accepted=True, reason=None, now=clock()
    )
    return NoticeAnswer(notice.order_id, True, record.order_status, "cancelled")


def _lost_statement(
    store: Store, client: DistributorClient, msg: OutboxMessage, notice: StoredNotice, clock: Clock
) -> NoticeAnswer:
    """Kept or refused; when the distributor held the original, what became of it is fetched."""
    try:
        record = client.declare_lost(
            notice.order_id, msg.record_id, notice.document, notice.signature
        )
    except DistributorRefused as exc:
        reason = _refused(exc)
        legal.lost_statement_answered(
            store,
            msg.outbox_id,
            msg.record_id,
            delivered=False,
            reason=reason,
            original_status=None,
            now=clock(),
        )
        return NoticeAnswer(notice.order_id, False)
    legal.lost_statement_answered(
        store,
        msg.outbox_id,
        msg.record_id,
        delivered=True,
        reason=None,
        original_status=record.original_status,
        now=clock(),
    )
    held = record.original_status is not None
    return NoticeAnswer(notice.order_id, True, refresh_event="voided" if held else None)
