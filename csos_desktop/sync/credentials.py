"""The distributor's bearer credential, kept in the OS keyring (never the PIN).

Where no keyring backend exists (a headless server), the credential is kept in a file
only this user can read, and the program says so (here, and in `csos doctor`). The demo
keeps its sandbox credential in a file inside its own home, out of the user's real
keyring; whether a run is the demo is the caller's to say (``CredentialPlace.demo``),
never read from the environment here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import keyring
from keyring.backends import chainer, fail
from keyring.errors import KeyringError

from csos_desktop import paths
from csos_desktop.domain.errors import CsosError
from csos_desktop.fileio import write_atomically

SERVICE = "csos-desktop distributor"
FILE_NAME = "distributor-credentials.json"


class NoCredential(CsosError):
    """No credential is stored for this distributor, or none can be stored here."""


@dataclass(frozen=True)
class CredentialPlace:
    """The file used when no keyring can be; ``demo``: that file only (the demo's home)."""

    file: Path
    demo: bool = False


def default_place() -> CredentialPlace:
    return CredentialPlace(paths.config_dir(create=False) / FILE_NAME)


def keyring_problem() -> str | None:
    """Why the system keyring cannot keep the credential, or None when it can."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring configuration, reported like a missing one
        return f"the keyring cannot be loaded ({exc})"
    if isinstance(backend, fail.Keyring) or (
        isinstance(backend, chainer.ChainerBackend) and not backend.backends
    ):
        return "no system keyring backend is available"
    return None


def _read_file(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_file(path: Path, data: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(data).encode())  # created 0600
    os.chmod(path, 0o600)


def _forget_in_file(path: Path, url: str) -> None:
    """A credential now in the keyring leaves no copy in the fallback file."""
    data = _read_file(path)
    if url in data:
        del data[url]
        _write_file(path, data)


def save_token(url: str, token: str, place: CredentialPlace | None = None) -> str:
    """Store the credential; returns where it went (for the user to know)."""
    place = place or default_place()
    if place.demo:
        data = _read_file(place.file)
        _write_file(place.file, {**data, url: token})
        return f"{place.file} (the demo's own home, out of your system keyring)"
    try:
        keyring.set_password(SERVICE, url, token)
    except KeyringError as exc:
        data = _read_file(place.file)
        _write_file(place.file, {**data, url: token})
        return (
            f"{place.file}, readable only by you. Warning: no system keyring is available "
            f"here ({exc}); sign in to a desktop session with one (GNOME Keyring, KWallet, "
            "Windows Credential Manager) and sign in to the distributor again to move it."
        )
    _forget_in_file(place.file, url)
    return f"the system keyring ({keyring.get_keyring().name})"


def load_token(url: str, place: CredentialPlace | None = None) -> str:
    """The credential for *url*; raises NoCredential with what to do."""
    place = place or default_place()
    token = None
    if not place.demo:
        try:
            token = keyring.get_password(SERVICE, url)
        except KeyringError:
            token = None
    if token is None:
        token = _read_file(place.file).get(url)
    if not token:
        raise NoCredential(
            f"No credential for the distributor at {url} is stored. Run 'csos sync login "
            "--url URL' with the token your distributor gave you."
        )
    return token
