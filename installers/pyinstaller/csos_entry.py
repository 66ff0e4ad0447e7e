"""Entry point of the frozen bundle: one program, two names (`csos`, `csos-gui`).

Both share one analysis and one set of libraries; which one runs is decided by the
name it was started by, so the bundle is not built twice. On Linux `csos-gui` is a
symbolic link to `csos`.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: Modules the program starts as new processes of itself (`csos -m MODULE ...`); only these.
#: token/durability_check.py runs the check that a token kept an imported key this way.
CHILD_MODULES = ("csos_desktop.token.durability",)


def _run() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "-m" and sys.argv[2] in CHILD_MODULES:
        import importlib

        child = importlib.import_module(sys.argv[2])
        return int(child.main(sys.argv[3:]))
    # sys.argv[0] keeps the name the program was started by (on Linux csos-gui is a link
    # to csos); sys.executable is the file that runs (csos-gui.exe on Windows).
    names = {Path(sys.argv[0]).stem.lower(), Path(sys.executable).stem.lower()}
    if any(name.startswith("csos-gui") for name in names):
        from csos_desktop.gui.app import main as gui_main

        return gui_main()
    from csos_desktop.cli.entry import run

    run()  # exits; a bug is reported in one sentence, its traceback logged


if __name__ == "__main__":
    sys.exit(_run())
