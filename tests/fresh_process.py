"""Run Python code in a new interpreter: what a process imports at start-up can only be seen
from outside a test run that has imported everything already."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """*code* under ``python -c`` with its own CSOS_HOME below *home*."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env=dict(
            os.environ,
            CSOS_HOME=str(home / "home"),
            PYTHONPATH=str(ROOT),
            **env,
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
