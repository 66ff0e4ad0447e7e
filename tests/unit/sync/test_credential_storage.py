"""The distributor's bearer token: in the system keyring, never in a file under the home;
a user-only file with a warning only where no keyring exists; the demo's own file only in
the home `csos demo` marked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from csos_desktop.cli import main
from csos_desktop.doctor.credentials import credential_check
from csos_desktop.doctor.result import Status
from csos_desktop.sync.credentials import CredentialPlace, load_token, save_token
from tests.conftest import MemoryKeyring

URL = "https://csos.distributor.example/api"
TOKEN = "dist-bearer-7f3a9c1e5b2d4f60"


def _login(home: Path) -> str:
    done = CliRunner().invoke(
        main,
        ["sync", "login", "--url", URL, "--token-stdin"],
        input=TOKEN + "\n",
        env={"CSOS_HOME": str(home)},
        catch_exceptions=False,
    )
    assert done.exit_code == 0, done.output
    return done.output


def _files_holding_the_token(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]


def test_with_a_keyring_no_bearer_token_is_in_any_file_under_the_home(
    tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    out = _login(home)
    assert "system keyring" in out
    assert list(memory_keyring.items.values()) == [TOKEN]
    assert _files_holding_the_token(home) == []
    monkeypatch.setenv("CSOS_HOME", str(home))
    assert load_token(URL) == TOKEN
    assert credential_check().status is Status.OK


def test_without_a_keyring_the_token_is_kept_readable_only_by_the_user_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    out = _login(home)  # the test machine has no keyring backend
    assert "Warning: no system keyring" in " ".join(out.split())
    [kept] = _files_holding_the_token(home)
    assert kept.stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("CSOS_HOME", str(home))
    shown = credential_check()
    assert shown.status is Status.WARNING and str(kept) in shown.summary


def test_a_token_moved_to_the_keyring_leaves_no_copy_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    _login(home)
    assert _files_holding_the_token(home)
    ring = MemoryKeyring()
    import keyring

    before = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        _login(home)
    finally:
        keyring.set_keyring(before)
    assert _files_holding_the_token(home) == [] and TOKEN in ring.items.values()


def test_the_demo_keeps_its_sandbox_token_in_its_own_home_only(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    place = CredentialPlace(tmp_path / "demo-home" / "config" / "creds.json", demo=True)
    assert "demo" in save_token(URL, TOKEN, place)
    assert memory_keyring.items == {}  # the user's real keyring gets no sandbox token
    assert load_token(URL, place) == TOKEN
    assert os.stat(place.file).st_mode & 0o777 == 0o600
