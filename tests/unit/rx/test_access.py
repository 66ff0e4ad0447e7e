"""Logical access control (21 CFR 1311.125 / 1311.130): roles and the two-person rule."""

from __future__ import annotations

import sqlite3

import pytest

from csos_desktop.domain.dea import DeaNumberInvalid
from csos_desktop.domain.errors import InputError
from csos_desktop.services.rx import access as rx_access
from csos_desktop.services.rx.access import (
    AccessDenied,
    Actor,
    DenyReason,
    SigningRefused,
    TwoPersonRule,
)
from csos_desktop.store import Store
from csos_desktop.store.access import GrantState, Role
from tests.unit.rx.helpers import ANN, BOB, CARL, JONES_DEA, SMITH, events, permit, practice
from tests.unit.store.helpers import Clock


def test_the_first_user_must_be_an_access_administrator(store: Store, clock: Clock) -> None:
    with pytest.raises(InputError, match="first user must be an access administrator"):
        rx_access.add_user(
            store, None, "drsmith", "Dr. Jane Smith", Role.PRACTITIONER, "AB1234563", now=clock()
        )
    rx_access.add_user(store, None, "ann", "Ann Admin", Role.ACCESS_ADMIN, None, now=clock())
    [entry] = [e for e in store.audit.entries() if e.event == "rx.user-added"]
    assert entry.details["bootstrap"] is True and entry.details["user"] == "ann"


def test_after_the_first_user_only_an_access_administrator_adds_users(
    store: Store, clock: Clock
) -> None:
    practice(store, clock)
    with pytest.raises(InputError, match="--as"):
        rx_access.add_user(store, None, "eve", "Eve", Role.ACCESS_ADMIN, None, now=clock())
    with pytest.raises(AccessDenied) as denied:
        rx_access.add_user(store, BOB, "eve", "Eve", Role.ACCESS_ADMIN, None, now=clock())
    assert denied.value.reason is DenyReason.ROLE
    assert store.rx_users.find("eve") is None
    assert events(store)[-1] == "rx.access-denied"


def test_user_records_carry_the_right_dea_numbers(store: Store, clock: Clock) -> None:
    practice(store, clock)
    with pytest.raises(InputError, match="needs their DEA registration"):
        rx_access.add_user(store, ANN, "drx", "Dr X", Role.PRACTITIONER, None, now=clock())
    with pytest.raises(InputError, match="agent has no DEA number"):
        rx_access.add_user(store, ANN, "amy", "Amy", Role.AGENT, JONES_DEA, now=clock())
    with pytest.raises(DeaNumberInvalid):
        rx_access.add_user(store, ANN, "drx", "Dr X", Role.PRACTITIONER, "AB1234564", now=clock())
    with pytest.raises(InputError, match="already belongs to a user"):
        rx_access.add_user(store, ANN, "drx", "Dr X", Role.PRACTITIONER, "AB1234563", now=clock())


def test_a_one_person_grant_is_refused_and_audited(store: Store, clock: Clock) -> None:
    practice(store, clock)
    g = rx_access.propose_grant(store, ANN, "drsmith", registration_verified=True, now=clock())
    with pytest.raises(TwoPersonRule) as refused:
        rx_access.approve_grant(store, ANN, g.grant_id, now=clock())
    assert refused.value.reason is DenyReason.SAME_PERSON
    assert store.rx_grants.get(g.grant_id).state is GrantState.PROPOSED
    denied = [e for e in store.audit.entries() if e.event == "rx.access-denied"][-1]
    assert denied.details["reason"] == "same-person" and denied.details["by"] == "ann"
    assert denied.details["os_login"] == "ann-os"


def test_a_grant_by_two_people_neither_a_registrant_is_refused(store: Store, clock: Clock) -> None:
    practice(store, clock)
    g = rx_access.propose_grant(store, ANN, "drsmith", registration_verified=True, now=clock())
    with pytest.raises(TwoPersonRule, match="DEA registrant") as refused:
        rx_access.approve_grant(store, CARL, g.grant_id, now=clock())
    assert refused.value.reason is DenyReason.NO_REGISTRANT
    assert store.rx_grants.get(g.grant_id).state is GrantState.PROPOSED


def test_two_people_one_a_registrant_grant_signing_permission(store: Store, clock: Clock) -> None:
    practice(store, clock)
    g = permit(store, clock)
    assert g.state is GrantState.ACTIVE and g.approved_by == "drsmith"
    assert g.dea_number == "AB1234563"
    assert events(store)[-2:] == ["rx.grant-proposed", "rx.grant-approved"]
    user, grant = rx_access.signing_permission(store, "drsmith")
    assert user.user_id == "drsmith" and grant.grant_id == g.grant_id


def test_a_registrant_administrator_may_be_the_second_person(store: Store, clock: Clock) -> None:
    practice(store, clock)
    rx_access.add_user(
        store, ANN, "drlee", "Dr. Lee (director)", Role.ACCESS_ADMIN, JONES_DEA, now=clock()
    )
    assert permit(store, clock, approver=Actor("drlee")).state is GrantState.ACTIVE


def test_the_proposer_confirms_the_registration_was_verified(store: Store, clock: Clock) -> None:
    practice(store, clock)
    with pytest.raises(InputError, match=r"1311.125\(b\)"):
        rx_access.propose_grant(store, ANN, "drsmith", registration_verified=False, now=clock())


def test_agents_take_no_part_in_access_control(store: Store, clock: Clock) -> None:
    practice(store, clock)
    with pytest.raises(AccessDenied) as denied:
        rx_access.propose_grant(store, BOB, "drsmith", registration_verified=True, now=clock())
    assert denied.value.reason is DenyReason.ROLE
    with pytest.raises(InputError, match="only practitioners"):
        rx_access.propose_grant(store, ANN, "bob", registration_verified=True, now=clock())


def test_an_unknown_user_is_refused_and_the_attempt_audited(store: Store, clock: Clock) -> None:
    practice(store, clock)
    with pytest.raises(AccessDenied) as denied:
        rx_access.propose_grant(
            store, Actor("mallory"), "drsmith", registration_verified=True, now=clock()
        )
    assert denied.value.reason is DenyReason.UNKNOWN_USER
    last = list(store.audit.entries())[-1]
    assert last.event == "rx.access-denied" and last.details["by"] == "mallory"


def test_one_administrator_revokes_at_once(store: Store, clock: Clock) -> None:
    practice(store, clock)
    permit(store, clock)
    g = rx_access.revoke_grant(store, CARL, "drsmith", "left the practice", now=clock())
    assert g.state is GrantState.REVOKED and g.revoked_by == "carl"
    [entry] = [e for e in store.audit.entries() if e.event == "rx.grant-revoked"]
    assert entry.details["reason"] == "left the practice" and entry.details["was"] == "active"
    with pytest.raises(SigningRefused) as refused:
        rx_access.signing_permission(store, "drsmith")
    assert refused.value.reason is DenyReason.NO_PERMISSION


def test_a_practitioner_may_revoke_their_own_permission_but_an_agent_not(
    store: Store, clock: Clock
) -> None:
    practice(store, clock)
    permit(store, clock)
    with pytest.raises(AccessDenied):
        rx_access.revoke_grant(store, BOB, "drsmith", "token lost", now=clock())
    assert (
        rx_access.revoke_grant(store, SMITH, "drsmith", "token lost", now=clock()).state
        is GrantState.REVOKED
    )


def test_agents_never_have_signing_permission(store: Store, clock: Clock) -> None:
    practice(store, clock)
    with pytest.raises(SigningRefused, match="only the practitioner signs") as refused:
        rx_access.signing_permission(store, "bob")
    assert refused.value.reason is DenyReason.ROLE


def test_a_proposed_permission_does_not_allow_signing(store: Store, clock: Clock) -> None:
    practice(store, clock)
    rx_access.propose_grant(store, ANN, "drsmith", registration_verified=True, now=clock())
    with pytest.raises(SigningRefused, match="awaits approval by a second person"):
        rx_access.signing_permission(store, "drsmith")


def test_deactivating_a_user_revokes_their_permission(store: Store, clock: Clock) -> None:
    practice(store, clock)
    permit(store, clock)
    rx_access.deactivate_user(store, CARL, "drsmith", now=clock())
    assert store.rx_grants.open_for("drsmith") is None
    with pytest.raises(AccessDenied) as denied:
        rx_access.signing_permission(store, "drsmith")
    assert denied.value.reason is DenyReason.INACTIVE_USER
    assert events(store)[-2:] == ["rx.grant-revoked", "rx.user-deactivated"]


def test_the_database_itself_refuses_a_one_person_or_revived_grant(
    store: Store, clock: Clock
) -> None:
    practice(store, clock)
    g = rx_access.propose_grant(store, ANN, "drsmith", registration_verified=True, now=clock())
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute(
            "UPDATE rx_grants SET state = 'active', approved_by = 'ann', "
            "approved_at = 'x' WHERE grant_id = ?",
            (g.grant_id,),
        )
    with pytest.raises(sqlite3.IntegrityError):
        store.conn.execute(
            "UPDATE rx_grants SET state = 'active' WHERE grant_id = ?", (g.grant_id,)
        )
    rx_access.revoke_grant(store, ANN, "drsmith", "test", now=clock())
    with pytest.raises(sqlite3.IntegrityError, match="forward only"):
        store.conn.execute(
            "UPDATE rx_grants SET state = 'active', approved_by = 'drsmith', "
            "approved_at = 'x' WHERE grant_id = ?",
            (g.grant_id,),
        )
    with pytest.raises(sqlite3.IntegrityError, match="kept"):
        store.conn.execute("DELETE FROM rx_grants")


def test_a_refusal_changes_nothing_but_the_log(store: Store, clock: Clock) -> None:
    practice(store, clock)

    def step() -> None:
        store.rx_users.add("eve", "Eve", Role.AGENT, None, now=clock(), created_by="ann")
        raise AccessDenied(DenyReason.ROLE, "refused after a write")

    with pytest.raises(AccessDenied):
        rx_access.guarded(store, ANN, "test", clock(), step)
    assert store.rx_users.find("eve") is None
    assert list(store.audit.entries())[-1].details["message"] == "refused after a write"
