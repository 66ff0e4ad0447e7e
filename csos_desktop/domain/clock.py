"""The clock every use case takes: a function returning an aware UTC ``datetime``.

Use cases take ``clock: Clock = utc_now`` so tests and the signing pipeline can say when
"now" is; this is its one definition.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
