"""`make bench-report`: the README's "Performance" section, generated from
``benchmarks/results/*.json`` (written by `make bench`, benchmarks/run.py).

Every row gives our figure, the baseline measured in the same run, the command that
produced both, and when and on what machine (cores, 1-minute load average before → after).
Nothing in the section is written by hand: edit this script or re-run the benchmarks.

Usage: python benchmarks/report.py [--readme README.md] [--results DIR] [--check]
``--check`` exits 1 when the README's section differs from what the results give.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TITLE = "## Performance"

Row = tuple[str, str, str]  # what, ours, baseline in the same run
Result = dict[str, object]


def get(result: object, path: str) -> object:
    """``result["a"]["b"]`` for path "a.b"; None when any step is missing."""
    for step in path.split("."):
        if isinstance(result, dict):
            result = result.get(step)
        elif isinstance(result, list) and step.isdigit() and int(step) < len(result):
            result = result[int(step)]
        else:
            return None
    return result


def num(value: object, unit: str = "", digits: int = 2) -> str:
    """A figure for the table; "n/a" when the run did not report it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    text = f"{value:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:,.0f}"
    return f"{text} {unit}".rstrip()


def _sign(r: Result) -> list[Row]:
    return [
        (
            "sign one order: CMS SignedData on SoftHSM2 RSA-2048, median",
            f"{num(get(r, 'cms_sign_ms'), 'ms', 3)} "
            f"({num(get(r, 'overhead_ms'), 'ms', 3)} over the token's own signature)",
            f"raw `C_Sign` {num(get(r, 'raw_sign_ms'), 'ms', 3)}; pyHanko "
            f"{get(r, 'pyhanko_version')} `PKCS11Signer` on one event loop "
            f"{num(get(r, 'pyhanko_sign_ms'), 'ms')}",
        ),
        (
            "the whole signing step of a batch (checks, date, canonical bytes, sign, self-check)",
            num(get(r, "service_sign_ms"), "ms", 3),
            f"CMS signing alone {num(get(r, 'cms_sign_ms'), 'ms', 3)}",
        ),
    ]


def _verify(r: Result) -> list[Row]:
    if get(r, "ours_warm_ms") is None:
        return []  # a record of the script before its same-run baselines
    return [
        (
            "supplier verification of one order, chain + revocation, median",
            f"{num(get(r, 'ours_warm_ms'), 'ms')} warm, {num(get(r, 'ours_cold_ms'), 'ms')} "
            f"cold; rejected: {get(r, 'rejected')}",
            f"floor (digest + one signature check) {num(get(r, 'raw_ms'), 'ms')}; pyHanko, "
            f"reused context {num(get(r, 'pyhanko_ms'), 'ms')}; `openssl cms -verify` a "
            f"process per order (reference) {num(get(r, 'openssl_per_process_ms'), 'ms')}",
        )
    ]


def _pre_sign(r: Result) -> list[Row]:
    return [
        (
            f"checks before the PIN, per order ({num(get(r, 'history_lines'), digits=0)} history "
            f"lines, {get(r, 'poa_holders')} attorneys), p50",
            f"{num(get(r, 'pre_sign.p50_ms'), 'ms')} (session checks alone "
            f"{num(get(r, 'default_checks.p50_ms'), 'ms')})",
            f"validity, DEA number and schedules only: "
            f"{num(get(r, 'baseline_checks.p50_ms'), 'ms', 3)}",
        )
    ]


def _token_backends(r: Result) -> list[Row]:
    soft, tpm = "softhsm2 (baseline)", "tpm2-pkcs11 on swtpm"
    return [
        (
            "one RSA-2048 signature on the token, median",
            f"tpm2-pkcs11 on swtpm: {num(get(r, f'{tpm}.sign_rsa2048_digest.median_ms'), 'ms')}",
            f"SoftHSM2 {num(get(r, f'{soft}.sign_rsa2048_digest.median_ms'), 'ms')}",
        )
    ]


def _cli_start(r: Result) -> list[Row]:
    return [
        (
            "`csos --version` / `csos order list` (empty store), median wall",
            f"{num(get(r, 'version_s'), 's', 3)} / {num(get(r, 'order_list_s'), 's', 3)} "
            f"(CPU {num(get(r, 'cpu_s.version'), 's', 3)} / "
            f"{num(get(r, 'cpu_s.order_list'), 's', 3)})",
            f"`python -c pass` {num(get(r, 'python_s'), 's', 3)}: `--version` "
            f"{num(get(r, 'ratio'))}×, CPU {num(get(r, 'cpu_ratio'))}×",
        ),
        (
            f"`csos order import` of {get(r, 'import_files')} files in one call",
            f"{num(get(r, 'import_batch_s'), 's')}; missing: {get(r, 'import_missing')}",
            f"one call per file {num(get(r, 'import_one_per_call_s'), 's')}",
        ),
    ]


def _gui_start(r: Result) -> list[Row]:
    return [
        (
            "`csos-gui` to the first paint of the main window (real entry point), median",
            f"{num(get(r, 'start_s'), 's', 3)}, CPU {num(get(r, 'cpu_s'), 's', 3)}, "
            f"{num(get(r, 'rss_mb'), 'MB', 1)} ({get(r, 'platform')})",
            f"bare `QMainWindow` {num(get(r, 'bare_start_s'), 's', 3)}, CPU "
            f"{num(get(r, 'bare_cpu_s'), 's', 3)}, {num(get(r, 'bare_rss_mb'), 'MB', 1)}: "
            f"{num(get(r, 'ratio'))}× wall, {num(get(r, 'cpu_ratio'))}× CPU",
        )
    ]


def _sync(r: Result) -> list[Row]:
    sent, check = "submit_and_confirm", "server_verification"
    return [
        (
            f"submit and confirm {num(get(r, 'orders'), digits=0)} orders over loopback TLS, "
            "one connection",
            f"{num(get(r, f'{sent}.orders_per_s'), 'orders/s', 1)}, p50 "
            f"{num(get(r, f'{sent}.latency_ms.p50'), 'ms')}; rejected "
            f"{get(r, f'{sent}.rejected')}, lost {get(r, f'{sent}.lost')}",
            "none (client and server are both ours)",
        ),
        (
            "the distributor's verification of one order (profile, chain, CRLs cached)",
            f"{num(get(r, f'{check}.ms_per_order'), 'ms', 3)}; rejected "
            f"{get(r, f'{check}.rejected')}",
            f"floor (digest + one signature check) "
            f"{num(get(r, f'{check}.baseline_floor_ms_per_order'), 'ms', 3)}; `openssl cms "
            f"-verify` a process per order (reference) "
            f"{num(get(r, 'openssl_per_process_reference.ms_per_order'), 'ms')}",
        ),
    ]


def _store(r: Result) -> list[Row]:
    rows = [
        (
            f"sign {num(get(r, 'sign_and_commit.orders'), digits=0)} drafts in one login, each "
            "committed "
            "with its audit entry and outbox row",
            f"{num(get(r, 'sign_and_commit.ms_per_order'), 'ms')} per order; unsigned "
            f"{get(r, 'sign_and_commit.unsigned')}",
            f"CMS signing alone, same token "
            f"{num(get(r, 'sign_and_commit.baseline_raw_cms_ms_per_order'), 'ms')}",
        )
    ]
    exports = get(r, "archive_export")
    for e in exports if isinstance(exports, list) else []:
        rows.append(
            (
                f"`archive export` of {num(get(e, 'orders'), digits=0)} signed orders",
                f"{num(get(e, 'seconds'), 's', 1)}, peak Python memory "
                f"{num(get(e, 'peak_python_mb'), 'MB', 1)}; missing {get(e, 'missing')}",
                f"stdlib `zipfile`, same members: "
                f"{num(get(e, 'baseline_stdlib_zipfile_same_members_peak_mb'), 'MB', 1)} peak",
            )
        )
    return rows


def _som_speed(r: Result) -> list[Row]:
    return [
        (
            f"SOM: one order against {num(get(r, 'single.history_lines'), digits=0)} history "
            "lines of one pharmacy",
            f"p50 {num(get(r, 'single.p50_ms'), 'ms')}, p95 {num(get(r, 'single.p95_ms'), 'ms')}",
            "none (target p95 ≤ 5 ms)",
        ),
        (
            f"SOM batch: {num(get(r, 'batch.scored_lines'), digits=0)} order lines, "
            f"{get(r, 'batch.pharmacies')} pharmacies, every check",
            f"{num(get(r, 'batch.score_s'), 's')}, "
            f"{num(get(r, 'batch.peak_traced_memory_mb'), 'MB', 0)} peak traced",
            f"pandas, size and frequency figures only, grouped once: "
            f"{num(get(r, 'pandas_baseline.seconds'), 's')} "
            f"({num(get(r, 'pandas_baseline.speedup'))}× ours)",
        ),
    ]


def _som_scale(r: Result) -> list[Row]:
    return [
        (
            f"SOM streamed by partition: {num(get(r, 'stream.lines'), digits=0)} history + "
            f"{num(get(r, 'stream.order_lines'), digits=0)} order lines",
            f"{num(get(r, 'stream.seconds'), 's', 0)}, "
            f"{num(get(r, 'stream.peak_rss_mb'), 'MB', 0)} peak RSS",
            f"at {num(get(r, 'memory_small.lines'), digits=0)} lines, in-memory scorer "
            f"{num(get(r, 'memory_small.seconds'), 's', 1)} and "
            f"{num(get(r, 'memory_small.peak_rss_mb'), 'MB', 0)}, streamed "
            f"{num(get(r, 'stream_small.seconds'), 's', 1)} and "
            f"{num(get(r, 'stream_small.peak_rss_mb'), 'MB', 0)}; same flags: "
            f"{get(r, 'same_flags_as_memory')}",
        )
    ]


def _som_quality(r: Result) -> list[Row]:
    recall = get(r, "evaluation.recall")
    found = (
        ", ".join(f"{k} {num(get(v, 'recall'))}" for k, v in recall.items())
        if isinstance(recall, dict)
        else "n/a"
    )
    return [
        (
            f"SOM quality on evaluation seeds {get(r, 'evaluation_seeds')}, "
            f"{get(r, 'pharmacies_per_seed')} pharmacies each",
            f"recall: {found}; false alarms {num(get(r, 'evaluation.false_alarm_rate'), digits=4)}",
            "targets: recall ≥ 0.95 (size, burst, new family), false alarms ≤ 0.005",
        )
    ]


def _bundle(r: Result) -> list[Row]:
    if get(r, "bundle_dir") is None:
        return []  # a --quick run without a bundle
    return [
        (
            "packaged program: bundle, `.deb`, `csos --version` from the bundle",
            f"{num(get(r, 'bundle_mb'), 'MB', 0)}, {num(get(r, 'deb_mb'), 'MB', 0)}, "
            f"{num(get(r, 'csos_version.bundle.median_s'), 's', 3)}",
            f"from source {num(get(r, 'csos_version.source.median_s'), 's', 3)} "
            "(targets 180 MB, 70 MB, 0.5 s)",
        )
    ]


ROWS: dict[str, Callable[[Result], list[Row]]] = {
    "sign": _sign,
    "verify": _verify,
    "pre_sign": _pre_sign,
    "token_backends": _token_backends,
    "cli_start": _cli_start,
    "gui_start": _gui_start,
    "sync": _sync,
    "store": _store,
    "som_speed": _som_speed,
    "som_scale": _som_scale,
    "som_quality": _som_quality,
    "bundle": _bundle,
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def section(results: Path) -> str:
    """The body of the Performance section, from the run records in *results*."""
    lines = [
        "Generated by `make bench-report` from `benchmarks/results/*.json`, which `make bench`",
        "writes (benchmarks/run.py runs each script of `benchmarks/` at full size). Each row is",
        "one run: our figure and the baseline measured in the same run, the command, the date",
        "and the machine (cores; 1-minute load average before → after). Do not edit by hand.",
        "",
        "| what | ours | baseline, same run | command | run |",
        "|---|---|---|---|---|",
    ]
    for name, rows in ROWS.items():
        path = results / f"{name}.json"
        if not path.exists():
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        result = record.get("result")
        if not isinstance(result, dict):
            continue  # not a run record (benchmarks/run.py writes those)
        m = record.get("machine", {})
        run = (
            f"{record.get('date', '?').replace('T', ' ').removesuffix('Z')} UTC, "
            f"{m.get('cores')} cores, load {m.get('load_before')} → {m.get('load_after')}"
        )
        for what, ours, baseline in rows(result):
            cells = (what, ours, baseline, f"`{record.get('command')}`", run)
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    cpus = sorted(
        {
            str(get(json.loads(p.read_text(encoding="utf-8")), "machine.cpu"))
            for p in results.glob("*.json")
        }
        - {"None"}
    )
    if cpus:
        lines += ["", f"Machine: {'; '.join(cpus)}."]
    return "\n".join(lines) + "\n"


def replace_section(readme: str, body: str) -> str:
    pattern = re.compile(rf"^{re.escape(TITLE)}\n.*?(?=^## |\Z)", re.M | re.S)
    if not pattern.search(readme):
        raise SystemExit(f"README has no '{TITLE}' section")
    return pattern.sub(lambda _: f"{TITLE}\n\n{body}\n", readme, count=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--results", type=Path, default=HERE / "results")
    ap.add_argument("--check", action="store_true", help="exit 1 if the README is stale")
    args = ap.parse_args()
    old = args.readme.read_text(encoding="utf-8")
    new = replace_section(old, section(args.results))
    if args.check:
        sys.exit(0 if new == old else f"{args.readme}: '{TITLE}' is stale; run make bench-report")
    if new != old:
        args.readme.write_text(new, encoding="utf-8")
    print(f"{args.readme}: '{TITLE}' regenerated from {args.results}", file=sys.stderr)


if __name__ == "__main__":
    main()
