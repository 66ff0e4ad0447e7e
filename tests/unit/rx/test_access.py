"""Logical access control (21 CFR 1311.125): roles and the two-person rule."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date, timedelta

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
from csos_desktop.services.rx.grant_revocation import (
    execute_revocation,
    lapse_registrations,
    revoke_grant,
)
from csos_desktop.services.rx.grants import approve_grant
from csos_desktop.services.rx.permission import signing_permission
from csos_desktop.services.rx.users import add_user, deactivate_user
from csos_desktop.store import Store
from csos_desktop.store.access import GrantState, Role
from tests.unit.rx.helpers import (
    ANN,
    BOB,
    CARL,
    JONES_DEA,
    REGISTRATION_ENDS,
    SMITH,
    SMITH_CERT,
    events,
    permit,
    practice,
    propose,
)
from tests.unit.store.helpers import Clock


def test_the_first_user_must_be_an_access_administrator(store: Store, clock: Clock) -> None:
    with pytest.raises(InputError, match="first user must be an access administrator"):
        add_user(
            store, None, "drsmith", "Dr. Jane Smith", Role.PRACTITIONER, "AB1234563", now=clock()
        )
    add_user(store, None, "ann", "Ann Admin", Role.ACCESS_ADMIN, None, now=clock())
    [entry] = [e for e in store.audit.entries() if e.event == "rx.user-added"]
    assert entry.details["bootstrap"] is True and entry.details["user"] == "ann"


def test_after_the_first_user_only_an_access_administrator_adds_users(
    store: Store, clock: Clock
) -> None:
    practice(store, clock)
    with pytest.raises(InputError, match="--as"):
        add_user(store, None, "eve", "Eve", Role.ACCESS_ADMIN, None, now=clock())
    with pytest.raises(AccessDenied) as denied:
        add_user(store, BOB, "eve", "Eve", Role.ACCESS_ADMIN, None, now=clock())
    assert denied.value.reason is DenyReason.ROLE
    assert store.rx_users.find("eve") is None
    assert events(store)[-1] == "rx.access-denied"


def test_user_records_carry_the_right_dea_numbers(store: Store, clock: Clock) -> None:
    practice(store, clock)
    with pytest.raises(InputError, match="needs their DEA registration"):
        add_user(store, ANN, "drx", "Dr X", Role.PRACTITIONER, None, now=clock())
    with pytest.raises(InputError, match="agent has no DEA number"):
        add_user(store, ANN, "amy", "Amy", Role.AGENT, JONES_DEA, now=clock())
    with pytest.raises(DeaNumberInvalid):
        add_user(store, ANN, "drx", "Dr X", Role.PRACTITIONER, "AB1234564", now=clock())
    with pytest.raises(InputError, match="already belongs to a user"):
        add_user(store, ANN, "drx", "Dr X", Role.PRACTITIONER, "AB1234563", now=clock())


def test_a_one_person_grant_is_refused_and_audited(store: Store, clock: Clock) -> None:
    practice(store, clock)
    g = propose(store, clock, ANN, "drsmith")
    with pytest.raises(TwoPersonRule) as refused:
        approve_grant(store, ANN, g.grant_id, now=clock())
    assert refused.value.reason is DenyReason.SAME_PERSON
    assert store.rx_grants.get(g.grant_id).state is GrantState.PROPOSED
    denied = [e for e in store.audit.entries() if e.event == "rx.access-denied"][-1]
    assert denied.details["reason"] == "same-person" and denied.details["by"] == "ann"
    assert denied.details["os_login"] == "ann-os"


def test_a_grant_by_two_people_neither_a_registrant_is_refused(store: Store, clock: Clock) -> None:
    practice(store, clock)
    g = propose(store, clock, ANN, "drsmith")
    with pytest.raises(TwoPersonRule, match="DEA registrant") as refused:
        approve_grant(store, CARL, g.grant_id, now=clock())
    assert refused.value.reason is DenyReason.NO_REGISTRANT
    assert store.rx_grants.get(g.grant_id).state is GrantState.PROPOSED


def test_two_people_one_a_registrant_grant_signing_permission(store: Store, clock: Clock) -> None:
    practice(store, clock)
    g = permit(store, clock)
    assert g.state is GrantState.ACTIVE and g.approved_by == "drsmith"
    assert g.dea_number == "AB1234563"
    assert events(store)[-2:] == ["rx.grant-proposed", "rx.grant-approved"]
    user, grant = signing_permission(store, "drsmith", clock())
    assert user.user_id == "drsmith" and grant.grant_id == g.grant_id


def test_a_registrant_administrator_may_be_the_second_person(store: Store, clock: Clock) -> None:
    practice(store, clock)
    add_user(store, ANN, "drlee", "Dr. Lee (director)", Role.ACCESS_ADMIN, JONES_DEA, now=clock())
    assert permit(store, clock, approver=Actor("drlee")).state is GrantState.ACTIVE


def test_the_proposer_confirms_the_registration_was_verified(store: Store, clock: Clock) -> None:
    practice(store, clock)
    with pytest.raises(InputError, match=r"1311.125\(b\)"):
        propose(store, clock, ANN, "drsmith", registration_verified=False)


def test_agents_take_no_part_in_access_control(store: Store, clock: Clock) -> None:
    practice(store, clock)
    with pytest.raises(AccessDenied) as denied:
        propose(store, clock, BOB, "drsmith")
    assert denied.value.reason is DenyReason.ROLE
    with pytest.raises(InputError, match="only practitioners"):
        propose(store, clock, ANN, "bob")


def test_an_unknown_user_is_refused_and_the_attempt_audited(store: Store, clock: Clock) -> None:
    practice(store, clock)
    with pytest.raises(AccessDenied) as denied:
        propose(store, clock, Actor("mallory"), "drsmith")
    assert denied.value.reason is DenyReason.UNKNOWN_USER
    last = list(store.audit.entries())[-1]
    assert last.event == "rx.access-denied" and last.details["by"] == "mallory"


def test_the_second_person_must_be_a_registrant_even_when_the_first_is_one(
    store: Store, clock: Clock
) -> None:
    # 1311.125(c): "The second individual must be a DEA registrant."
    practice(store, clock)
    add_user(store, ANN, "drlee", "Dr. Lee (director)", Role.ACCESS_ADMIN, JONES_DEA, now=clock())
    g = propose(store, clock, Actor("drlee"), "drsmith")
    with pytest.raises(TwoPersonRule, match="must be a DEA registrant") as refused:
        approve_grant(store, CARL, g.grant_id, now=clock())
    assert refused.value.reason is DenyReason.NO_REGISTRANT
    assert store.rx_grants.get(g.grant_id).state is GrantState.PROPOSED


def test_a_revocation_is_entered_by_one_person_and_executed_by_a_registrant(
    store: Store, clock: Clock
) -> None:
    practice(store, clock)
    add_user(store, ANN, "drlee", "Dr. Lee (director)", Role.ACCESS_ADMIN, JONES_DEA, now=clock())
    g = permit(store, clock)
    entered = revoke_grant(store, CARL, "drsmith", "left the practice", now=clock())
    # Entering it stops signing at once; the permission is not yet revoked.
    assert entered.state is GrantState.ACTIVE and entered.revoke_entered_by == "carl"
    with pytest.raises(SigningRefused, match=r"revocation .* has been entered") as refused:
        signing_permission(store, "drsmith", clock())
    assert refused.value.reason is DenyReason.NO_PERMISSION
    with pytest.raises(TwoPersonRule) as same:
        execute_revocation(store, CARL, g.grant_id, now=clock())
    assert same.value.reason is DenyReason.SAME_PERSON
    with pytest.raises(TwoPersonRule) as not_registrant:
        execute_revocation(store, ANN, g.grant_id, now=clock())
    assert not_registrant.value.reason is DenyReason.NO_REGISTRANT
    done = execute_revocation(store, Actor("drlee"), g.grant_id, now=clock())
    assert done.state is GrantState.REVOKED and done.revoked_by == "drlee"
    [entry] = [e for e in store.audit.entries() if e.event == "rx.grant-revoked"]
    assert entry.details["reason"] == "left the practice" and entry.details["was"] == "active"
    assert entry.details["entered_by"] == "carl" and entry.details["by"] == "drlee"
    assert "rx.grant-revoke-entered" in events(store)


def test_the_database_refuses_a_revocation_by_one_person(store: Store, clock: Clock) -> None:
    practice(store, clock)
    g = permit(store, clock)
    with pytest.raises(sqlite3.IntegrityError, match="second"):
        store.conn.execute(
            "UPDATE rx_grants SET state = 'revoked', revoked_by = 'ann', revoked_at = 'x' "
            "WHERE grant_id = ?",
            (g.grant_id,),
        )
    revoke_grant(store, ANN, "drsmith", "test", now=clock())
    with pytest.raises(sqlite3.IntegrityError, match="second"):
        store.conn.execute(
            "UPDATE rx_grants SET state = 'revoked', revoked_by = 'ann', revoked_at = 'x' "
            "WHERE grant_id = ?",
            (g.grant_id,),
        )


def test_a_practitioner_may_enter_the_revocation_of_their_own_permission_but_an_agent_not(
    store: Store, clock: Clock
) -> None:
    practice(store, clock)
    permit(store, clock)
    with pytest.raises(AccessDenied):
        revoke_grant(store, BOB, "drsmith", "token lost", now=clock())
    entered = revoke_grant(store, SMITH, "drsmith", "token lost", now=clock())
    assert entered.revoke_entered_by == "drsmith"


def test_a_lapsed_registration_revokes_the_permission_with_its_audit_entry(
    store: Store, clock: Clock
) -> None:
    practice(store, clock)
    g = approve_grant(
        store,
        SMITH,
        propose(store, clock, registration_expires=clock().date() + timedelta(days=2)).grant_id,
        now=clock(),
    )
    assert lapse_registrations(store, clock()) == []
    clock.advance(days=4)
    with pytest.raises(SigningRefused) as refused:
        signing_permission(store, "drsmith", clock())
    assert refused.value.reason is DenyReason.REGISTRATION_LAPSED
    [revoked] = lapse_registrations(store, clock())
    assert revoked.grant_id == g.grant_id and revoked.state is GrantState.REVOKED
    assert revoked.revoked_on_event == "registration-lapsed"
    entry = [e for e in store.audit.entries() if e.event == "rx.grant-revoked"][-1]
    assert entry.details["on_event"] == "registration-lapsed"


def test_a_permission_names_the_practitioners_certificate(store: Store, clock: Clock) -> None:
    practice(store, clock)
    g = permit(store, clock)
    assert g.certificate_sha256 == hashlib.sha256(SMITH_CERT).hexdigest()
    assert g.registration_expires == REGISTRATION_ENDS.isoformat()
    with pytest.raises(sqlite3.IntegrityError, match="never changes"):
        store.conn.execute(
            "UPDATE rx_grants SET certificate_sha256 = ? WHERE grant_id = ?",
            ("0" * 64, g.grant_id),
        )
    with pytest.raises(InputError, match="lapsed"):
        propose(store, clock, user_id="drsmith", registration_expires=date(2020, 1, 1))


def test_agents_never_have_signing_permission(store: Store, clock: Clock) -> None:
    practice(store, clock)
    with pytest.raises(SigningRefused, match="only the practitioner signs") as refused:
        signing_permission(store, "bob", clock())
    assert refused.value.reason is DenyReason.ROLE


def test_a_proposed_permission_does_not_allow_signing(store: Store, clock: Clock) -> None:
    practice(store, clock)
    propose(store, clock, ANN, "drsmith")
    with pytest.raises(SigningRefused, match="awaits approval by a second person"):
        signing_permission(store, "drsmith", clock())


def test_deactivating_a_user_revokes_their_permission(store: Store, clock: Clock) -> None:
    practice(store, clock)
    permit(store, clock)
    deactivate_user(store, CARL, "drsmith", now=clock())
    assert store.rx_grants.open_for("drsmith") is None
    with pytest.raises(AccessDenied) as denied:
        signing_permission(store, "drsmith", clock())
    assert denied.value.reason is DenyReason.INACTIVE_USER
    assert events(store)[-2:] == ["rx.grant-revoked", "rx.user-deactivated"]


def test_the_database_itself_refuses_a_one_person_or_revived_grant(
    store: Store, clock: Clock
) -> None:
    practice(store, clock)
    g = propose(store, clock, ANN, "drsmith")
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
    revoke_grant(store, ANN, "drsmith", "test", now=clock())  # withdrawn
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
