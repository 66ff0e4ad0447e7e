"""GUI cold start: `csos-gui` as a process until its main window is painted, against a bare
QMainWindow measured the same way, in the same run.

The app runs are the real entry point, `csos-gui --exit-after-first-paint`: imports, Qt
start-up, the store opened and migrated, the main window built, shown and painted; it
prints "first paint" and exits before the token thread and the sync start. The bare runs
are a fresh Python process showing an empty QMainWindow and printing the same line.
Wall time runs from spawn to that line; CPU seconds (user + system) and peak RSS come from
the process's own accounting (wait4), which is steadier than wall time on a loaded machine.
Runs are interleaved so both see the same machine state; medians of --runs. Bytecode
caches are written on the warm-up run (to a temporary PYTHONPYCACHEPREFIX, so the tree
stays clean), as an installed package or the bundle has them.

Prints one JSON object: start_s, bare_start_s, ratio, cpu_s, bare_cpu_s, cpu_ratio, rss_mb,
bare_rss_mb. Targets: ≤ 2.0× bare, RSS ≤ 110 MB, start ≤ 1.5 s.
Usage: python benchmarks/gui_start.py [--runs 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import emit, parse_args, scratch_dir  # benchmarks/ is on sys.path

FIRST_PAINT = "first paint"


def bare_window() -> None:
    """The baseline, in its own process: an empty main window, shown and painted."""
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.show()
    app.processEvents()
    print(FIRST_PAINT, flush=True)


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds to the first paint, CPU seconds, peak RSS in MB) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if line.strip() != FIRST_PAINT or code != 0:
        raise SystemExit(f"{' '.join(cmd)}: no first paint (exit code {code})")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bare-child", action="store_true", help=argparse.SUPPRESS)
    args = parse_args(ap, {"runs": 1})
    if args.bare_child:
        bare_window()
        return
    home = str(scratch_dir("csos-gui-bench-"))
    env = dict(
        os.environ,
        CSOS_HOME=home,
        PYTHONPYCACHEPREFIX=str(Path(home) / "pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    commands = {
        "app": [str(Path(sys.executable).parent / "csos-gui"), "--exit-after-first-paint"],
        "bare": [sys.executable, __file__, "--bare-child"],
    }
    for cmd in commands.values():  # warm-up: the store created and migrated, caches filled
        run(cmd, env)
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            runs[name].append(run(cmd, env))

    def median(name: str, i: int) -> float:
        return statistics.median(r[i] for r in runs[name])

    start, bare_start = median("app", 0), median("bare", 0)
    cpu, bare_cpu = median("app", 1), median("bare", 1)
    emit(
        {
            "benchmark": "gui_start",
            "command": "csos-gui --exit-after-first-paint",
            "start_s": round(start, 3),
            "bare_start_s": round(bare_start, 3),
            "ratio": round(start / bare_start, 2),
            "cpu_s": round(cpu, 3),
            "bare_cpu_s": round(bare_cpu, 3),
            "cpu_ratio": round(cpu / bare_cpu, 2),
            "rss_mb": round(max(r[2] for r in runs["app"]), 1),
            "bare_rss_mb": round(max(r[2] for r in runs["bare"]), 1),
            "runs": args.runs,
            "platform": env.get("QT_QPA_PLATFORM", "native"),
            "targets": {"ratio": 2.0, "rss_mb": 110, "start_s": 1.5},
        }
    )


if __name__ == "__main__":
    main()
