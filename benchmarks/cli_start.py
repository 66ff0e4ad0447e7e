"""CLI start-up: `csos --version` and `csos order list` (empty store) next to `python -c pass`.

Every run is a fresh process of the installed `csos` script, as a pharmacist's shell
starts it. Bytecode caches are written on the warm-up run (to a temporary
PYTHONPYCACHEPREFIX, so the tree stays clean), as an installed package has them.
The three commands are interleaved so they see the same machine state; medians of --runs.
Also: importing --files order files in one `csos order import` call (the batch pays
start-up once), against the same number of files imported one `csos order import` per file
into a second store, in the same run.

Prints one JSON object: version_s, order_list_s, python_s, ratio (version_s / python_s),
list_vs_version, import_batch_s, import_one_per_call_s, import_batch_vs_one_per_call; the
same start-up ratios in CPU time (steadier on a loaded machine); import_missing (orders
not in the store after either import: must be 0).
Targets: ratio ≤ 5, list_vs_version ≤ 2.
Usage: python benchmarks/cli_start.py [--runs 9] [--files 100] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from harness import emit, parse_args, scratch_dir  # benchmarks/ is on sys.path when a script runs
from process_time import run_timed

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "csos_desktop" / "resources" / "samples" / "order.json"


def _order_files(folder: Path, count: int) -> list[str]:
    """COUNT one-order files; the store numbers them (no order_number given)."""
    order = json.loads(SAMPLE.read_text(encoding="utf-8"))
    del order["order_number"]
    names = []
    for i in range(count):
        path = folder / f"order-{i:03d}.json"
        path.write_text(json.dumps(order), encoding="utf-8")
        names.append(str(path))
    return names


def _imported(csos: str, env: dict[str, str]) -> int:
    """How many orders `csos order list --json` shows in the store of *env*."""
    done = subprocess.run(
        [csos, "order", "list", "--json"], env=env, capture_output=True, text=True, check=True
    )
    return len(json.loads(done.stdout))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--files", type=int, default=100, help="order files for the batch import")
    args = parse_args(ap, {"runs": 1, "files": 3})
    bin_dir = Path(sys.executable).parent
    csos = str(bin_dir / "csos")
    tmp = scratch_dir("csos-cli-bench-")
    env = dict(
        os.environ,
        CSOS_HOME=str(tmp / "home"),
        PYTHONPYCACHEPREFIX=str(tmp / "pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    commands = {
        "python": [sys.executable, "-c", "pass"],
        "version": [csos, "--version"],
        "order_list": [csos, "order", "list"],
    }
    for cmd in commands.values():  # warm-up: bytecode caches, the (empty) store created
        run_timed(cmd, env)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            times[name].append(run_timed(cmd, env))
    med = {name: statistics.median(w for w, _ in t) for name, t in times.items()}
    cpu = {name: statistics.median(c for _, c in t) for name, t in times.items()}
    files = _order_files(tmp, args.files)
    import_s, _ = run_timed([csos, "order", "import", *files], env)
    single_env = dict(env, CSOS_HOME=str(tmp / "home-one-per-call"))
    one_per_call_s = sum(run_timed([csos, "order", "import", f], single_env)[0] for f in files)
    missing = 2 * args.files - _imported(csos, env) - _imported(csos, single_env)
    emit(
        {
            "benchmark": "cli_start",
            "version_s": round(med["version"], 3),
            "order_list_s": round(med["order_list"], 3),
            "python_s": round(med["python"], 3),
            "ratio": round(med["version"] / med["python"], 2),
            "list_vs_version": round(med["order_list"] / med["version"], 2),
            # CPU time is steadier than wall time on a shared, loaded machine.
            "cpu_s": {name: round(c, 3) for name, c in cpu.items()},
            "cpu_ratio": round(cpu["version"] / cpu["python"], 2),
            "cpu_list_vs_version": round(cpu["order_list"] / cpu["version"], 2),
            "import_files": args.files,
            "import_batch_s": round(import_s, 3),
            "import_one_per_call_s": round(one_per_call_s, 3),
            "import_batch_vs_one_per_call": round(import_s / one_per_call_s, 3),
            "import_missing": missing,
            "runs": args.runs,
            "targets": {"ratio": 5.0, "list_vs_version": 2.0},
        }
    )


if __name__ == "__main__":
    main()
