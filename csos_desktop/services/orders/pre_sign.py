"""The pre-PIN checks of an order that need the store, next to the signing session's own.

The session's ``pre_pin_checks`` stage (``services.signing``) checks the certificate
and the order itself, including the verifier's document rules. What needs the
store runs here, also before the PIN, on every order path (CLI file and drafts,
GUI signing dialog): who may sign for the DEA number (power of attorney, 1305.05)
and the SOM justification of a flagged order (1301.74(b)).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.order import Order
from csos_desktop.services.orders import poa
from csos_desktop.services.som import gate as som_gate
from csos_desktop.store.local_store import Store
from csos_desktop.token.identity import SigningIdentity


def signing_year(order: Order, number_auto: bool, now: datetime) -> int | None:
    """The year a generated number must move to when the order is signed now, or None:
    1305.21(b)(1), the number carries the year signed, on the pharmacy's calendar."""
    year = local_date(now).year
    if number_auto and order.order_number[:2] != f"{year % 100:02d}":
        return year
    return None


def as_signed(order: Order, number_auto: bool, now: datetime) -> Order:
    """The order as signing will number it (``lifecycle.prepare_for_signing`` draws the
    real number), so the year rule is checked against that."""
    year = signing_year(order, number_auto, now)
    if year is not None:
        return replace(order, order_number=f"{year % 100:02d}X{order.order_number[3:]}")
    return order


def store_checks(
    store: Store,
    order: Order,
    identity: SigningIdentity,
    now: datetime,
    *,
    stored: bool,
    som_justification: str | None = None,
) -> som_gate.FlaggedOrder | None:
    """POA rule (``SignerNotAuthorised``, a session refusal; ``RegistrantNotRecorded`` for
    a schedule I/II order before the registrant is recorded, this order only), then the
    SOM check: the flagged order with its justification accepted or why not (nothing is
    recorded here; the caller refuses it or keeps the justification for the signature's
    record)."""
    poa.check_signer(
        store,
        identity,
        order.purchaser.dea_number.value,
        now,
        schedule_i_or_ii=any(s.needs_csos_or_222 for s in order.schedules),
    )
    som = som_gate.check_som(store, order, now=now)
    return som_gate.justify(store, order, som, som_justification, stored=stored)
