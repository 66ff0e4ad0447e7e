"""The distributor's bearer credential, kept in the OS keyring (never the PIN).

Where no keyring backend exists (a headless server), the program says so
rather than crash. Only when ``CSOS_HOME`` isolates a demo or a test run may
a plain file under it stand in, and the program names that file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring
from keyring.errors import KeyringError

from csos_desktop import paths
from csos_desktop.domain.errors import CsosError
from csos_desktop.fileio import write_atomically

SERVICE = "csos-desktop distributor"


class NoCredential(CsosError):
    """No credential is stored for this distributor, or none can be stored here."""


def _demo_file() -> Path | None:
    return paths.config_dir() / "distributor-credentials.json" if paths.home() else None


def _read_file(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save_token(url: str, token: str) -> str:
    """Store the credential; returns where it went (for the user to know)."""
    try:
        keyring.set_password(SERVICE, url, token)
        return f"the system keyring ({keyring.get_keyring().name})"
    except KeyringError as exc:
        demo = _demo_file()
        if demo is None:
            raise NoCredential(
                "No system keyring is available to keep the distributor credential "
                f"({exc}). Sign in to a desktop session with a keyring (GNOME Keyring, KWallet, "
                "Windows Credential Manager), or ask IT."
            ) from exc
        data = _read_file(demo)
        data[url] = token
        demo.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(demo, json.dumps(data).encode())
        os.chmod(demo, 0o600)
        return f"{demo} (demo/test file under CSOS_HOME: no system keyring here)"


def load_token(url: str) -> str:
    """The credential for *url*; raises NoCredential with what to do."""
    try:
        token = keyring.get_password(SERVICE, url)
    except KeyringError:
        token = None
    if token is None and (demo := _demo_file()) is not None:
        token = _read_file(demo).get(url)
    if not token:
        raise NoCredential(
            f"No credential for the distributor at {url} is stored. Run 'csos sync login "
            "--url URL' with the token your distributor gave you."
        )
    return token
