"""What every benchmark shares: the ``--quick`` switch and the one JSON object it prints.

``--quick`` replaces the default sizes with tiny ones (seconds): `make test` runs every
script that way so a broken benchmark fails the suite; its figures mean nothing.
`make bench` runs them at full size (benchmarks/run.py).
"""

from __future__ import annotations

import argparse
import atexit
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path


def parse_args(ap: argparse.ArgumentParser, quick: Mapping[str, object]) -> argparse.Namespace:
    """*ap*'s arguments, with *quick*'s values as the defaults under ``--quick``."""
    ap.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, a few seconds: checks the script works; the figures mean nothing",
    )
    known, _ = ap.parse_known_args()
    if known.quick:
        ap.set_defaults(**quick)
    return ap.parse_args()


def emit(result: Mapping[str, object]) -> None:
    """The benchmark's one output: a JSON object on stdout."""
    print(json.dumps(result, indent=2), flush=True)


def percentile(values: list[float], share: float) -> float:
    """The value below which *share* of *values* lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def per_call_ms(fn: Callable[[int], object], n: int) -> list[float]:
    """Milliseconds of each of *n* calls ``fn(0)``, ``fn(1)``, ..."""
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def scratch_dir(prefix: str) -> Path:
    """A temporary directory removed when the benchmark exits (tokens, stores, archives)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path
