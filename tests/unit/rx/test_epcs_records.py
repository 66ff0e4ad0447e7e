"""The EPCS records made at start-up: the monthly log kept two years (1311.120(b)(27)) and
the daily audit analysis with its acknowledged alerts (1311.150(b), 1311.215(b))."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from csos_desktop.domain.errors import InputError
from csos_desktop.services.rx.access import AccessDenied, Actor
from csos_desktop.services.rx.monthly_log import LogOrder, monthly_log, read_csv, sort_lines
from csos_desktop.services.rx.records import (
    acknowledge_alert,
    analyse_if_due,
    on_start,
    purge_expired_logs,
    unacknowledged,
)
from csos_desktop.store import Store
from tests.unit.rx.helpers import BOB, CARL, practice, sign_at
from tests.unit.store.helpers import Clock

OCTOBER = datetime(2026, 10, 5, 15, tzinfo=UTC)  # a Monday, in office hours
SUNDAY_NIGHT = datetime(2026, 10, 4, 3, tzinfo=UTC)
ALPRAZOLAM = {"name": "Alprazolam", "strength": "0.5 mg", "dosage_form": "tablet", "schedule": "4"}
ABBOTT = {
    "name": "Aaron Abbott",
    "address": {"street": "1 Main", "city": "Springfield", "state": "IL", "postal_code": "62701"},
}


def _october(store: Store, clock: Clock) -> list[str]:
    clock.now = OCTOBER
    practice(store, clock)
    return [
        sign_at(store, clock, OCTOBER + timedelta(days=5)),
        sign_at(store, clock, OCTOBER + timedelta(days=7), patient=ABBOTT),
        sign_at(store, clock, OCTOBER + timedelta(days=9), drug=ALPRAZOLAM),
    ]


def _events(store: Store, event: str) -> list[dict[str, object]]:
    return [dict(e.details) for e in store.audit.entries() if e.event == event]


def test_the_month_s_log_is_made_once_on_the_first_start_after_it_ends(
    store: Store, clock: Clock
) -> None:
    first, abbott, alprazolam = _october(store, clock)
    started = on_start(store, now=datetime(2026, 10, 31, 12, tzinfo=UTC), analyse=False)
    assert started is not None and started.logged == ()  # October has not ended
    started = on_start(store, now=datetime(2026, 11, 2, 8, tzinfo=UTC), analyse=False)
    assert started is not None and started.logged == ("2026-10",)
    kept = store.epcs.log("2026-10")
    assert kept is not None and kept.lines == 3
    assert str(kept.keep_until) == "2028-11-02"  # two years from the day it was made
    [audited] = _events(store, "rx.monthly-log-produced")
    assert audited["month"] == "2026-10" and audited["csv_sha256"] == kept.csv_sha256
    # Sortable by patient, drug and date: the kept lines are the live log's.
    lines = read_csv(kept.csv.decode("utf-8"))
    for order in LogOrder:
        assert sort_lines(lines, order) == monthly_log(store, "2026-10", order=order)
    assert sort_lines(lines, LogOrder.PATIENT)[0].rx_id == abbott
    assert sort_lines(lines, LogOrder.DRUG)[0].rx_id == alprazolam
    assert [ln.rx_id for ln in lines] == [first, abbott, alprazolam]
    # A second start makes nothing; a start in January makes November's and December's.
    again = on_start(store, now=datetime(2026, 11, 20, tzinfo=UTC), analyse=False)
    assert again is not None and again.logged == ()
    january = on_start(store, now=datetime(2027, 1, 3, tzinfo=UTC), analyse=False)
    assert january is not None and january.logged == ("2026-11", "2026-12")
    empty = store.epcs.log("2026-12")
    assert empty is not None and empty.lines == 0
    assert len(_events(store, "rx.monthly-log-produced")) == 3


def test_a_log_is_kept_two_years_and_purged_by_the_retention_rule_only(
    store: Store, clock: Clock
) -> None:
    _october(store, clock)
    on_start(store, now=datetime(2026, 11, 2, 8, tzinfo=UTC), analyse=False)
    assert purge_expired_logs(store, now=datetime(2028, 11, 1, 20, tzinfo=UTC)) == []
    with pytest.raises(sqlite3.IntegrityError, match="kept two years"), store.transaction():
        store.conn.execute("DELETE FROM rx_monthly_logs")
    # Even a purge permit does not take a log before its two years are over.
    with pytest.raises(sqlite3.IntegrityError, match="kept two years"), store.transaction():
        store.conn.execute("INSERT INTO purge_permit (only_row, before) VALUES (1, '2028-11-01')")
        store.conn.execute("DELETE FROM rx_monthly_logs")
    with pytest.raises(sqlite3.IntegrityError, match="never changes"), store.transaction():
        store.conn.execute("UPDATE rx_monthly_logs SET lines = 0")
    assert store.epcs.log_months() == {"2026-10"}
    assert purge_expired_logs(store, now=datetime(2028, 11, 2, 12, tzinfo=UTC)) == ["2026-10"]
    assert store.epcs.log_months() == set()
    [purged] = _events(store, "rx.monthly-log-purged")
    assert purged["months"] == ["2026-10"]
    refused = _events(store, "store.write-refused")
    assert [r["table"] for r in refused] == ["rx_monthly_logs"] * 3
    assert store.audit.verify().intact


def test_the_daily_analysis_stores_its_alerts_once_a_day(store: Store, clock: Clock) -> None:
    clock.now = SUNDAY_NIGHT  # users added at 03:00 on a Sunday: outside business hours
    practice(store, clock)
    first = analyse_if_due(store, now=SUNDAY_NIGHT + timedelta(hours=1), zone=UTC)
    assert first is not None and first.chain.intact
    alerts = unacknowledged(store)
    assert len(alerts) == len(first.new_alert_ids) == 4
    assert {a.kind for a in alerts} == {"permission-change-off-hours"}
    [raised] = _events(store, "rx.alerts-raised")
    assert raised["alert_ids"] == list(first.new_alert_ids)
    # Not again within 24 h, from this process or another; then once more, finding nothing new.
    assert analyse_if_due(store, now=SUNDAY_NIGHT + timedelta(hours=20), zone=UTC) is None
    second = analyse_if_due(store, now=SUNDAY_NIGHT + timedelta(hours=25), zone=UTC)
    assert second is not None and second.new_alert_ids == ()
    last = store.epcs.last_run()
    assert last is not None and last.run_id == second.run_id
    assert len(unacknowledged(store)) == 4 and len(_events(store, "rx.alerts-raised")) == 1


def test_acknowledging_an_alert_is_audited_with_who_did_it(store: Store, clock: Clock) -> None:
    clock.now = SUNDAY_NIGHT
    practice(store, clock)
    analyse_if_due(store, now=SUNDAY_NIGHT + timedelta(hours=1), zone=UTC)
    alert = unacknowledged(store)[0]
    later = SUNDAY_NIGHT + timedelta(days=1, hours=6)
    done = acknowledge_alert(store, CARL, alert.alert_id, now=later)
    assert done.acknowledged_by == "carl" and done.acknowledged_at == "2026-10-05T09:00:00Z"
    [audited] = _events(store, "rx.alert-acknowledged")
    assert audited["by"] == "carl" and audited["alert_id"] == alert.alert_id
    assert alert.alert_id not in {a.alert_id for a in unacknowledged(store)}
    with pytest.raises(InputError, match="already acknowledged by carl"):
        acknowledge_alert(store, CARL, alert.alert_id, now=later)
    # An agent sets no access controls, so does not judge incidents (1311.150(c)).
    with pytest.raises(AccessDenied, match="only access-admin or practitioner users may"):
        acknowledge_alert(store, BOB, unacknowledged(store)[0].alert_id, now=later)
    assert _events(store, "rx.access-denied")[-1]["by"] == "bob"
    # Someone not on record is refused, and the refusal is audited.
    with pytest.raises(AccessDenied):
        acknowledge_alert(store, Actor("mallory"), unacknowledged(store)[0].alert_id, now=later)
    denied = _events(store, "rx.access-denied")[-1]
    assert denied["action"] == "acknowledge-alert" and denied["by"] == "mallory"
    # An acknowledgement is never undone.
    with pytest.raises(sqlite3.IntegrityError, match="acknowledged, once"), store.transaction():
        store.conn.execute("UPDATE rx_alerts SET acknowledged_at = NULL, acknowledged_by = NULL")


def test_a_broken_audit_chain_is_an_alert(store: Store, clock: Clock, tmp_path: object) -> None:
    clock.now = OCTOBER
    practice(store, clock)
    raw = sqlite3.connect(store.path)
    raw.execute("DROP TRIGGER audit_log_append_only")  # a client outside the program
    raw.execute("UPDATE audit_log SET details = '{}' WHERE entry_id = 3")
    raw.commit()
    raw.close()
    found = analyse_if_due(store, now=OCTOBER + timedelta(hours=1), zone=UTC)
    assert found is not None and not found.chain.intact
    [alert] = unacknowledged(store)
    assert alert.kind == "audit-chain-broken" and "entry 4" in alert.message
