"""Entry point of the frozen bundle: one program, two names (`csos`, `csos-gui`).

Both executables share one analysis and one set of libraries; which one runs is
decided by the executable's own name, so the bundle is not built twice.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _run() -> int:
    name = Path(sys.executable).stem.lower()
    if name.startswith("csos-gui"):
        from csos_desktop.gui.app import main as gui_main

        return gui_main()
    from csos_desktop.cli import main as cli_main

    cli_main(prog_name="csos")
    return 0


if __name__ == "__main__":
    sys.exit(_run())
