"""Bundle figures: size on disk, .deb size, start-up of `csos --version` and of the GUI
self-test, from the PyInstaller bundle and from source, side by side in one run.

Run `make bench-bundle` (builds the bundle first). Prints JSON. Start-up times are the
first run (file cache possibly cold) and the median of the following runs.
Targets: bundle ≤ 180 MB, .deb ≤ 70 MB, `csos --version` from the bundle ≤ 0.5 s;
`within_targets` says which are met. With --quick and no bundle built, the bundle's
figures are null and only the from-source half runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import emit, parse_args, scratch_dir  # benchmarks/ is on sys.path when a script runs
from process_time import run_timed

ROOT = Path(__file__).resolve().parents[1]


def _du(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


def _time(cmd: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    walls, cpus = zip(*(run_timed(cmd, env) for _ in range(runs)), strict=True)
    rest = slice(1, None) if runs > 1 else slice(None)
    return {
        "first_s": round(walls[0], 3),
        "median_s": round(statistics.median(walls[rest]), 3),
        "median_cpu_s": round(statistics.median(cpus[rest]), 3),
        "runs": runs,
    }


def _deb_bytes(bundle: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [str(ROOT / "installers" / "debian" / "build-deb.sh"), str(bundle), "0.0.0-bench", tmp],
            check=True,
            capture_output=True,
            text=True,
        )
        return Path(done.stdout.strip().splitlines()[-1]).stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bundle", type=Path, default=ROOT / "dist" / "csos-desktop")
    ap.add_argument("--runs", type=int, default=5)
    args = parse_args(ap, {"runs": 1})
    have_bundle = (args.bundle / "csos").exists()
    if not have_bundle and not args.quick:
        sys.exit(f"no bundle at {args.bundle}: run `make bundle` first")
    venv_bin = Path(sys.executable).parent
    home = str(scratch_dir("csos-bench-"))
    env = dict(
        os.environ,
        CSOS_HOME=home,
        QT_QPA_PLATFORM="offscreen",
        # From source with bytecode caches, as an installed package has them (the first
        # run writes them); the bundle has its own.
        PYTHONPYCACHEPREFIX=str(Path(home) / "pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # --quick without a bundle (`make test` builds none): the from-source half only.
    bundle_bin = args.bundle if have_bundle else None
    size, count = _du(args.bundle) if have_bundle else (0, 0)
    deb_bytes = _deb_bytes(args.bundle) if have_bundle else 0
    gui_runs = max(2, args.runs // 2 + 1)

    def both(cmd: str, *rest: str, runs: int) -> dict[str, object]:
        return {
            "bundle": _time([str(bundle_bin / cmd), *rest], env, runs) if bundle_bin else None,
            "source": _time([str(venv_bin / cmd), *rest], env, runs),
        }

    version = both("csos", "--version", runs=args.runs)
    bundle_version = version["bundle"]
    out: dict[str, object] = {
        "benchmark": "bundle",
        "bundle_dir": str(args.bundle) if have_bundle else None,
        "bundle_bytes": size,
        "bundle_mb": round(size / 1e6, 1),
        "bundle_files": count,
        "deb_bytes": deb_bytes,
        "deb_mb": round(deb_bytes / 1e6, 1),
        "csos_version": version,
        "gui_self_test": both("csos-gui", "--self-test", runs=gui_runs),
        "targets": {"bundle_mb": 180, "deb_mb": 70, "bundle_version_s": 0.5},
        "within_targets": {
            "bundle_mb": have_bundle and size / 1e6 <= 180,
            "deb_mb": have_bundle and deb_bytes / 1e6 <= 70,
            "bundle_version_s": isinstance(bundle_version, dict)
            and bundle_version["median_s"] <= 0.5,
        },
    }
    emit(out)


if __name__ == "__main__":
    main()
