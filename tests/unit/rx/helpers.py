"""A practice on record: two administrators, a practitioner (registrant), an agent."""

from __future__ import annotations

from typing import Any

from csos_desktop.services.rx import access as rx_access
from csos_desktop.services.rx.access import Actor
from csos_desktop.store import Store
from csos_desktop.store.access import Grant, Role
from tests.unit.domain.rx_samples import PRACTITIONER_DEA, sample_rx_input
from tests.unit.store.helpers import Clock

ANN, CARL, SMITH, BOB = Actor("ann", "ann-os"), Actor("carl"), Actor("drsmith"), Actor("bob")
#: A second practitioner's DEA number (valid check digit), not the test certificate's.
JONES_DEA = "BJ6125341"


def practice(store: Store, clock: Clock) -> None:
    rx_access.add_user(store, None, "ann", "Ann Admin", Role.ACCESS_ADMIN, None, now=clock())
    for user_id, name, role, dea in (
        ("carl", "Carl Admin", Role.ACCESS_ADMIN, None),
        ("drsmith", "Dr. Jane Smith", Role.PRACTITIONER, PRACTITIONER_DEA),
        ("bob", "Bob Agent", Role.AGENT, None),
    ):
        rx_access.add_user(store, ANN, user_id, name, role, dea, now=clock())


def permit(store: Store, clock: Clock, user_id: str = "drsmith", approver: Actor = SMITH) -> Grant:
    """Ann proposes, a registrant approves (in a solo practice, the practitioner)."""
    g = rx_access.propose_grant(store, ANN, user_id, registration_verified=True, now=clock())
    return rx_access.approve_grant(store, approver, g.grant_id, now=clock())


def rx_input(clock: Clock, **changes: Any) -> dict[str, Any]:
    data = sample_rx_input(clock.now.astimezone().date().isoformat())
    data.update(changes)
    return data


def events(store: Store) -> list[str]:
    return [e.event for e in store.audit.entries() if e.event.startswith("rx.")]
