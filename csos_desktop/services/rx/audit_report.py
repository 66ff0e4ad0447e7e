"""The daily internal audit report for prescribing (21 CFR 1311.150, 1311.215).

One local calendar day of EPCS audit events, the alerts they raise, and
whether the hash chain of the whole log still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from csos_desktop.services.rx.alerts import Alert, AlertPolicy, alerts_between, entry_time
from csos_desktop.store.audit import AuditEntry, AuditReport
from csos_desktop.store.local_store import Store

RX_PREFIX = "rx."
# Shown after the event name, in this order, when present.
_KEYS = (
    "user",
    "role",
    "grant_id",
    "rx_id",
    "rx_ids",
    "reason",
    "action",
    "drug",
    "schedule",
    "before_sha256",
    "after_sha256",
    "fields",
    "revocation",
    "certificate_serial",
    "transmission",
    "message",
)


@dataclass(frozen=True)
class DayReport:
    day: date
    zone: str
    entries: tuple[AuditEntry, ...]
    alerts: tuple[Alert, ...]
    chain: AuditReport

    def to_json(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "time_zone": self.zone,
            "events": [e.to_json() for e in self.entries],
            "alerts": [a.to_json() for a in self.alerts],
            "audit_chain": self.chain.to_json(),
        }


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """Start and end of the local day (DST days are 23 or 25 hours long)."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def day_report(
    store: Store,
    day: date,
    *,
    zone: tzinfo,
    everything: bool = False,
    policy: AlertPolicy | None = None,
) -> DayReport:
    """That day's EPCS events (every event with *everything*) and its alerts."""
    start, end = day_bounds(day, zone)
    rx = [e for e in store.audit.entries() if e.event.startswith(RX_PREFIX)]
    listed = rx if not everything else list(store.audit.entries())
    shown = tuple(e for e in listed if start <= entry_time(e) < end)
    raised = tuple(alerts_between(rx, start, end, zone=zone, policy=policy))
    return DayReport(day, str(start.tzname()), shown, raised, store.audit.verify())


def describe(entry: AuditEntry, zone: tzinfo) -> str:
    """One line for the printed report: local time, event, who, what."""
    local = entry_time(entry).astimezone(zone)
    d = entry.details
    parts = [f"{local:%H:%M:%S}", f"#{entry.entry_id}", entry.event]
    if d.get("by") is not None or "bootstrap" in d:
        parts.append(f"by={d.get('by') or '(first user)'}")
    for key in _KEYS:
        if key in d and d[key] not in (None, "", []):
            value = d[key]
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{key}={text[:12] if key.endswith('sha256') else text}")
    if entry.order_id:
        parts.append(f"order={entry.order_id}")
    return "  ".join(parts)
