"""The daily EPCS audit report: that day's events, its alerts, the chain's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx.access import AccessDenied
from csos_desktop.services.rx.alerts import AlertKind
from csos_desktop.services.rx.audit_report import day_report, describe
from csos_desktop.services.rx.grant_revocation import revoke_grant
from csos_desktop.store import Store
from tests.unit.rx.helpers import ANN, BOB, CARL, permit, practice, propose, rx_input
from tests.unit.store.helpers import Clock

CHICAGO = ZoneInfo("America/Chicago")


def test_the_report_lists_each_of_the_day_s_events_and_only_those(
    store: Store, clock: Clock
) -> None:
    clock.now = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # Tue 10:00 in Chicago
    practice(store, clock)
    clock.advance(days=1)
    permit(store, clock)
    rec = rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
    with pytest.raises(AccessDenied):
        propose(store, clock, BOB, "drsmith")
    revoke_grant(store, CARL, "drsmith", "audit test", now=clock())
    report = day_report(store, clock.now.astimezone(CHICAGO).date(), zone=CHICAGO)
    assert [e.event for e in report.entries] == [
        "rx.grant-proposed",
        "rx.grant-approved",
        "rx.draft-added",
        "rx.access-denied",
        "rx.grant-revoke-entered",
    ]
    assert report.alerts == () and report.chain.intact
    lines = [describe(e, CHICAGO) for e in report.entries]
    assert lines[0].startswith("10:00:00") and "by=ann" in lines[0] and "user=drsmith" in lines[0]
    assert f"rx_id={rec.rx_id}" in lines[2]
    assert "reason=role" in lines[3] and "action=grant-propose" in lines[3]
    day_before = day_report(store, (clock.now - timedelta(days=1)).date(), zone=CHICAGO)
    assert [e.event for e in day_before.entries] == ["rx.user-added"] * 4
    everything = day_report(store, day_before.day, zone=CHICAGO, everything=True)
    assert {e.entry_id for e in day_before.entries} <= {e.entry_id for e in everything.entries}
    assert report.to_json()["audit_chain"]["intact"] is True  # type: ignore[index]


def test_a_permission_change_at_night_shows_as_an_alert(store: Store, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    practice(store, clock)
    clock.now = datetime(2026, 11, 26, 4, 30, tzinfo=UTC)  # 22:30 in Chicago on the 25th
    propose(store, clock, ANN, "drsmith")
    report = day_report(store, clock.now.astimezone(CHICAGO).date(), zone=CHICAGO)
    [alert] = report.alerts
    assert alert.kind is AlertKind.PERMISSION_CHANGE_OFF_HOURS and alert.user == "ann"
