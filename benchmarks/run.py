"""`make bench`: every benchmark at full size, each result kept with how it was measured.

Runs each script in its own process, one after the other, and writes
``benchmarks/results/<name>.json``::

    {"benchmark", "command", "date" (UTC), "seconds",
     "machine": {"cores", "cpu", "python", "load_before", "load_after"},
     "result": <the script's own JSON object>}

The load figures are the 1-minute load average before and after the run: on a shared
machine they say how much of the time was queueing for a core. `make bench-report`
(benchmarks/report.py) turns the files into the README's "Performance" section.

Usage: python benchmarks/run.py [NAME ...] [--quick] [--out DIR]
A failed benchmark is reported and leaves its previous result in place; the exit code is
then 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

#: What `make bench` runs, cheapest first. bundle.py needs `make bundle` (`make bench-bundle`).
FULL_RUN = (
    "sign",
    "verify",
    "pre_sign",
    "token_backends",
    "cli_start",
    "gui_start",
    "sync",
    "store",
    "som_quality",
    "som_speed",
    "som_scale",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_one(name: str, extra: list[str]) -> dict[str, object]:
    """Run benchmarks/<name>.py; its JSON with the command, date and machine."""
    cmd = [sys.executable, str(HERE / f"{name}.py"), *extra]
    load_before = os.getloadavg()[0]
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{name}.py exited {done.returncode}:\n{done.stderr[-3000:]}")
    return {
        "benchmark": name,
        "command": " ".join(["python", f"benchmarks/{name}.py", *extra]),
        "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(seconds, 1),
        "machine": {
            "cores": os.cpu_count(),
            "cpu": _cpu_model(),
            "python": platform.python_version(),
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
        },
        "result": json.loads(done.stdout),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=list(FULL_RUN), help="benchmarks to run")
    ap.add_argument("--quick", action="store_true", help="pass --quick to each benchmark")
    ap.add_argument("--out", type=Path, default=RESULTS, help="where the results go")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in args.names:
        print(f"benchmarks/{name}.py ...", file=sys.stderr, flush=True)
        try:
            record = run_one(name, ["--quick"] if args.quick else [])
        except (RuntimeError, json.JSONDecodeError) as exc:
            print(exc, file=sys.stderr)
            failed.append(name)
            continue
        path = args.out / f"{name}.json"
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"  {record['seconds']} s -> {path}", file=sys.stderr, flush=True)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
