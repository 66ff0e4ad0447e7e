"""Timing a child process: wall-clock and CPU seconds (shared by the start-up benchmarks).

On a shared machine under load, wall time mostly measures the queue for a core; the
child's own CPU time (user + system, from wait4) is the steadier figure.
"""

from __future__ import annotations

import os
import subprocess
import time


def run_timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run *cmd* (output discarded); return (wall seconds, CPU seconds). Fails loudly."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime
