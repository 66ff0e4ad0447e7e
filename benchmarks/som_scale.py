"""SOM at distributor scale: `csos som score` streamed by partition against the in-memory scorer.

Builds a history of ``--lines`` lines and orders of ``--orders`` lines (CSV) by
generating pharmacies with the sandbox generator and copying them under new DEA
numbers, then runs `csos som score` in child processes and prints one JSON
object with, per run, ``lines``, ``seconds`` and ``peak_rss_mb`` (the child's
peak resident set, DuckDB's threads included):

- ``stream``: the streaming engine on the full input (target: peak RSS <= 1 GB
  at 10 M history lines);
- ``stream_small`` and ``memory_small``: both engines on the same smaller input
  (``--baseline-lines``; the in-memory scorer needs ~0.6 GB per million lines,
  more than this machine can spare at 10 M), and their ratio of seconds and of
  peak RSS, measured in the same run.

Usage: python benchmarks/som_scale.py [--lines 10000000] [--orders 1000000]
       [--baseline-lines 1000000] [--work-dir DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from harness import emit, parse_args  # benchmarks/ is on sys.path

from csos_desktop.cli.sandbox.history import write_history_csv
from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.domain.dea import expected_check_digit
from csos_desktop.sandbox.history import GeneratorConfig, generate_history
from csos_desktop.som.history import day_number

START = date(2023, 1, 2)
DAYS = 730
ORDER_DAYS = 66  # the last 66 days are the orders: about one line in eleven


def build_inputs(
    directory: Path, lines: int, orders: int, pharmacies: int, seed: int = 5
) -> dict[str, object]:
    """history.csv, orders.csv and customers.csv of about ``lines`` and ``orders`` lines."""
    import duckdb

    config = GeneratorConfig(
        seed=seed,
        pharmacies=pharmacies,
        start=START,
        days=DAYS,
        anomalies_per_pharmacy=1.0,
        thin_share=0.1,
    )
    data = generate_history(bundled_catalogue(), config)
    h = data.history
    split = day_number(START) + DAYS - ORDER_DAYS
    base_h, base_o = directory / "base_history.csv", directory / "base_orders.csv"
    write_history_csv(h.select(h.day < split), base_h)
    write_history_csv(h.select(h.day >= split), base_o)
    per_copy_h, per_copy_o = int((h.day < split).sum()), int((h.day >= split).sum())
    copies = max(math.ceil(lines / per_copy_h), math.ceil(orders / per_copy_o))
    deas = sorted(data.customer_classes)
    mapping = []
    for c in range(copies):
        for j, old in enumerate(deas):
            six = f"{c * len(deas) + j:06d}"
            new = f"BX{six}{expected_check_digit(six)}"
            mapping.append((c, old, new, data.customer_classes[old]))
    con = duckdb.connect()
    con.execute("CREATE TABLE m (copy INTEGER, old VARCHAR, new VARCHAR, cls VARCHAR)")
    con.executemany("INSERT INTO m VALUES (?, ?, ?, ?)", mapping)
    out: dict[str, object] = {"copies": copies}
    for name, base, per_copy, limit in (
        ("history", base_h, per_copy_h, lines),
        ("orders", base_o, per_copy_o, orders),
    ):
        path = directory / f"{name}.csv"
        keep = min(copies, math.ceil(limit / per_copy))
        con.execute(
            f"COPY (SELECT replace(b.order_id, m.old, m.new) AS order_id, b.order_date,"
            f" m.new AS purchaser_dea, b.ndc, b.drug_code, b.dosage_units"
            f" FROM read_csv('{base}', all_varchar = true) b JOIN m ON b.purchaser_dea = m.old"
            f" WHERE m.copy < {keep} ORDER BY b.order_date, m.copy)"
            f" TO '{path}' (HEADER, DELIMITER ',')"
        )
        out[f"{name}_lines"] = keep * per_copy
    con.execute(
        f"COPY (SELECT new AS purchaser_dea, cls AS customer_class FROM m ORDER BY new)"
        f" TO '{directory / 'customers.csv'}' (HEADER, DELIMITER ',')"
    )
    return out


def run(history: Path, orders: Path, customers: Path, out: Path, engine: str) -> dict[str, object]:
    """`csos som score` in a child process: seconds and that child's peak RSS."""
    child = [sys.executable, __file__, "--child", str(history), str(orders), str(customers)]
    t = time.perf_counter()
    done = subprocess.run([*child, str(out), engine], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{engine} run failed:\n{done.stdout}\n{done.stderr}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {"seconds": round(seconds, 1), **report}


def child(history: str, orders: str, customers: str, out: str, engine: str) -> None:
    from click.testing import CliRunner

    from csos_desktop.cli import main

    args = ["som", "score", "--history", history, "--orders", orders, "--customers", customers]
    r = CliRunner().invoke(main, [*args, "--out", out, "--engine", engine, "--skip-bad-rows"])
    if r.exit_code != 0:
        print(r.output, file=sys.stderr)
        raise SystemExit(r.exit_code)
    summary = r.output.strip().splitlines()[-1]
    print(json.dumps({"peak_rss_mb": round(_peak_kb() / 1024, 1), "summary": summary}))


def _peak_kb() -> int:
    """This process's peak resident set (VmHWM), its threads included.

    Not ``ru_maxrss``: Linux carries that across exec, so a child would report the
    parent's peak from before it started.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _ratio(a: dict[str, object], b: dict[str, object], key: str) -> float:
    return round(float(str(a[key])) / float(str(b[key])), 2)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:7])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--baseline-lines", type=int, default=1_000_000)
    ap.add_argument("--work-dir", type=Path)
    ap.add_argument("--pharmacies", type=int, default=150, help="generated, then copied")
    args = parse_args(ap, {"lines": 5_000, "orders": 500, "baseline_lines": 5_000, "pharmacies": 8})
    with tempfile.TemporaryDirectory(prefix="som-scale-", dir=args.work_dir) as tmp:
        root = Path(tmp)
        big, small = root / "big", root / "small"
        big.mkdir()
        small.mkdir()
        t = time.perf_counter()
        made = build_inputs(big, args.lines, args.orders, args.pharmacies)
        made_small = build_inputs(
            small, args.baseline_lines, args.baseline_lines // 10, args.pharmacies
        )
        build_s = time.perf_counter() - t

        def score(d: Path, engine: str) -> dict[str, object]:
            files = (d / "history.csv", d / "orders.csv", d / "customers.csv")
            return run(*files, d / f"{engine}.csv", engine)

        stream_small = score(small, "stream")
        memory_small = score(small, "memory")
        same = (small / "stream.csv").read_bytes() == (small / "memory.csv").read_bytes()
        stream = score(big, "stream")
        result = {
            "benchmark": "som_scale",
            "cpus": os.cpu_count(),
            "build_inputs_s": round(build_s, 1),
            "stream": {
                "lines": made["history_lines"],
                "order_lines": made["orders_lines"],
                **stream,
                "target_peak_rss_mb": 1024,
            },
            "stream_small": {
                "lines": made_small["history_lines"],
                "order_lines": made_small["orders_lines"],
                **stream_small,
            },
            "memory_small": {
                "lines": made_small["history_lines"],
                "order_lines": made_small["orders_lines"],
                **memory_small,
            },
            "ratio_vs_memory": {
                "seconds": _ratio(stream_small, memory_small, "seconds"),
                "peak_rss": _ratio(stream_small, memory_small, "peak_rss_mb"),
            },
            "same_flags_as_memory": same,
        }
        emit(result)


if __name__ == "__main__":
    main()
