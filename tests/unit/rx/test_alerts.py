"""Alerts for audit events that suggest a security incident (1311.150, 1311.215)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from csos_desktop.services.rx.alerts import AlertKind, alerts, alerts_between
from csos_desktop.services.rx.audit_report import day_bounds
from csos_desktop.store.audit import AuditEntry

CHICAGO = ZoneInfo("America/Chicago")
# A Wednesday, 10:00 in Chicago (CST, UTC-6).
T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def entry(n: int, event: str, at: datetime, **details: object) -> AuditEntry:
    return AuditEntry(n, f"{at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}", event, None, details, "0" * 64)


def failures(user: str, *minutes: int, start: int = 1) -> list[AuditEntry]:
    return [
        entry(start + i, "rx.auth-failed", T0 + timedelta(minutes=m), by=user, reason="WrongPin")
        for i, m in enumerate(minutes)
    ]


def test_three_failed_authentications_within_15_minutes_raise_one_alert() -> None:
    [alert] = alerts(failures("drsmith", 0, 4, 9, 10), zone=CHICAGO)
    assert alert.kind is AlertKind.REPEATED_AUTH_FAILURE
    assert alert.user == "drsmith" and alert.entry_ids == (1, 2, 3)
    assert "3 failed authentications for drsmith within 15 minutes" in alert.message


def test_failures_spread_out_or_across_users_raise_none() -> None:
    assert alerts(failures("drsmith", 0, 10, 20, 30), zone=CHICAGO) == []
    mixed = failures("drsmith", 0, 1) + failures("drlee", 2, start=3)
    assert alerts(mixed, zone=CHICAGO) == []


def test_a_second_burst_raises_a_second_alert() -> None:
    raised = alerts(failures("drsmith", 0, 1, 2, 3, 4, 5), zone=CHICAGO)
    assert [a.entry_ids for a in raised] == [(1, 2, 3), (4, 5, 6)]


def test_permission_changes_outside_business_hours_raise_an_alert() -> None:
    evening = T0 + timedelta(hours=12)  # 22:00 in Chicago
    saturday = T0 + timedelta(days=3)
    entries = [
        entry(1, "rx.grant-approved", T0, by="drsmith", grant_id=1),
        entry(2, "rx.grant-proposed", evening, by="ann", grant_id=2),
        entry(3, "rx.user-added", saturday, by="ann", user="eve"),
        entry(4, "rx.signed", evening, by="drsmith"),
    ]
    raised = alerts(entries, zone=CHICAGO)
    assert [(a.kind, a.entry_ids) for a in raised] == [
        (AlertKind.PERMISSION_CHANGE_OFF_HOURS, (2,)),
        (AlertKind.PERMISSION_CHANGE_OFF_HOURS, (3,)),
    ]
    assert "Wed 22:00 local time" in raised[0].message


def test_the_same_moment_is_business_hours_in_one_zone_and_not_another() -> None:
    e = [entry(1, "rx.grant-revoked", T0, by="ann")]  # 10:00 Chicago, 01:00 Tokyo (Thu)
    assert alerts(e, zone=CHICAGO) == []
    assert len(alerts(e, zone=ZoneInfo("Asia/Tokyo"))) == 1


def test_signing_attempted_with_a_revoked_certificate_raises_an_alert() -> None:
    e = entry(
        1,
        "rx.access-denied",
        T0,
        by="drsmith",
        action="sign",
        reason="certificate-revoked",
        certificate_serial="1234",
    )
    [alert] = alerts([e], zone=CHICAGO)
    assert alert.kind is AlertKind.REVOKED_CERTIFICATE_USED and "serial 1234" in alert.message


def test_attempts_around_the_two_person_rule_raise_an_alert() -> None:
    e = [
        entry(1, "rx.access-denied", T0, by="ann", reason="same-person"),
        entry(2, "rx.access-denied", T0, by="bob", reason="role"),
    ]
    assert [a.kind for a in alerts(e, zone=CHICAGO)] == [AlertKind.TWO_PERSON_RULE_BYPASS]


def test_a_day_s_alerts_count_failures_just_before_midnight() -> None:
    start, end = day_bounds(date(2026, 11, 26), CHICAGO)
    before = start - timedelta(minutes=5)
    e = [
        entry(1, "rx.auth-failed", before, by="x"),
        entry(2, "rx.auth-failed", before + timedelta(minutes=2), by="x"),
        entry(3, "rx.auth-failed", start + timedelta(minutes=1), by="x"),
    ]
    assert [a.entry_ids for a in alerts_between(e, start, end, zone=CHICAGO)] == [(1, 2, 3)]
    prev_start, prev_end = day_bounds(date(2026, 11, 25), CHICAGO)
    assert alerts_between(e, prev_start, prev_end, zone=CHICAGO) == []
    assert end - start == timedelta(hours=24)
