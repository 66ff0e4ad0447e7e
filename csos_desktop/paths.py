"""Where CSOS Desktop keeps its files. ``CSOS_HOME`` moves the user's own files (tests, demo).

``CSOS_HOME`` only chooses where this user's data, settings and logs live; it grants
nothing. The machine policy is never looked for there, nor anywhere a user can name.
"""

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


def policy_file(platform: str | None = None) -> Path:
    """The machine policy written by IT, where only an administrator can write.

    Fixed per platform: no environment variable or user setting moves it (on Windows the
    ProgramData folder comes from the shell, not from the user's ``%PROGRAMDATA%``).
    """
    platform = platform or sys.platform
    if platform.startswith("win"):
        return _program_data(platform) / "CSOS Desktop" / "policy.toml"
    if platform == "darwin":
        return Path("/Library/Application Support/CSOS Desktop/policy.toml")
    return Path("/etc/csos-desktop/policy.toml")


#: FOLDERID_ProgramData (KnownFolders.h).
_PROGRAM_DATA_ID = "{62AB5D82-FDC1-4DC3-A9DD-070D1D495D97}"


def _program_data(platform: str) -> Path:
    """The machine's ProgramData folder (SHGetKnownFolderPath), else C:\\ProgramData."""
    default = Path("C:/ProgramData")
    if platform != "win32" or sys.platform != "win32":
        return default
    import ctypes
    import uuid

    shell32 = getattr(ctypes, "windll").shell32  # noqa: B009 - Windows only
    ole32 = getattr(ctypes, "windll").ole32  # noqa: B009
    guid = (ctypes.c_ubyte * 16).from_buffer_copy(uuid.UUID(_PROGRAM_DATA_ID).bytes_le)
    found = ctypes.c_wchar_p()
    if shell32.SHGetKnownFolderPath(ctypes.byref(guid), 0, None, ctypes.byref(found)) != 0:
        return default
    try:
        return Path(found.value) if found.value else default
    finally:
        ole32.CoTaskMemFree(found)
