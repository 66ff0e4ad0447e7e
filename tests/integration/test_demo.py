"""`csos demo` (what `make demo` runs) works end to end in its own process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def run_demo(home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SOFTHSM2_CONF", "CSOS_PKCS11_MODULE")}
    return subprocess.run(
        [sys.executable, "-m", "csos_desktop", "demo", "--home", str(home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_runs_the_whole_loop_and_catches_tampering(tmp_path: Path) -> None:
    done = run_demo(tmp_path / "demo")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Enrolled over EST with one-time codes" in out
    assert "3 orders of this pharmacy's usual products signed with one PIN entry" in out
    assert "Sent to the distributor: 3 orders" in out and "now accepted" in out
    assert "signed on the token and sent: 3; orders now received" in out
    # One order goes as a signed 850 over AS2; its 855 and 856 come back over AS2.
    assert "signed, encrypted AS2 message: signed MDN verified, MIC matched." in out
    assert "signed 855 accepted, 1 line(s), linked." in out
    assert "856 shipment" in out and "package(s) on" in out
    assert "signed statements verified (trust store and CRLs): 3 of 3;" in out
    assert "re-verified offline: INTACT" in out
    assert "SOM before signing: INTERCEPT" in out and "policy limit" in out
    assert "CMS Verification successful" in out
    assert "REJECTED: digest-mismatch" in out
    assert "schedule II NewRx (NCPDP SCRIPT 2017071)" in out
    assert "approved with her own token (permission #1, two people, 1311.125)" in out
    assert "routed to Main Street Pharmacy (NCPDP 1234567)" in out
    assert "the pharmacy's check on receipt: VERIFIED;" in out
    assert "ran the demo headless" in out
    # The prescription went through the practice's record as `csos rx sign` does: signed by
    # the granted prescriber, audited, sent by the outbox, not around it.
    db = sqlite3.connect(tmp_path / "demo" / "data" / "csos.db")
    try:
        events = [e for (e,) in db.execute("SELECT event FROM audit_log ORDER BY entry_id")]
        signed = db.execute("SELECT signed_by FROM signed_prescriptions").fetchall()
    finally:
        db.close()
    assert signed == [("dr-smith",)]
    for event in ("rx.user-added", "rx.grant-proposed", "rx.grant-approved", "rx.signed"):
        assert event in events, events
    # Running it again starts afresh in the same directory.
    assert run_demo(tmp_path / "demo").returncode == 0


def test_demo_refuses_to_wipe_a_directory_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "records.db").write_text("keep me")
    done = run_demo(precious)
    assert done.returncode == 1
    assert "is not a demo directory" in done.stderr
    assert (precious / "records.db").read_text() == "keep me"


@pytest.mark.parametrize("flag", ["--help"])
def test_top_level_help_lists_the_commands(flag: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "csos_desktop", flag], capture_output=True, text=True, check=True
    ).stdout
    for group in ("token", "order", "cert", "sandbox", "demo"):
        assert group in out


def test_sandbox_token_create_sets_the_pin_without_a_command_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SOFTHSM2_CONF", "CSOS_PKCS11_MODULE")}
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "csos_desktop",
            "sandbox",
            "token",
            "create",
            "--dir",
            str(tmp_path / "hsm"),
            "--label",
            "walkthrough",
            "--pin-stdin",
        ],
        env=env,
        input="2468\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert "export SOFTHSM2_CONF=" in made.stdout
    env["SOFTHSM2_CONF"] = str(tmp_path / "hsm" / "softhsm2.conf")
    env["CSOS_TEST_PIN"] = "2468"
    listed = subprocess.run(
        [
            "pkcs11-tool",
            "--module",
            "/usr/lib/softhsm/libsofthsm2.so",
            "--token-label",
            "walkthrough",
            "--login",
            "--pin",
            "env:CSOS_TEST_PIN",
            "--list-objects",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr  # the PIN given on stdin opens the token


def test_starting_csos_creates_nothing_in_its_home(tmp_path: Path) -> None:
    """Logging and settings must not make CSOS_HOME: `make demo` claims only an empty home."""
    home = tmp_path / "demo-home"
    env = {**os.environ, "CSOS_HOME": str(home)}
    for args in (["--version"], ["config", "show"]):
        subprocess.run(
            [sys.executable, "-m", "csos_desktop", *args], env=env, capture_output=True, check=True
        )
    assert not home.exists()


def test_a_home_of_empty_folders_is_claimed_and_an_interrupted_one_reused(tmp_path: Path) -> None:
    from csos_desktop.sandbox.demo import MARKER, prepare_home

    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "logs").mkdir()
    prepare_home(home)
    assert (home / MARKER).is_file()
    # A run killed while clearing: the marker is removed last, so it is still there.
    (home / "data").mkdir()
    (home / "data" / "csos.db").write_text("half-made demo store")
    prepare_home(home)
    assert sorted(p.name for p in home.iterdir()) == [MARKER]
    (home / MARKER).unlink()
    (home / "notes.txt").write_text("someone's file")
    from csos_desktop.domain.errors import CsosError

    with pytest.raises(CsosError, match="not a demo directory"):
        prepare_home(home)
    assert (home / "notes.txt").read_text() == "someone's file"
