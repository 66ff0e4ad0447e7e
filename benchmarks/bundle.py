"""Bundle figures: size on disk, .deb size, start-up of `csos --version` and of the GUI
self-test, from the PyInstaller bundle and from source, side by side in one run.

Run `make bench-bundle` (builds the bundle first). Prints JSON. Start-up times are the
first run (file cache possibly cold) and the median of the following runs.
Targets (issue 19): bundle ≤ 180 MB, .deb ≤ 70 MB, `csos --version` from the bundle ≤ 0.5 s;
`within_targets` says which are met.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from process_time import run_timed  # benchmarks/ is on sys.path when a script runs

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bundle", type=Path, default=ROOT / "dist" / "csos-desktop")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if not (args.bundle / "csos").exists():
        sys.exit(f"no bundle at {args.bundle}: run `make bundle` first")
    venv_bin = Path(sys.executable).parent
    home = tempfile.mkdtemp(prefix="csos-bench-")
    env = dict(
        os.environ,
        CSOS_HOME=home,
        QT_QPA_PLATFORM="offscreen",
        # From source with bytecode caches, as an installed package has them (the first
        # run writes them); the bundle has its own.
        PYTHONPYCACHEPREFIX=str(Path(home) / "pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    size, count = _du(args.bundle)
    out: dict[str, object] = {
        "bundle_dir": str(args.bundle),
        "bundle_bytes": size,
        "bundle_mb": round(size / 1e6, 1),
        "bundle_files": count,
    }
    with tempfile.TemporaryDirectory() as tmp:
        deb = (
            subprocess.run(
                [
                    str(ROOT / "installers" / "debian" / "build-deb.sh"),
                    str(args.bundle),
                    "0.0.0-bench",
                    tmp,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        deb_bytes = Path(deb).stat().st_size
        out["deb_bytes"] = deb_bytes
        out["deb_mb"] = round(deb_bytes / 1e6, 1)
    bundle_version = _time([str(args.bundle / "csos"), "--version"], env, args.runs)
    out["csos_version"] = {
        "bundle": bundle_version,
        "source": _time([str(venv_bin / "csos"), "--version"], env, args.runs),
    }
    gui_runs = max(2, args.runs // 2 + 1)
    out["gui_self_test"] = {
        "bundle": _time([str(args.bundle / "csos-gui"), "--self-test"], env, gui_runs),
        "source": _time([str(venv_bin / "csos-gui"), "--self-test"], env, gui_runs),
    }
    out["targets"] = {"bundle_mb": 180, "deb_mb": 70, "bundle_version_s": 0.5}
    out["within_targets"] = {
        "bundle_mb": size / 1e6 <= 180,
        "deb_mb": deb_bytes / 1e6 <= 70,
        "bundle_version_s": bundle_version["median_s"] <= 0.5,
    }
    out["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
