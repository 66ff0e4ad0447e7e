"""Start `csos` or the GUI in a child process with the test's machine policy.

The policy seam is a function call (``config.policy.use_policy_file``), which no user's
environment reaches; a child process makes that call itself before the program starts:

    python -m tests.launch POLICY cli ARGS...   # `csos ARGS...`
    python -m tests.launch POLICY gui ARGS...   # `csos-gui ARGS...`

POLICY ``-`` is the test session's machine policy (``CSOS = csos_command()``), which the
session fixture names in :data:`SESSION_POLICY_VAR` for this launcher only: the program
itself never reads that variable, and a user's `csos` never goes through here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from csos_desktop.config.policy import use_policy_file

SESSION_POLICY_VAR = "CSOS_TEST_SESSION_POLICY"


def command(policy: Path, program: str, *args: str) -> list[str]:
    """The argv that runs *program* (``cli`` or ``gui``) with *policy* as the machine's."""
    return [sys.executable, str(Path(__file__).resolve()), str(policy), program, *args]


def csos_command() -> list[str]:
    """``csos`` in a child process, under the test session's machine policy."""
    return [sys.executable, str(Path(__file__).resolve()), "-", "cli"]


class _Hsm(Protocol):
    conf: Path
    module: str


def run_csos(
    args: list[str], hsm: _Hsm, home: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """`csos ARGS` under the session's policy, on *hsm*'s token, in the CSOS_HOME *home*."""
    env = dict(os.environ, SOFTHSM2_CONF=str(hsm.conf), CSOS_PKCS11_MODULE=hsm.module)
    env["CSOS_HOME"] = str(home)
    return subprocess.run(
        [*csos_command(), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )


def main(argv: list[str]) -> int:
    policy, program, *args = argv
    if policy == "-":
        policy = os.environ.get(SESSION_POLICY_VAR, "")
    if policy:
        use_policy_file(Path(policy))
    if program == "gui":
        from csos_desktop.gui.app import main as gui_main

        return gui_main(args)
    from csos_desktop.cli.entry import run

    run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
