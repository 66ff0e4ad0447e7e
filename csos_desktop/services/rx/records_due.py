"""Whether the EPCS records made at start-up have work to do: one query, few imports.

Every `csos` command that opens the store asks; `csos order list` must not load the
prescription and audit code to learn that nothing is due (tests/unit/test_start_up.py).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from csos_desktop.config.local_time import local_date, pharmacy_zone
from csos_desktop.domain.timestamps import format_timestamp
from csos_desktop.store.local_store import Store

#: As services.rx.records.ANALYSIS_EVERY (the daily analysis of 1311.150(b)).
_DAY = timedelta(hours=24)


def records_due(store: Store, now: datetime, *, analyse: bool) -> bool:
    """A monthly log to make or purge, or (with *analyse*) the daily analysis to run."""
    today = local_date(now)
    first = today.replace(day=1)
    last = first - timedelta(days=1)
    start = datetime.combine(first, time(0), tzinfo=pharmacy_zone())
    return store.epcs.anything_due(
        month_start=format_timestamp(start),
        last_month=f"{last.year:04d}-{last.month:02d}",
        today=today,
        analysed_since=format_timestamp(now - _DAY) if analyse else None,
        now=format_timestamp(now),
    )
