"""The UTC timestamp text that documents, the store and the audit log carry.

A module of its own so the store can write a timestamp without loading the order model
(`csos order list` and the GUI's first paint do not need it, which keeps start-up quick).
"""

from __future__ import annotations

from datetime import UTC, datetime


def format_timestamp(moment: datetime) -> str:
    """``2026-11-25T12:00:00Z``: UTC, whole seconds (explicit padding for years < 1000)."""
    t = moment.astimezone(UTC)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def local_text(stamp: str | None) -> str:
    """A stored ``…Z`` timestamp as the workstation's local time for people to read
    (``2026-11-25 06:00 CST``); text that is not one is shown as it is."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        return stamp
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")
