"""Loaded only by `make test-off-hours` (PYTHONPATH), in every Python process the run starts.

libfaketime 0.9.10 either fakes the monotonic clock (then every timed wait on a lock or event
waits for decades, as CPython's sem_clockwait is not intercepted) or, with
FAKETIME_DONT_FAKE_MONOTONIC=1, fails time.sleep() with EINVAL (its clock_nanosleep wrapper
moves the absolute monotonic deadline by the wall-clock offset). The run keeps the real
monotonic clock and sleeps through select(), whose timeout is relative and left alone.
"""

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
