"""The window's first paint loads only what the first screen needs (issue 19).

Runs `benchmarks/gui_start.py`'s measured child (the app's own start-up steps) in a
fresh interpreter and looks at what it imported by the time the window was shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Never before the window shows: servers, plots, the network, and PKCS#11, which the
#: token thread loads on its first poll.
NOT_AT_FIRST_PAINT = (
    "matplotlib",
    "httpx",
    "sqlalchemy",
    "fastapi",
    "uvicorn",
    "pkcs11",
    "pyhanko_certvalidator",
    "numpy",
)

_CHILD = f"""
import json, runpy, sys
def shown():
    print("MODULES " + json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})), flush=True)
bench = runpy.run_path({str(ROOT / "benchmarks" / "gui_start.py")!r})
bench["child"]("app", shown)
"""


def test_first_paint_imports_no_server_network_plot_or_token_code(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        CSOS_HOME=str(tmp_path / "home"),
        CSOS_POLICY_FILE=str(tmp_path / "policy.toml"),
        QT_QPA_PLATFORM="offscreen",
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-c", _CHILD],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("shown")
    loaded = set(json.loads(lines[1].removeprefix("MODULES ")))
    assert "PySide6" in loaded and "csos_desktop" in loaded
    assert not loaded & set(NOT_AT_FIRST_PAINT)

