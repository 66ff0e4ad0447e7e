"""The five-minute rule (21 CFR 1311.55(b)(8)) through the CLI signing commands: the clock is
measured against an NTP server (here a real one on loopback whose time is set apart)."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import open_store
from tests.conftest import TEST_PIN, Provisioned
from tests.integration.test_cli_order import env_for
from tests.launch import csos_command
from tests.ntp import NtpServer
from tests.registrant import record_registrant_at
from tests.unit.domain.rx_samples import sample_rx_input
from tests.unit.domain.samples import sample_order_input
from tests.unit.rx.helpers import permit, practice
from tests.unit.store.helpers import Clock

CSOS = csos_command()


@pytest.fixture()
def ntp() -> Iterator[NtpServer]:
    server = NtpServer()
    yield server
    server.close()


@pytest.fixture()
def home(tmp_path: Path, rsa_token: Provisioned, test_ca: TestCa, ntp: NtpServer) -> Path:
    home = tmp_path / "home"
    root = tmp_path / "root.pem"
    root.write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    for args in (["trust", "add", str(root)], ["config", "set", "ntp_server", ntp.address]):
        done = csos(home, rsa_token, *args)
        assert done.returncode == 0, done.stderr
    # The orders carry schedule II: the token's holder is the recorded registrant (1305.05).
    record_registrant_at(home / "data" / "csos.db", rsa_token)
    return home


def csos(
    home: Path, prov: Provisioned, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = env_for(prov) | {"CSOS_HOME": str(home)}
    return subprocess.run(
        [*CSOS, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def sign(home: Path, prov: Provisioned, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    data = sample_order_input()
    # A new order each time: a signed file is kept in the store, whose numbers are unique.
    data["order_id"] = str(uuid.uuid4())
    data.pop("order_number", None)
    tmp_path.mkdir(parents=True, exist_ok=True)
    order = tmp_path / "order.json"
    order.write_text(json.dumps(data), encoding="utf-8")
    return csos(home, prov, "order", "sign", str(order), "--token", prov.label, "--pin-stdin",
                "--out", str(tmp_path / "out"), stdin=TEST_PIN + "\n")  # fmt: skip


@pytest.mark.parametrize("minutes", [6, -6])
def test_a_clock_six_minutes_off_refuses_signing_with_the_skew(
    home: Path, rsa_token: Provisioned, ntp: NtpServer, tmp_path: Path, minutes: int
) -> None:
    ntp.offset = minutes * 60
    done = sign(home, rsa_token, tmp_path)
    assert done.returncode != 0
    direction = "behind" if minutes > 0 else "ahead of"
    assert f"6.0 minutes {direction}" in done.stderr and "1311.55(b)(8)" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_clock_in_step_signs(
    home: Path, rsa_token: Provisioned, ntp: NtpServer, tmp_path: Path
) -> None:
    ntp.offset = 4 * 60  # within five minutes
    done = sign(home, rsa_token, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "clock" not in done.stderr


def test_an_unreachable_reference_refuses_unless_the_policy_says_warn(
    home: Path, rsa_token: Provisioned, ntp: NtpServer, tmp_path: Path
) -> None:
    ntp.close()  # nothing answers any more (no distributor or CA either in this home)
    refused = sign(home, rsa_token, tmp_path / "a")
    assert refused.returncode != 0 and "could not be checked" in refused.stderr
    assert "clock_unverifiable" in refused.stderr and "WARN" in refused.stderr
    assert not (tmp_path / "a" / "out").exists()
    assert csos(home, rsa_token, "config", "set", "clock_unverifiable", "WARN").returncode == 0
    warned = sign(home, rsa_token, tmp_path / "b")
    assert warned.returncode == 0, warned.stderr
    assert "warning: the clock could not be checked" in warned.stderr


def test_the_ntp_server_is_asked_first_and_the_doctor_shows_the_last_reading(
    home: Path, rsa_token: Provisioned, ntp: NtpServer, tmp_path: Path
) -> None:
    ntp.offset = 90  # a minute and a half: signs, and the doctor shows what was measured
    assert sign(home, rsa_token, tmp_path).returncode == 0
    doctor = csos(home, rsa_token, "doctor", "--json")
    [check] = [c for c in json.loads(doctor.stdout)["checks"] if c["check"] == "clock_reference"]
    assert check["status"] == "ok" and check["details"]["reference"] == f"ntp:{ntp.address}"
    assert 85 <= check["details"]["skew_seconds"] <= 95


def test_a_prescription_is_not_signed_with_a_clock_six_minutes_off(
    home: Path, rsa_token: Provisioned, ntp: NtpServer, tmp_path: Path
) -> None:
    # The same pre-PIN rule holds for prescriptions (1311.120(b)(8)): refused, then signed
    # once the clock is back in step.
    with open_store(home / "data" / "csos.db") as store:
        set_up = Clock(datetime.now(UTC) - timedelta(days=1))
        practice(store, set_up)
        permit(store, set_up, certificate_der=rsa_token.certificate_der)
    rx = tmp_path / "rx.json"
    rx.write_text(json.dumps(sample_rx_input(datetime.now().astimezone().date().isoformat())))
    out = tmp_path / "signed"
    args = ["rx", "sign", str(rx), "--as", "drsmith", "--token", rsa_token.label]
    args += ["--pin-stdin", "--offline", "--out", str(out)]
    ntp.offset = 6 * 60
    refused = csos(home, rsa_token, *args, stdin=TEST_PIN + "\n")
    assert refused.returncode != 0
    assert "6.0 minutes behind" in refused.stderr and "1311.55(b)(8)" in refused.stderr
    assert not out.exists() or not any(out.iterdir())
    ntp.offset = 0
    signed = csos(home, rsa_token, *args, stdin=TEST_PIN + "\n")
    assert signed.returncode == 0, signed.stderr
    assert len(list(out.glob("*.p7s"))) == 1
