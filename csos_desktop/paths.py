"""Where CSOS Desktop keeps its files. ``CSOS_HOME`` overrides everything (tests, demo)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "csos-desktop"


def home() -> Path | None:
    value = os.environ.get("CSOS_HOME")
    return Path(value) if value else None


def data_dir() -> Path:
    """Database, archive and stored chain."""
    base = home()
    path = base / "data" if base else Path(platformdirs.user_data_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """User configuration (TOML)."""
    base = home()
    path = base / "config" if base else Path(platformdirs.user_config_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def chain_file() -> Path:
    """CA chain saved at enrolment, used when neither --chain nor the token has one."""
    return data_dir() / "chain.pem"
