"""The check stage of a batch: every check that can refuse an order, before the PIN."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.domain.errors import SessionRefused
from csos_desktop.domain.order import Order
from csos_desktop.domain.order_state import IllegalTransition, OrderState
from csos_desktop.services.orders import pre_sign
from csos_desktop.services.orders.batch import SKIPS_ORDER, Unsigned, unsigned_entry
from csos_desktop.services.signing import Signing, SigningSession
from csos_desktop.services.som import gate as som_gate
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import OrderRecord
from csos_desktop.token.identity import SigningIdentity


@dataclass(frozen=True)
class CheckedBatch:
    """The check stage's verdict, before any PIN: what will be signed, with which
    certificates, what is refused and why, and what the signer must see."""

    ready: tuple[Order, ...]
    refused: tuple[Unsigned, ...]
    #: Every certificate that will sign; its session checks ran (once each).
    signers: tuple[SigningIdentity, ...]
    warnings: tuple[str, ...]
    checked_at: datetime
    #: Every flagged draft, ready (its justification accepted) or refused (why not).
    flagged: tuple[som_gate.FlaggedOrder, ...] = ()

    @property
    def justified(self) -> dict[str, som_gate.FlaggedOrder]:
        """The ready flagged orders by id: the record stage keeps their justification."""
        ready = {o.order_id for o in self.ready}
        return {f.order_id: f for f in self.flagged if f.order_id in ready}


def check_drafts(
    store: Store,
    ids: Sequence[str],
    session: Signing,
    now: datetime,
    *,
    som_justifications: Mapping[str, str] | None = None,
) -> CheckedBatch:
    """The pre-PIN stage for a batch, as a value (no I/O inside a transaction).

    Each draft gets its certificate first (several locations: the one for its purchaser);
    then every session check runs for every certificate that will sign, whatever chose it;
    then each order's checks, and those that need the store (``pre_sign``): who may sign
    for the DEA number, and the SOM justification of a flagged order: its own, from
    ``som_justifications`` (by order id), checked here and recorded only with its
    signature. A ``SessionRefused`` (expired certificate, a signer
    without power of attorney, ...) is raised: nothing could be signed; in a batch that
    mixes locations it refuses only that certificate's orders.
    """
    refused: list[Unsigned] = []
    chosen: list[tuple[OrderRecord, Order, SigningSession]] = []
    for order_id in ids:
        try:
            rec = store.orders.get(order_id)
            if rec.state is not OrderState.DRAFT:
                raise IllegalTransition(rec.label, rec.state, OrderState.SIGNED)
            order = store.orders.order(order_id)
            chosen.append((rec, order, session.for_order(order, now)))
        except SKIPS_ORDER as exc:
            refused.append(unsigned_entry(store, order_id, exc))
    failed: dict[bytes, SessionRefused] = {}
    for signing in {s.identity.key_id: s for _, _, s in chosen}.values():
        try:
            signing.check_session(now)
        except SessionRefused as exc:
            # One location's certificate cannot sign: only its orders are refused when the
            # batch mixes locations (docs/signing.md).
            if not session.mixes_locations:
                raise
            failed[signing.identity.key_id] = exc
    ready: list[Order] = []
    flagged: list[som_gate.FlaggedOrder] = []
    for rec, order, signing in chosen:
        try:
            if signing.identity.key_id in failed:
                raise failed[signing.identity.key_id]
            signing.check_item(pre_sign.as_signed(order, rec.number_auto, now), now)
            som = pre_sign.store_checks(
                store,
                order,
                signing.identity,
                now,
                stored=True,
                som_justification=(som_justifications or {}).get(order.order_id),
            )
            flagged += [som] if som is not None else []
            if som is not None and som.problem is not None:
                raise som.refusal()
            ready.append(order)
        except SKIPS_ORDER as exc:
            refused.append(unsigned_entry(store, order.order_id, exc))
        except SessionRefused as exc:
            if not session.mixes_locations:
                raise
            refused.append(unsigned_entry(store, order.order_id, exc))
    signers = {s.identity.key_id: s.identity for _, o, s in chosen if o in ready}
    return CheckedBatch(
        tuple(ready),
        tuple(refused),
        tuple(signers.values()),
        tuple(session.warnings),
        now,
        tuple(flagged),
    )
