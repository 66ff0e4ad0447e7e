"""The EPCS records made without anyone asking: the monthly log and the daily analysis.

21 CFR 1311.120(b)(27): a log of the month's controlled-substance prescriptions, sortable
by patient, drug and date, kept two years. 1311.150(b) and 1311.215(b): the audit trail is
analysed every day and what it finds is shown to someone who must acknowledge it.

:func:`on_start` is the one call a front end makes when it opens the store (through
``services.pharmacy_store.open_store``); the GUI also runs :func:`analyse_if_due` on a
timer. Every write is one transaction with its audit entry; the checks are repeated
inside it, so two processes starting at once make each record once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from csos_desktop.config.local_time import local_date, pharmacy_zone
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.domain.timestamps import format_timestamp
from csos_desktop.services.rx.access import (
    DESIGNATED,
    Actor,
    active_user,
    guarded,
    require_role,
)
from csos_desktop.services.rx.alerts import AlertKind, AlertPolicy, alerts_between, entry_time
from csos_desktop.services.rx.monthly_log import (
    LogLine,
    LogOrder,
    log_csv,
    log_line,
    signed_day,
    sort_lines,
)
from csos_desktop.store.audit import AuditEntry, AuditEvent, AuditReport
from csos_desktop.store.epcs_records import StoredAlert
from csos_desktop.store.local_store import Store

LOG = logging.getLogger(__name__)
#: 1311.120(b)(27) keeps the monthly log two years; counted from the day it is made.
KEEP_YEARS = 2
#: 1311.150(b) / 1311.215(b): the audit trail is analysed at least once a day.
ANALYSIS_EVERY = timedelta(hours=24)


@dataclass(frozen=True)
class StartUpRecords:
    """What a start made: the months logged and purged, and the analysis run (if due)."""

    logged: tuple[str, ...]
    purged: tuple[str, ...]
    analysis: Analysis | None


@dataclass(frozen=True)
class Analysis:
    run_id: int
    entries: int
    found: int
    new_alert_ids: tuple[int, ...]
    chain: AuditReport


# -- the monthly log -------------------------------------------------------------------


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _next(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def keep_until(made: date) -> date:
    """Two years after *made* (29 February keeps until 1 March)."""
    try:
        return made.replace(year=made.year + KEEP_YEARS)
    except ValueError:
        return date(made.year + KEEP_YEARS, 3, 1)


def months_due(store: Store, today: date) -> list[str]:
    """Ended months not yet logged: from the first prescription's month to last month.

    A month that ended more than two years ago is past keeping and is not made now.
    """
    first = store.epcs.first_signed_at()
    last = _month(today.replace(day=1) - timedelta(days=1))
    if first is None:
        return []
    start = _month(local_date(datetime.fromisoformat(first.replace("Z", "+00:00"))))
    oldest = _month(date(today.year - KEEP_YEARS, today.month, 1))
    have = store.epcs.log_months()
    out, month = [], max(start, oldest)
    while month <= last:
        if month not in have:
            out.append(month)
        month = _next(month)
    return out


def produce_monthly_logs(store: Store, *, now: datetime) -> list[str]:
    """Make and keep each ended month's log not made yet; the months made."""
    today = local_date(now)
    if not months_due(store, today):  # every start but the first of a month: no write lock
        return []
    with store.transaction():
        due = months_due(store, today)  # again under the lock: another process may have won
        by_month: dict[str, list[LogLine]] = {m: [] for m in due}
        for signed in store.prescriptions.all_signed():
            lines = by_month.get(_month(signed_day(signed)))
            if lines is not None:
                lines.append(log_line(signed))
        for month in due:
            lines = sort_lines(by_month[month], LogOrder.DATE)
            text = log_csv(lines).encode("utf-8")
            kept = store.epcs.add_log(month, text, len(lines), at=now, keep_until=keep_until(today))
            store.audit.append(
                AuditEvent.RX_MONTHLY_LOG_PRODUCED,
                at=now,
                details={
                    "month": month,
                    "prescriptions": len(lines),
                    "csv_sha256": kept.csv_sha256,
                    "keep_until": kept.keep_until.isoformat(),
                },
            )
    return due


def purge_expired_logs(store: Store, *, now: datetime) -> list[str]:
    """Delete the logs whose two years are over (never one younger); the months deleted."""
    today = local_date(now)
    if not store.epcs.months_kept_until(today):
        return []
    with store.transaction():
        months = store.epcs.delete_logs_due(today)
        if months:
            store.audit.append(
                AuditEvent.RX_MONTHLY_LOG_PURGED,
                at=now,
                details={"months": months, "kept_until_on_or_before": today.isoformat()},
            )
    return months


# -- the daily analysis ------------------------------------------------------------------


def analysis_due(store: Store, now: datetime) -> bool:
    """No run yet, the last one 24 h ago or more, or one stamped in the future (clock set
    back: waiting for that time would skip days)."""
    last = store.epcs.last_run()
    if last is None:
        return True
    since = now - datetime.fromisoformat(last.ran_at.replace("Z", "+00:00"))
    return not timedelta(0) <= since < ANALYSIS_EVERY


def analyse_if_due(
    store: Store, *, now: datetime, zone: tzinfo | None = None, policy: AlertPolicy | None = None
) -> Analysis | None:
    """Run the daily analysis unless one ran in the last 24 h (checked under the lock)."""
    if not analysis_due(store, now):
        return None
    zone = zone or pharmacy_zone()
    with store.transaction():
        if not analysis_due(store, now):  # another process ran it meanwhile
            return None
        last = store.epcs.last_run()
        policy = policy or AlertPolicy()
        if last is None:  # the first run reads every EPCS entry
            rx = list(store.audit.entries(event_prefix="rx."))
            start = _first(rx, now)
        else:  # the entries since the last run, and one failed-auth window before it
            start = datetime.fromisoformat(last.analysed_until.replace("Z", "+00:00"))
            since = start - policy.failed_auth_window
            rx = list(store.audit.entries(since=since, event_prefix="rx."))
        found = [
            (a.kind.value, a.at, a.user, a.message, a.entry_ids)
            for a in alerts_between(rx, start, now + timedelta(seconds=1), zone=zone, policy=policy)
        ]
        chain = store.audit.verify()  # the whole chain: an old entry edited is found too
        if chain.broken is not None:
            found.append(
                (
                    AlertKind.AUDIT_CHAIN_BROKEN.value,
                    format_timestamp(now),
                    None,
                    f"The audit log's hash chain does not hold at entry "
                    f"{chain.broken.entry_id}: {chain.broken.problem}. Someone changed or "
                    "deleted audit records outside CSOS Desktop; keep the database and its "
                    "backups and report it as a security incident.",
                    (chain.broken.entry_id,),
                )
            )
        run_id = store.epcs.add_run(
            at=now,
            analysed_from=start,
            analysed_until=now,
            entries=chain.entries,
            alerts=len(found),
            chain_intact=chain.intact,
        )
        new = tuple(
            alert_id
            for alert_id in (store.epcs.add_alert(run_id, *f) for f in found)
            if alert_id is not None
        )
        if new:  # a run that finds nothing new is kept in rx_audit_runs alone
            store.audit.append(
                AuditEvent.RX_ALERTS_RAISED,
                at=now,
                details={
                    "run_id": run_id,
                    "alert_ids": list(new),
                    "kinds": sorted({f[0] for f in found}),
                },
            )
    return Analysis(run_id, chain.entries, len(found), new, chain)


def _first(entries: list[AuditEntry], now: datetime) -> datetime:
    return entry_time(entries[0]) if entries else now


def unacknowledged(store: Store) -> list[StoredAlert]:
    """The alerts still to be acknowledged, oldest first (Home shows them)."""
    return store.epcs.alerts(unacknowledged=True)


def acknowledge_alert(store: Store, actor: Actor, alert_id: int, *, now: datetime) -> StoredAlert:
    """Record that *actor* has seen alert *alert_id* and judged it, with its audit entry in
    the same transaction. Only those who set logical access controls decide whether an
    event was a security incident (1311.150(c)): an access administrator or a
    practitioner; an agent or an unknown user is refused, and the refusal audited."""

    def step() -> None:
        user = active_user(store, actor.user_id)
        require_role(user, DESIGNATED, "acknowledge audit alerts (1311.150)")
        alert = store.epcs.alert(alert_id)
        if alert is None:
            raise InputError(f"There is no alert {alert_id}; `csos rx alerts` lists them.")
        if alert.acknowledged_at is not None:
            raise InputError(
                f"Alert {alert_id} was already acknowledged by {alert.acknowledged_by} "
                f"at {alert.acknowledged_at}."
            )
        store.epcs.acknowledge(alert_id, actor.user_id, now)
        store.audit.append(
            AuditEvent.RX_ALERT_ACKNOWLEDGED,
            at=now,
            details={
                **actor.details(),
                "alert_id": alert_id,
                "kind": alert.kind,
                "entry_ids": list(alert.entry_ids),
            },
        )

    guarded(store, actor, "acknowledge-alert", now, step, {"alert_id": alert_id})
    acknowledged = store.epcs.alert(alert_id)
    assert acknowledged is not None
    return acknowledged


# -- at start-up --------------------------------------------------------------------------


def on_start(store: Store, *, now: datetime, analyse: bool = True) -> StartUpRecords | None:
    """The records due when the program starts: last month's log (and any missed), the
    purge of logs past two years, and the daily analysis when 24 h have passed.

    Never stops the program: a busy or full database is logged and tried at the next start.
    """
    try:
        logged = produce_monthly_logs(store, now=now)
        purged = purge_expired_logs(store, now=now)
        analysis = analyse_if_due(store, now=now) if analyse else None
    except CsosError as exc:
        LOG.warning("the EPCS records due at start-up were not made: %s", exc.message)
        return None
    return StartUpRecords(tuple(logged), tuple(purged), analysis)


@dataclass(frozen=True)
class AlertsView:
    """What Home shows: the unacknowledged alerts and who may acknowledge them."""

    alerts: tuple[StoredAlert, ...]
    users: tuple[str, ...]  # ids of the active users who may acknowledge (not agents)
    analysis: Analysis | None = None


def alerts_view(store: Store, *, now: datetime, analyse: bool = True) -> AlertsView:
    """Run the daily analysis if due (*analyse*), then read the alerts to show."""
    analysis = analyse_if_due(store, now=now) if analyse else None
    users = tuple(u.user_id for u in store.rx_users.all() if u.active and u.role in DESIGNATED)
    return AlertsView(tuple(unacknowledged(store)), users, analysis)
