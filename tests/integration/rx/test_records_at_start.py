"""Two `csos` processes starting at once after a month ends make its log once, and run the
daily analysis once (21 CFR 1311.120(b)(27), 1311.150(b)); its alert is acknowledged from
the CLI with who did it in the audit log."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from csos_desktop.store import open_store
from tests.conftest import Provisioned
from tests.launch import run_csos
from tests.unit.rx.helpers import practice, sign_at
from tests.unit.store.helpers import Clock


def _a_sunday_last_month(today: date) -> datetime:
    """Noon UTC on a Sunday of last month: outside business hours in any US time zone."""
    day = today.replace(day=1) - timedelta(days=1)
    while day.weekday() != 6:
        day -= timedelta(days=1)
    return datetime.combine(day, time(12), tzinfo=UTC)


def test_two_processes_starting_at_once_make_last_month_s_log_once(
    tmp_path: Path, rsa_token: Provisioned
) -> None:
    home = tmp_path / "home"
    sunday = _a_sunday_last_month(datetime.now().astimezone().date())
    month = f"{sunday:%Y-%m}"
    with open_store(home / "data" / "csos.db") as store:  # no start-up hook: a test's setup
        clock = Clock(sunday)
        practice(store, clock)  # users added on a Sunday: alerts for the daily analysis
        rx_ids = [sign_at(store, clock, sunday + timedelta(hours=h)) for h in (1, 2)]

    def start(_: int) -> subprocess.CompletedProcess[str]:
        return run_csos(["rx", "alerts", "--json"], rsa_token.hsm, home)

    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(start, range(2)))
    for run in done:
        assert run.returncode == 1, run.stderr  # 1: alerts wait to be acknowledged
    first, second = (json.loads(r.stdout) for r in done)
    assert first == second and len(first) == 4

    with open_store(home / "data" / "csos.db") as store:
        events = [e.event for e in store.audit.entries()]
        logs = store.epcs.logs()
        runs = store.conn.execute("SELECT count(*) FROM rx_audit_runs").fetchone()[0]
    assert [log.month for log in logs] == [month] and logs[0].lines == 2
    assert events.count("rx.monthly-log-produced") == 1
    assert runs == 1 and events.count("rx.alerts-raised") == 1

    kept = run_csos(["rx", "logs", "--month", month, "--sort", "patient"], rsa_token.hsm, home)
    assert kept.returncode == 0, kept.stderr
    rows = list(csv.reader(io.StringIO(kept.stdout)))
    assert sorted(r[-1] for r in rows[1:]) == sorted(rx_ids)

    alert_id = first[0]["alert_id"]
    acked = run_csos(["rx", "alerts", "--ack", str(alert_id), "--as", "carl"], rsa_token.hsm, home)
    assert acked.returncode == 0, acked.stderr
    assert f"Alert {alert_id} acknowledged by carl" in acked.stdout
    with open_store(home / "data" / "csos.db") as store:
        [entry] = [e for e in store.audit.entries() if e.event == "rx.alert-acknowledged"]
        assert entry.details["by"] == "carl" and entry.details["alert_id"] == alert_id
        assert len(store.epcs.alerts(unacknowledged=True)) == 3
