"""Every benchmark still runs: each script of benchmarks/ with --quick (tiny sizes, seconds).

A benchmark nobody runs rots (one stopped on a trust check for weeks, another never
imported). Each is run as `make bench` runs it, in its own process; the test checks the
exit code, the keys its docstring promises and the counts that must be zero (rejected,
lost, missing orders). Timings are not asserted: --quick figures mean nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.token_backends import TPM2, tpm2_missing
from tests.under_ci import unavailable

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

#: Modules the benchmarks share and the tools around them: not benchmarks themselves.
NOT_BENCHMARKS = frozenset(
    {"harness", "process_time", "signing_token", "cms_floor", "run", "report"}
)

#: Per benchmark: the keys (dotted paths) its JSON must hold.
KEYS: dict[str, tuple[str, ...]] = {
    "sign": ("raw_sign_ms", "cms_sign_ms", "pyhanko_sign_ms", "service_sign_ms", "overhead_ms"),
    "verify": (
        "ours_warm_ms",
        "ours_cold_ms",
        "raw_ms",
        "pyhanko_ms",
        "openssl_per_process_ms",
        "rejected",
    ),
    "store": (
        "sign_and_commit.ms_per_order",
        "sign_and_commit.baseline_raw_cms_ms_per_order",
        "archive_export.0.peak_python_mb",
        "archive_export.0.baseline_stdlib_zipfile_same_members_peak_mb",
    ),
    "sync": (
        "submit_and_confirm.orders_per_s",
        "server_verification.ms_per_order",
        "server_verification.baseline_floor_ms_per_order",
        "openssl_per_process_reference.ms_per_order",
    ),
    "pre_sign": ("baseline_checks.p50_ms", "default_checks.p50_ms", "pre_sign.p50_ms"),
    "token_backends": (
        "softhsm2 (baseline).sign_rsa2048_digest.median_ms",
        "tpm2-pkcs11 on swtpm.sign_rsa2048_digest.median_ms",
    ),
    "cli_start": (
        "version_s",
        "order_list_s",
        "python_s",
        "import_batch_s",
        "import_one_per_call_s",
    ),
    "gui_start": ("start_s", "bare_start_s", "cpu_s", "bare_cpu_s", "rss_mb", "bare_rss_mb"),
    "som_speed": ("single.p95_ms", "batch.score_s", "pandas_baseline.seconds"),
    "som_scale": ("stream.seconds", "stream_small.seconds", "memory_small.seconds"),
    "som_quality": ("evaluation.recall", "evaluation.false_alarm_rate"),
    "bundle": ("csos_version.source.median_s", "gui_self_test.source.median_s"),
    "x12_as2": (
        "build_sign_ms_per_order.json",
        "build_sign_ms_per_order.x12",
        "verify_ms_per_order.x12",
        "build_sign_send.rest_ms_per_order",
        "build_sign_send.as2_ms_per_order",
    ),
    "batch_sign": (
        "exit_code",
        "signatures",
        "per_order_ms_p50",
        "raw_c_sign_ms_p50",
        "frames_to_c_sign",
        "modules_imported",
    ),
}

#: Counts that must be 0, and flags that must be true, in every run.
ZERO: dict[str, tuple[str, ...]] = {
    "verify": ("rejected",),
    "batch_sign": ("exit_code",),
    "store": ("sign_and_commit.unsigned", "archive_export.0.missing"),
    "sync": (
        "submit_and_confirm.rejected",
        "submit_and_confirm.lost",
        "server_verification.rejected",
    ),
    "cli_start": ("import_missing",),
    "som_speed": ("pandas_baseline.orders_missing",),
}
TRUE: dict[str, tuple[str, ...]] = {
    "som_scale": ("same_flags_as_memory",),
    "som_quality": ("evaluation.every_flag_explained",),
}


def _get(result: object, path: str) -> object:
    for step in path.split("."):
        if isinstance(result, list) and step.isdigit():
            result = result[int(step)]
        else:
            assert isinstance(result, dict) and step in result, f"no {path!r} (at {step!r})"
            result = result[step]
    return result


def test_every_script_in_benchmarks_is_run_here() -> None:
    scripts = {p.stem for p in BENCHMARKS.glob("*.py")} - NOT_BENCHMARKS
    assert scripts == set(KEYS), "add the new benchmark to KEYS (and ZERO) here"


@pytest.mark.parametrize("name", list(KEYS))
def test_benchmark_runs_quick_and_reports_its_figures(name: str, tmp_path: Path) -> None:
    if name == "token_backends" and tpm2_missing():
        unavailable(TPM2, f"missing: {tpm2_missing()}")
    env = dict(
        os.environ,
        CSOS_HOME=str(tmp_path / "home"),
        TMPDIR=str(tmp_path),
    )
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--quick"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)  # one JSON object, nothing else on stdout
    for key in KEYS[name]:
        _get(result, key)
    for key in ZERO.get(name, ()):
        assert _get(result, key) == 0, f"{name}: {key} = {_get(result, key)}"
    for key in TRUE.get(name, ()):
        assert _get(result, key) is True, f"{name}: {key} = {_get(result, key)}"


def test_the_readmes_performance_section_is_what_the_results_give() -> None:
    """`make bench-report` was run after the last `make bench`: no figure is hand-edited."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "report.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_make_bench_records_how_each_figure_was_measured(tmp_path: Path) -> None:
    """benchmarks/run.py keeps the command, date and machine; report.py shows them."""
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--out", str(out), "pre_sign"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((out / "pre_sign.json").read_text(encoding="utf-8"))
    assert record["command"] == "python benchmarks/pre_sign.py --quick"
    assert record["machine"]["cores"] == os.cpu_count()
    assert {"load_before", "load_after", "cpu"} <= set(record["machine"])
    assert _get(record, "result.pre_sign.p50_ms") is not None
    readme = tmp_path / "README.md"
    readme.write_text("# X\n\n## Performance\n\nold figures\n\n## Layout\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, str(BENCHMARKS / "report.py"), "--readme", str(readme),
         "--results", str(out)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    text = readme.read_text(encoding="utf-8")
    assert "old figures" not in text and text.endswith("## Layout\n")
    (row,) = [line for line in text.splitlines() if "`python benchmarks/pre_sign.py" in line]
    assert record["date"][:10] in row and f"{os.cpu_count()} cores" in row
