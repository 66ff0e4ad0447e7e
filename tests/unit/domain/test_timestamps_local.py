"""Stored UTC timestamps shown in the workstation's local time (the GUI's tables)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from csos_desktop.domain.timestamps import local_text


@pytest.fixture()
def chicago() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/Chicago"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_a_utc_stamp_reads_as_local_time(chicago: None) -> None:
    assert local_text("2026-12-06T06:52:00Z") == "2026-12-06 00:52 CST"
    assert local_text("2026-07-01T12:00:00Z") == "2026-07-01 07:00 CDT"


def test_text_that_is_not_a_stamp_is_kept() -> None:
    assert local_text(None) == ""
    assert local_text("yesterday") == "yesterday"
    assert local_text("2026-12-06T06:52:00") == "2026-12-06T06:52:00"  # no zone: not guessed
