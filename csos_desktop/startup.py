"""What both entry points (`csos`, `csos-gui`) do first: a private umask, then logging."""

from __future__ import annotations

import logging
import os

from csos_desktop.domain.errors import CsosError
from csos_desktop.fileio import PRIVATE_UMASK


def start_logging() -> None:
    """Log to the platform log dir at the configured level; never stops the program.

    First the umask: whatever this process writes (exports, archives, support bundles)
    holds order or patient data and is for the user alone.
    """
    os.umask(PRIVATE_UMASK)
    from csos_desktop.config import load_config
    from csos_desktop.logs import setup_logging

    try:
        value = load_config().get("log_level")
        setup_logging(str(value) if value else "INFO")
    except (OSError, CsosError, ValueError) as exc:
        # No log file is not a reason to refuse to work; say so on stderr once.
        logging.getLogger("csos_desktop").warning("logging to file is off: %s", exc)
