"""The stored EPCS records: monthly prescription logs, daily analysis runs and their alerts.

Rows only; what goes in them is decided in ``services.rx.records``. Writers run inside the
caller's transaction together with their audit entry (migration 0014 keeps the rows
append-only: a log is never changed, an alert is only acknowledged, once).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from csos_desktop.domain.timestamps import format_timestamp


@dataclass(frozen=True)
class StoredLog:
    month: str
    produced_at: str
    keep_until: date
    lines: int
    csv: bytes
    csv_sha256: str


@dataclass(frozen=True)
class AnalysisRun:
    run_id: int
    ran_at: str
    analysed_from: str
    analysed_until: str
    entries: int
    alerts: int
    chain_intact: bool


@dataclass(frozen=True)
class StoredAlert:
    alert_id: int
    run_id: int
    kind: str
    at: str
    user_id: str | None
    message: str
    entry_ids: tuple[int, ...]
    acknowledged_at: str | None
    acknowledged_by: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "alert_id": self.alert_id,
            "kind": self.kind,
            "at": self.at,
            "user": self.user_id,
            "message": self.message,
            "entry_ids": list(self.entry_ids),
            "acknowledged_at": self.acknowledged_at,
            "acknowledged_by": self.acknowledged_by,
        }


_LOG = "month, produced_at, keep_until, lines, csv, csv_sha256"
_RUN = "run_id, ran_at, analysed_from, analysed_until, entries, alerts, chain_intact"
_ALERT = "alert_id, run_id, kind, at, user_id, message, entry_ids, acknowledged_at, acknowledged_by"


class EpcsRecords:
    """The EPCS records of one store connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def anything_due(
        self,
        *,
        month_start: str,
        last_month: str,
        today: date,
        analysed_since: str | None,
        now: str,
    ) -> bool:
        """One query at every start: is a monthly log missing (a prescription signed before
        *month_start* and no log of *last_month*), one past keeping, or (with
        *analysed_since*) no analysis since then? The services then check precisely."""
        row = self._conn.execute(
            "SELECT (EXISTS (SELECT 1 FROM signed_prescriptions WHERE signed_at < :start) "
            "AND NOT EXISTS (SELECT 1 FROM rx_monthly_logs WHERE month = :last)) "
            "OR EXISTS (SELECT 1 FROM rx_monthly_logs WHERE keep_until <= :today) "
            "OR (:since IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM rx_audit_runs WHERE ran_at >= :since AND ran_at <= :now))",
            {
                "start": month_start,
                "last": last_month,
                "today": today.isoformat(),
                "since": analysed_since,
                "now": now,
            },
        ).fetchone()
        return bool(row[0])

    # -- monthly logs ----------------------------------------------------------------
    def first_signed_at(self) -> str | None:
        """When the oldest signed prescription was signed (UTC, as stored), if any."""
        row = self._conn.execute("SELECT min(signed_at) FROM signed_prescriptions").fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def log_months(self) -> set[str]:
        return {str(r[0]) for r in self._conn.execute("SELECT month FROM rx_monthly_logs")}

    def logs(self) -> list[StoredLog]:
        rows = self._conn.execute(f"SELECT {_LOG} FROM rx_monthly_logs ORDER BY month")
        return [_log(r) for r in rows]

    def log(self, month: str) -> StoredLog | None:
        row = self._conn.execute(
            f"SELECT {_LOG} FROM rx_monthly_logs WHERE month = ?", (month,)
        ).fetchone()
        return None if row is None else _log(row)

    def add_log(
        self, month: str, csv: bytes, lines: int, *, at: datetime, keep_until: date
    ) -> StoredLog:
        digest = hashlib.sha256(csv).hexdigest()
        self._conn.execute(
            f"INSERT INTO rx_monthly_logs ({_LOG}) VALUES (?, ?, ?, ?, ?, ?)",
            (month, format_timestamp(at), keep_until.isoformat(), lines, csv, digest),
        )
        return StoredLog(month, format_timestamp(at), keep_until, lines, csv, digest)

    def months_kept_until(self, today: date) -> list[str]:
        """The logs whose two years end on or before *today*."""
        rows = self._conn.execute(
            "SELECT month FROM rx_monthly_logs WHERE keep_until <= ? ORDER BY month",
            (today.isoformat(),),
        )
        return [str(r[0]) for r in rows]

    def delete_logs_due(self, today: date) -> list[str]:
        """Delete the logs kept until *today* or earlier, inside the caller's transaction.

        The keep-two-years trigger yields only to a purge permit dated on or after a log's
        keep_until; the permit lives only inside this transaction, as the order purge's.
        """
        months = self.months_kept_until(today)
        if months:
            self._conn.execute(
                "INSERT INTO purge_permit (only_row, before) VALUES (1, ?)", (today.isoformat(),)
            )
            self._conn.execute(
                "DELETE FROM rx_monthly_logs WHERE keep_until <= ?", (today.isoformat(),)
            )
            self._conn.execute("DELETE FROM purge_permit")
        return months

    # -- daily analysis ----------------------------------------------------------------
    def last_run(self) -> AnalysisRun | None:
        row = self._conn.execute(
            f"SELECT {_RUN} FROM rx_audit_runs ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else _run(row)

    def add_run(
        self,
        *,
        at: datetime,
        analysed_from: datetime,
        analysed_until: datetime,
        entries: int,
        alerts: int,
        chain_intact: bool,
    ) -> int:
        cur = self._conn.execute(
            "INSERT INTO rx_audit_runs (ran_at, analysed_from, analysed_until, entries, alerts, "
            "chain_intact) VALUES (?, ?, ?, ?, ?, ?)",
            (
                format_timestamp(at),
                format_timestamp(analysed_from),
                format_timestamp(analysed_until),
                entries,
                alerts,
                int(chain_intact),
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def add_alert(
        self,
        run_id: int,
        kind: str,
        at: str,
        user_id: str | None,
        message: str,
        entry_ids: tuple[int, ...],
    ) -> int | None:
        """The new alert's id, or None when the same finding is already on record."""
        cur = self._conn.execute(
            "INSERT INTO rx_alerts (run_id, kind, at, user_id, message, entry_ids) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, entry_ids) DO NOTHING",
            (run_id, kind, at, user_id, message, json.dumps(list(entry_ids))),
        )
        return cur.lastrowid if cur.rowcount == 1 else None

    def alerts(self, *, unacknowledged: bool = False) -> list[StoredAlert]:
        where = " WHERE acknowledged_at IS NULL" if unacknowledged else ""
        rows = self._conn.execute(f"SELECT {_ALERT} FROM rx_alerts{where} ORDER BY alert_id")
        return [_alert(r) for r in rows]

    def alert(self, alert_id: int) -> StoredAlert | None:
        row = self._conn.execute(
            f"SELECT {_ALERT} FROM rx_alerts WHERE alert_id = ?", (alert_id,)
        ).fetchone()
        return None if row is None else _alert(row)

    def acknowledge(self, alert_id: int, by: str, at: datetime) -> None:
        self._conn.execute(
            "UPDATE rx_alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE alert_id = ?",
            (format_timestamp(at), by, alert_id),
        )


def _log(r: tuple[object, ...]) -> StoredLog:
    csv = r[4]
    assert isinstance(csv, bytes)
    return StoredLog(
        str(r[0]), str(r[1]), date.fromisoformat(str(r[2])), int(str(r[3])), csv, str(r[5])
    )


def _run(r: tuple[object, ...]) -> AnalysisRun:
    return AnalysisRun(
        int(str(r[0])), str(r[1]), str(r[2]), str(r[3]), int(str(r[4])), int(str(r[5])), r[6] == 1
    )


def _alert(r: tuple[object, ...]) -> StoredAlert:
    return StoredAlert(
        int(str(r[0])),
        int(str(r[1])),
        str(r[2]),
        str(r[3]),
        None if r[4] is None else str(r[4]),
        str(r[5]),
        tuple(int(i) for i in json.loads(str(r[6]))),
        None if r[7] is None else str(r[7]),
        None if r[8] is None else str(r[8]),
    )
