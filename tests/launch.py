"""Start `csos` or the GUI in a child process with the test's machine policy.

The policy seam is a function call (``config.policy.use_policy_file``), which no user's
environment reaches; a child process makes that call itself before the program starts:

    python -m tests.launch POLICY cli ARGS...   # `csos ARGS...`
    python -m tests.launch POLICY gui ARGS...   # `csos-gui ARGS...`
"""

from __future__ import annotations

import sys
from pathlib import Path

from csos_desktop.config.policy import use_policy_file


def command(policy: Path, program: str, *args: str) -> list[str]:
    """The argv that runs *program* (``cli`` or ``gui``) with *policy* as the machine's."""
    return [sys.executable, "-m", "tests.launch", str(policy), program, *args]


def main(argv: list[str]) -> int:
    policy, program, *args = argv
    use_policy_file(Path(policy))
    if program == "gui":
        from csos_desktop.gui.app import main as gui_main

        return gui_main(args)
    from csos_desktop.cli.entry import run

    run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
