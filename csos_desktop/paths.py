"""Where CSOS Desktop keeps its files. ``CSOS_HOME`` overrides everything (tests, demo)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from csos_desktop.fileio import private_dir

APP = "csos-desktop"


def home() -> Path | None:
    value = os.environ.get("CSOS_HOME")
    return Path(value) if value else None


def data_dir() -> Path:
    """Database, archive and stored chain."""
    base = home()
    path = base / "data" if base else Path(platformdirs.user_data_dir(APP, appauthor=False))
    return private_dir(path)


def config_dir(*, create: bool = True) -> Path:
    """User configuration (TOML); ``create=False`` for readers, which must not make a home."""
    base = home()
    path = base / "config" if base else Path(platformdirs.user_config_dir(APP, appauthor=False))
    return private_dir(path) if create else path


def chain_file() -> Path:
    """CA chain saved at enrolment, used when neither --chain nor the token has one."""
    return data_dir() / "chain.pem"


def log_dir(*, create: bool = True) -> Path:
    """Rotating log files (``$CSOS_HOME/logs`` or the platform's user log dir)."""
    base = home()
    path = base / "logs" if base else Path(platformdirs.user_log_dir(APP, appauthor=False))
    return private_dir(path) if create else path


#: Tests point this at a temp file; IT never needs it.
POLICY_ENV = "CSOS_POLICY_FILE"


def policy_file(platform: str | None = None) -> Path:
    """The machine policy written by IT. Not under CSOS_HOME: it is per machine, not per user."""
    value = os.environ.get(POLICY_ENV)
    if value:
        return Path(value)
    platform = platform or sys.platform
    if platform.startswith("win"):
        base = os.environ.get("PROGRAMDATA", r"C:\ProgramData")
        return Path(base) / "CSOS Desktop" / "policy.toml"
    if platform == "darwin":
        return Path("/Library/Application Support/CSOS Desktop/policy.toml")
    return Path("/etc/csos-desktop/policy.toml")
