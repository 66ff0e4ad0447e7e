"""Signing a batch of drafts with one signer, one order at a time.

Each order is committed as soon as it is signed: if the token is pulled or locks
half-way, the signed orders stay signed, the rest stay drafts, and the result says
which and why.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import CsosError, ItemRefused, SessionRefused
from csos_desktop.domain.order import Order, OrderInvalid
from csos_desktop.domain.order_state import IllegalTransition, OrderState, check_transition
from csos_desktop.domain.token_errors import TokenError
from csos_desktop.services.orders import pre_sign
from csos_desktop.services.orders.order_signer import SignatureSelfCheckFailed, SignedOrder
from csos_desktop.services.som import gate as som_gate
from csos_desktop.store import lifecycle
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.db import StoreError
from csos_desktop.store.local_store import Store
from csos_desktop.store.orders import ConcurrentChange, OrderNotFound, OrderRecord
from csos_desktop.token.identity import SigningIdentity


class OrderSigner(Protocol):
    """Signs one order (``OrderSigningSession`` on a logged-in token)."""

    identity: SigningIdentity

    def sign(self, order: Order) -> SignedOrder: ...


@dataclass(frozen=True)
class Unsigned:
    """An order the batch left unsigned, and why."""

    order_id: str
    order_number: str | None
    reason: str
    code: str


@dataclass(frozen=True)
class BatchResult:
    signed: tuple[OrderRecord, ...]
    unsigned: tuple[Unsigned, ...]
    #: Why the batch stopped early (token removed, PIN locked, ...); None if it ran through.
    stopped: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "signed": [
                {"order_id": r.order_id, "order_number": r.order_number, "state": r.state.value}
                for r in self.signed
            ],
            "unsigned": [
                {
                    "order_id": u.order_id,
                    "order_number": u.order_number,
                    "reason": u.reason,
                    "code": u.code,
                }
                for u in self.unsigned
            ],
            "stopped": self.stopped,
        }


# The token or the store is unusable: every later order would fail the same way.
STOPS_BATCH: tuple[type[CsosError], ...] = (
    TokenError,
    SignatureSelfCheckFailed,
    SessionRefused,
    StoreError,
)
# Only this order is affected; the batch goes on.
SKIPS_ORDER: tuple[type[CsosError], ...] = (
    ItemRefused,
    OrderInvalid,
    IllegalTransition,
    OrderNotFound,
    ConcurrentChange,
)


def _code(exc: Exception) -> str:
    return type(exc).__name__


def sign_orders(
    store: Store,
    ids: Sequence[str],
    signer: OrderSigner,
    *,
    clock: Clock = utc_now,
    before_each: Callable[[datetime], None] | None = None,
    justified: Mapping[str, som_gate.FlaggedOrder] | None = None,
) -> BatchResult:
    """Sign each draft in turn: prepare (its number in the signing year), sign on the token
    outside any transaction, then record (signed bytes, audit entry, submit message in one
    short transaction). ``before_each`` runs before each signature, with no lock held (the
    batch gathers stale facts again there). ``justified`` (by order id): a flagged order's
    accepted justification, recorded in its signature's transaction and nowhere else."""
    ident = signer.identity
    # The certificate carries only a hash of the DEA number; precheck matches each order's
    # purchaser to it, and that number is what the archive records (dea_number=None).
    info = lifecycle.SignerInfo(ident.info.subject, None, ident.certificate_der)
    signed: list[OrderRecord] = []
    unsigned: list[Unsigned] = []
    for i, order_id in enumerate(ids):
        try:
            now = clock()
            if before_each is not None:
                before_each(now)
            order, renumbered_from = prepare_for_signing(store, order_id, now)
            made = signer.sign(order)
            details = signed_details(made, info, renumbered_from)
            flagged = (justified or {}).get(order_id)
            carried = (
                som_gate.justification_entries(
                    flagged,
                    made.order,
                    info.subject,
                    local_date(now),
                    {
                        "certificate_sha256": details["certificate_sha256"],
                        "subject_serial": ident.info.subject_serial,
                    },
                )
                if flagged is not None and flagged.justification is not None
                else []
            )
            record = lifecycle.SignedOrderRecord(
                made.order,
                made.document,
                made.signature,
                info,
                details,
                carried,
                None
                if made.x12 is None
                else (made.x12.control_number, made.x12.interchange, made.x12.signed),
            )
            signed.append(lifecycle.record_signed(store, order_id, record, now=now))
        except STOPS_BATCH as exc:
            rest = [unsigned_entry(store, oid, exc) for oid in ids[i:]]
            unsigned += rest
            audit_stop(store, clock, exc, len(signed), [u.order_id for u in rest])
            return BatchResult(tuple(signed), tuple(unsigned), exc.message)
        except SKIPS_ORDER as exc:
            unsigned.append(unsigned_entry(store, order_id, exc))
    return BatchResult(tuple(signed), tuple(unsigned))


def prepare_for_signing(store: Store, order_id: str, now: datetime) -> tuple[Order, str | None]:
    """The draft as it will be signed, and the number it had if it moved to the signing
    year (1305.21(b)(1)): a generated number is redone, the new one reserved in the store."""
    rec = store.orders.get(order_id)
    check_transition(rec.label, rec.state, OrderState.SIGNED)
    order = store.orders.order(order_id)
    year = pre_sign.signing_year(order, rec.number_auto, now)
    if year is None:
        return order, None
    number = lifecycle.reserve_number(store, rec.purchaser_dea, year)
    return replace(order, order_number=number), order.order_number


def signed_details(
    signed: SignedOrder, signer: lifecycle.SignerInfo, renumbered_from: str | None
) -> dict[str, object]:
    """The ``order.signed`` audit entry: what was signed, by whom, with digests."""
    order = signed.order
    details: dict[str, object] = {
        "order_number": order.order_number,
        "date_signed": None if order.date_signed is None else order.date_signed.isoformat(),
        "document_sha256": hashlib.sha256(signed.document).hexdigest(),
        "signature_sha256": hashlib.sha256(signed.signature).hexdigest(),
        "signer_subject": signer.subject,
        "signer_dea": signer.dea_number or order.purchaser.dea_number.value,
        "certificate_sha256": hashlib.sha256(signer.certificate_der).hexdigest(),
    }
    if renumbered_from is not None:
        details["renumbered_from"] = renumbered_from
    if signed.x12 is not None:
        details["x12_control_number"] = signed.x12.control_number
        details["x12_signature_sha256"] = hashlib.sha256(signed.x12.signed).hexdigest()
    return details


def unsigned_entry(store: Store, order_id: str, exc: CsosError) -> Unsigned:
    """The order *order_id* left unsigned because of *exc*, with its number if it has one."""
    try:
        number: str | None = store.orders.get(order_id).order_number
    except (CsosError, StoreError):
        number = None
    return Unsigned(order_id, number, exc.message, _code(exc))


def audit_stop(
    store: Store,
    clock: Clock,
    exc: CsosError,
    signed: int,
    left: Sequence[str],
    stage: str = "signing",
) -> None:
    # 1311.150: failed authentication and interrupted signing are auditable events.
    # If the store itself is what failed, the caller reports that original error instead.
    with contextlib.suppress(StoreError):
        lifecycle.record_event(
            store,
            AuditEvent.SIGNING_STOPPED,
            now=clock(),
            details={
                "stage": stage,
                "reason": _code(exc),
                "signed": signed,
                "left_unsigned": list(left),
            },
        )
