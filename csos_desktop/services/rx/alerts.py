"""Alerts for audit events that suggest a security incident (21 CFR 1311.150, 1311.215).

A pure function over audit entries, so the GUI, the daily report and tests
all get the same answer. Entry times are UTC; business hours are judged in
the practice's time zone, which the caller passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum

from csos_desktop.store.audit import AuditEntry, AuditEvent

#: Grant, revoke and user changes: changes to who may sign.
PERMISSION_EVENTS = frozenset(
    {
        AuditEvent.RX_USER_ADDED,
        AuditEvent.RX_USER_DEACTIVATED,
        AuditEvent.RX_GRANT_PROPOSED,
        AuditEvent.RX_GRANT_APPROVED,
        AuditEvent.RX_GRANT_REVOKED,
        AuditEvent.RX_GRANT_REVOKE_ENTERED,
        AuditEvent.RX_REGISTRATION_ADDED,
        AuditEvent.RX_REGISTRATION_REMOVED,
    }
)


class AlertKind(StrEnum):
    REPEATED_AUTH_FAILURE = "repeated-auth-failure"
    PERMISSION_CHANGE_OFF_HOURS = "permission-change-off-hours"
    REVOKED_CERTIFICATE_USED = "revoked-certificate-used"
    TWO_PERSON_RULE_BYPASS = "two-person-rule-bypass"
    # Raised by the daily analysis (services.rx.records) when audit.verify() fails.
    AUDIT_CHAIN_BROKEN = "audit-chain-broken"


@dataclass(frozen=True)
class BusinessHours:
    """When permission changes are expected: weekdays (Mon=0) between two local times."""

    start: time = time(7, 0)
    end: time = time(19, 0)
    weekdays: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))

    def contains(self, moment: datetime) -> bool:
        return moment.weekday() in self.weekdays and self.start <= moment.time() < self.end


@dataclass(frozen=True)
class AlertPolicy:
    failed_auth_count: int = 3
    failed_auth_window: timedelta = timedelta(minutes=15)
    hours: BusinessHours = field(default_factory=BusinessHours)


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    at: str  # the entry that raised it (UTC, as logged)
    user: str | None
    message: str
    entry_ids: tuple[int, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "at": self.at,
            "user": self.user,
            "message": self.message,
            "entry_ids": list(self.entry_ids),
        }


def entry_time(entry: AuditEntry) -> datetime:
    return datetime.fromisoformat(entry.at.replace("Z", "+00:00")).astimezone(UTC)


def _by(entry: AuditEntry) -> str | None:
    by = entry.details.get("by")
    return None if by is None else str(by)


def alerts(
    entries: Iterable[AuditEntry], *, zone: tzinfo, policy: AlertPolicy | None = None
) -> list[Alert]:
    """Every alert the entries raise, in log order."""
    policy = policy or AlertPolicy()
    out: list[Alert] = []
    failures: dict[str | None, list[AuditEntry]] = {}
    for e in entries:
        if e.event == AuditEvent.RX_AUTH_FAILED:
            alert = _repeated_failure(failures.setdefault(_by(e), []), e, policy)
            if alert is not None:
                out.append(alert)
        elif e.event in PERMISSION_EVENTS:
            local = entry_time(e).astimezone(zone)
            if not policy.hours.contains(local):
                out.append(
                    Alert(
                        AlertKind.PERMISSION_CHANGE_OFF_HOURS,
                        e.at,
                        _by(e),
                        f"{e.event} by {_by(e)} at {local:%a %H:%M} local time, "
                        "outside business hours",
                        (e.entry_id,),
                    )
                )
        elif e.event == AuditEvent.RX_ACCESS_DENIED:
            reason = e.details.get("reason")
            if reason == "certificate-revoked":
                out.append(
                    Alert(
                        AlertKind.REVOKED_CERTIFICATE_USED,
                        e.at,
                        _by(e),
                        f"{_by(e)} tried to sign with a revoked certificate (serial "
                        f"{e.details.get('certificate_serial')}): the token may be "
                        "lost or stolen",
                        (e.entry_id,),
                    )
                )
            elif reason in ("same-person", "no-registrant"):
                out.append(
                    Alert(
                        AlertKind.TWO_PERSON_RULE_BYPASS,
                        e.at,
                        _by(e),
                        f"{_by(e)} tried to approve a signing permission without a "
                        f"second person or a registrant ({reason})",
                        (e.entry_id,),
                    )
                )
    return out


def _repeated_failure(seen: list[AuditEntry], e: AuditEntry, policy: AlertPolicy) -> Alert | None:
    # The window slides; after an alert it starts afresh, so one burst raises one alert.
    now = entry_time(e)
    seen[:] = [s for s in seen if now - entry_time(s) < policy.failed_auth_window]
    seen.append(e)
    if len(seen) < policy.failed_auth_count:
        return None
    burst = tuple(s.entry_id for s in seen)
    minutes = int(policy.failed_auth_window.total_seconds() // 60)
    seen.clear()
    return Alert(
        AlertKind.REPEATED_AUTH_FAILURE,
        e.at,
        _by(e),
        f"{len(burst)} failed authentications for {_by(e)} within {minutes} minutes",
        burst,
    )


def alerts_between(
    entries: Sequence[AuditEntry],
    start: datetime,
    end: datetime,
    *,
    zone: tzinfo,
    policy: AlertPolicy | None = None,
) -> list[Alert]:
    """Alerts raised in [start, end), looking back one failed-auth window for context."""
    policy = policy or AlertPolicy()
    lookback = start - policy.failed_auth_window
    window = [e for e in entries if lookback <= entry_time(e) < end]
    return [
        a
        for a in alerts(window, zone=zone, policy=policy)
        if start <= datetime.fromisoformat(a.at.replace("Z", "+00:00")) < end
    ]
