"""What the front ends show of prescribing users and their permissions, as plain values.

The Prescriptions screen and `csos rx user list` / `rx grant list` ask these instead of
reading the access repositories; each returns frozen records (``RxUser``, ``Grant``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from csos_desktop.store.access import Grant, RxUser
    from csos_desktop.store.epcs_records import AnalysisRun, StoredAlert, StoredLog
    from csos_desktop.store.local_store import Store
    from csos_desktop.store.registrations import Registration


def users(store: Store, *, active_only: bool = False) -> tuple[RxUser, ...]:
    """Every user of the prescription module (only the active ones when asked)."""
    return tuple(u for u in store.rx_users.all() if u.active or not active_only)


def open_permissions(store: Store, people: tuple[RxUser, ...]) -> Mapping[str, Grant | None]:
    """user id → the permission that lets them sign now, or None."""
    return {u.user_id: store.rx_grants.open_for(u.user_id) for u in people}


def permissions(store: Store) -> tuple[Grant, ...]:
    """Every permission record, oldest first."""
    return tuple(store.rx_grants.all())


def permission(store: Store, grant_id: int) -> Grant:
    """One permission record by its number."""
    return store.rx_grants.get(grant_id)


def alerts(store: Store, *, unacknowledged: bool = False) -> tuple[StoredAlert, ...]:
    """The daily analysis's alerts (only those not yet acknowledged when asked)."""
    return tuple(store.epcs.alerts(unacknowledged=unacknowledged))


def last_analysis(store: Store) -> AnalysisRun | None:
    """When the daily audit analysis last ran, if ever."""
    return store.epcs.last_run()


def kept_logs(store: Store) -> tuple[StoredLog, ...]:
    """The monthly logs kept in the store, oldest first."""
    return tuple(store.epcs.logs())


def kept_log(store: Store, month: str) -> StoredLog | None:
    """The stored monthly log of *month* (YYYY-MM), if one was made."""
    return store.epcs.log(month)


def registrations(store: Store, user_id: str) -> tuple[Registration, ...]:
    """The user's current DEA registrations (a chooser lists them), in the order added."""
    return tuple(store.rx_registrations.of_user(user_id))
