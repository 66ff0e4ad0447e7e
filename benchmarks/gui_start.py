"""GUI cold start: a new process until the main window is shown, next to a bare QMainWindow.

Each run is a fresh Python process (imports, Qt start-up, the store opened and
migrated, the token thread started, every screen built), timed from spawn to the
child's "shown" line; the bare run does the same with an empty QMainWindow.
Median of --runs (default 5) each, interleaved so both see the same machine state.
Bytecode caches are written on the warm-up run (to a temporary PYTHONPYCACHEPREFIX, so
the tree stays clean), as an installed package or the bundle has them.
Prints one JSON object: start_s, bare_start_s, ratio, rss_mb (and bare_rss_mb); and the
same ratio in CPU seconds each process used until its window was shown (cpu_ratio), which
is steadier than wall time on a shared, loaded machine.
Targets (issue 19): ≤ 2.0× bare, RSS ≤ 110 MB (issue 8: start ≤ 1.5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _shown() -> str:
    """The child's report: RSS in MB and CPU seconds (user + system, all threads) so far."""
    times = os.times()
    return f"shown {_rss_mb():.1f} {times.user + times.system:.3f}"


def child(kind: str, on_shown: Callable[[], None] | None = None) -> None:
    """Runs in the measured process: build, show, report, exit.

    *on_shown* runs right after the window is shown (tests look at what was imported).
    """
    if kind == "app":  # as csos_desktop.gui.app.main: logging and the store before PySide6
        from csos_desktop.gui.app import open_store_for_gui
        from csos_desktop.startup import start_logging

        start_logging()
        store, problem = open_store_for_gui()
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    if kind == "bare":
        window = QMainWindow()
        window.show()
        app.processEvents()
        print(_shown(), flush=True)
        return
    # The same steps as csos_desktop.gui.app.main up to app.exec().
    from csos_desktop.config import load_config
    from csos_desktop.gui import theme
    from csos_desktop.gui.jobs.token_thread import TokenThread, TokenWorker
    from csos_desktop.gui.main_window import MainWindow

    theme.apply(app)
    config = load_config()
    worker = TokenWorker(None, config.text("pkcs11_module"), config.text("token_label"))
    thread = TokenThread(worker)
    main = MainWindow(store=store, store_problem=problem, token=worker)
    main.show()
    app.processEvents()
    print(_shown(), flush=True)
    if on_shown is not None:
        on_shown()
    # The app starts the token thread from the event loop (QTimer.singleShot(0) after
    # show()); here it starts after the measurement, which is of the window alone.
    thread.start()
    thread.stop()


def _run(kind: str, env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds to the window, RSS MB, CPU seconds) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", kind],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.wait(timeout=60)
    if not line.startswith("shown"):
        raise SystemExit(f"{kind} run did not show its window")
    _, rss, cpu = line.split()
    return elapsed, float(rss), float(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--child", choices=("app", "bare"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    home = tempfile.mkdtemp(prefix="csos-gui-bench-")
    env = dict(
        os.environ,
        CSOS_HOME=home,
        PYTHONPATH=str(ROOT),
        PYTHONPYCACHEPREFIX=str(Path(home) / "pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    _run("app", env)  # warm-up: creates and migrates the store, fills the file cache
    _run("bare", env)  # and the bytecode caches of both
    app, bare = [], []
    for _ in range(args.runs):
        app.append(_run("app", env))
        bare.append(_run("bare", env))
    start = statistics.median(t for t, _, _ in app)
    bare_start = statistics.median(t for t, _, _ in bare)
    cpu = statistics.median(c for _, _, c in app)
    bare_cpu = statistics.median(c for _, _, c in bare)
    print(
        json.dumps(
            {
                "start_s": round(start, 3),
                "bare_start_s": round(bare_start, 3),
                "ratio": round(start / bare_start, 2),
                "rss_mb": round(max(r for _, r, _ in app), 1),
                "bare_rss_mb": round(max(r for _, r, _ in bare), 1),
                "cpu_s": round(cpu, 3),
                "bare_cpu_s": round(bare_cpu, 3),
                "cpu_ratio": round(cpu / bare_cpu, 2),
                "load_average": round(os.getloadavg()[0], 1),
                "runs": args.runs,
                "platform": env.get("QT_QPA_PLATFORM", "native"),
                "targets": {"ratio": 2.0, "rss_mb": 110},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
