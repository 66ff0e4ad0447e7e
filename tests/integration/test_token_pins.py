"""`csos token change-pin` and `csos token unblock`, run as commands on real tokens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from csos_desktop.sandbox.softhsm import SoftHsmToken, create_token
from csos_desktop.store import open_store
from tests.conftest import BACKENDS, TEST_PIN, Provisioned, Tpm2Tokens
from tests.token_backends import BackendToken, logs_in

NEW_PIN = "271828"
IT_PIN = "161803"


@pytest.fixture(scope="session")
def softhsm_pin_token(
    tokens: dict[object, Provisioned], hsm_dir: Path
) -> SoftHsmToken:  # after `tokens`: a new SoftHSM2 token re-initialises the module
    return create_token(hsm_dir, "csos-pin", TEST_PIN)


@pytest.fixture(scope="module", params=BACKENDS)
def pin_token(request: pytest.FixtureRequest) -> SoftHsmToken | BackendToken:
    if request.param == "softhsm2":
        found: SoftHsmToken = request.getfixturevalue("softhsm_pin_token")
        return found
    tpm2: Tpm2Tokens = request.getfixturevalue("tpm2_tokens")
    return tpm2.blank["tpm-pin"]


def _csos(
    hsm: SoftHsmToken | BackendToken, *args: str, stdin: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "csos_desktop",
            "token",
            *args,
            "--module",
            hsm.module,
            "--token",
            hsm.label,
            "--pin-stdin",
        ],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
        timeout=60,
    )


def _events() -> list[str]:
    with open_store() as store:
        return [e.event for e in store.audit.entries()]


def test_change_pin_refuses_a_wrong_old_pin_and_shows_the_counter_next_time(
    pin_token: SoftHsmToken | BackendToken,
) -> None:
    wrong = _csos(pin_token, "change-pin", stdin=f"999999\n{NEW_PIN}\n{NEW_PIN}\n")
    assert wrong.returncode != 0
    assert "did not accept the PIN" in wrong.stderr
    assert "999999" not in wrong.stderr + wrong.stdout
    again = _csos(pin_token, "change-pin", stdin=f"{TEST_PIN}\n{NEW_PIN}\n{NEW_PIN}x\n")
    assert "PIN state" in again.stderr
    if pin_token.module.endswith("libsofthsm2.so"):
        # SoftHSM2 raises count-low after a wrong PIN; it is said before the PIN is asked.
        assert "count-low" in again.stderr and "few tries are left" in again.stderr
    assert again.returncode != 0 and "differ" in again.stderr  # mismatched repeat: untouched
    assert logs_in(pin_token.module, pin_token.label, TEST_PIN)


def test_change_pin_sets_the_new_pin_and_writes_an_audit_entry(
    pin_token: SoftHsmToken | BackendToken,
) -> None:
    short = _csos(pin_token, "change-pin", stdin=f"{TEST_PIN}\n12\n12\n")
    assert short.returncode != 0 and "at least 6" in short.stderr
    done = _csos(pin_token, "change-pin", stdin=f"{TEST_PIN}\n{NEW_PIN}\n{NEW_PIN}\n")
    assert done.returncode == 0, done.stderr
    assert "was changed" in done.stdout
    assert logs_in(pin_token.module, pin_token.label, NEW_PIN)
    assert "token.pin-changed" in _events()


def test_unblock_with_the_so_pin_sets_a_new_user_pin(
    pin_token: SoftHsmToken | BackendToken,
) -> None:
    wrong = _csos(pin_token, "unblock", stdin=f"00000000\n{IT_PIN}\n{IT_PIN}\n")
    assert wrong.returncode != 0
    assert "did not accept the security officer PIN" in wrong.stderr
    done = _csos(pin_token, "unblock", stdin=f"{pin_token.so_pin}\n{IT_PIN}\n{IT_PIN}\n")
    assert done.returncode == 0, done.stderr
    assert "new user PIN" in done.stdout
    assert logs_in(pin_token.module, pin_token.label, IT_PIN)
    assert not logs_in(pin_token.module, pin_token.label, NEW_PIN)
    assert "token.pin-unblocked" in _events()
