"""`csos sandbox ca ...`: init, issue, revoke and crl from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from asn1crypto import x509 as asn1_x509
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.sandbox import sandbox
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.schedule import Schedule
from csos_desktop.pki.profile import read_csos_profile
from csos_desktop.sandbox.ca import TestCa

from .conftest import DEA, SubscriberKey, make_csr

CSOS = Path(sys.executable).parent / "csos"


def _run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(sandbox, ["ca", *map(str, args)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ca_dir(tmp_path: Path) -> Path:
    code, out, err = _run("init", "--dir", tmp_path / "ca")
    assert code == 0, err
    assert "NOT encrypted" in out
    return tmp_path / "ca"


def test_issue_revoke_crl(tmp_path: Path, ca_dir: Path, subscriber_key: SubscriberKey) -> None:
    csr = tmp_path / "req.pem"
    csr.write_bytes(make_csr(subscriber_key))
    cert_path = tmp_path / "cert.pem"
    code, out, err = _run(
        "issue",
        "--dir",
        ca_dir,
        "--csr",
        csr,
        "--dea",
        DEA,
        "--schedules",
        "2,2N,3,3N,4,5",
        "--days",
        "30",
        "--out",
        cert_path,
    )
    assert code == 0, err
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert f"serial:  {cert.serial_number} (0x{cert.serial_number:x})" in out
    assert "CN=Jane Pharmacist" in out
    info = read_csos_profile(
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    )
    assert info.matches_dea(DEA) and Schedule.II_NON_NARCOTIC in info.schedules
    assert (info.not_after - info.not_before).days == 30

    code, out, err = _run(
        "revoke",
        "--dir",
        ca_dir,
        "--serial",
        f"0x{cert.serial_number:X}",
        "--reason",
        "key_compromise",
    )
    assert code == 0, err
    assert "keyCompromise" in out

    crl_path = tmp_path / "crl.pem"
    code, out, err = _run("crl", "--dir", ca_dir, "--out", crl_path)
    assert code == 0, err
    assert "CRL number 1" in out and "1 revoked" in out
    crl = x509.load_pem_x509_crl(crl_path.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None

    code, out, err = _run("crl", "--dir", ca_dir, "--out", crl_path, "--root")
    assert code == 0, err
    root_crl = x509.load_pem_x509_crl(crl_path.read_bytes())
    assert root_crl.issuer == TestCa.load(ca_dir).root_certificate.subject
    assert len(root_crl) == 0


def test_errors_are_one_line_with_the_input_exit_code(
    tmp_path: Path, ca_dir: Path, ec_key: SubscriberKey
) -> None:
    code, _, err = _run("init", "--dir", ca_dir)
    assert (code, err.count("\n")) == (2, 1)
    assert err.startswith("error: ") and "already holds a test CA" in err

    broken = bytearray(
        x509.load_pem_x509_csr(make_csr(ec_key)).public_bytes(serialization.Encoding.DER)
    )
    broken[-1] ^= 0x01
    csr = tmp_path / "req.der"
    csr.write_bytes(bytes(broken))
    out = tmp_path / "cert.pem"
    code, _, err = _run(
        "issue", "--dir", ca_dir, "--csr", csr, "--dea", DEA, "--schedules", "2", "--out", out
    )
    assert code == 2 and "error: the request's signature does not verify" in err
    assert not out.exists()

    code, _, err = _run("revoke", "--dir", ca_dir, "--serial", "12345")
    assert code == 2 and "error: this CA never issued" in err
    code, _, err = _run("crl", "--dir", tmp_path / "empty", "--out", tmp_path / "x.pem")
    assert code == 2 and "error: " in err and "csos sandbox ca init" in err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--schedules", "2,7", "unknown schedule"), ("--dea", "AB1234567", "check digit")],
)
def test_bad_issue_arguments_are_explained(
    tmp_path: Path, ca_dir: Path, ec_key: SubscriberKey, option: str, value: str, message: str
) -> None:
    csr = tmp_path / "req.pem"
    csr.write_bytes(make_csr(ec_key))
    args = {"--dea": DEA, "--schedules": "2", option: value}
    code, _, err = _run(
        "issue",
        "--dir",
        ca_dir,
        "--csr",
        csr,
        "--out",
        tmp_path / "c.pem",
        *[x for kv in args.items() for x in kv],
    )
    assert code == 2 and message in err


def test_serial_must_be_a_number(ca_dir: Path) -> None:
    code, _, err = _run("revoke", "--dir", ca_dir, "--serial", "0xZZ")
    assert code == 2 and "decimal or 0x-hex" in err


def test_run_cli_passes_the_exit_code_through() -> None:
    class Broken(CsosError):
        exit_code = 7

    @click.command()
    @run_cli
    def cmd() -> None:
        raise Broken("the token was removed")

    result = CliRunner().invoke(cmd, [])
    assert (result.exit_code, result.stderr) == (7, "error: the token was removed\n")


@pytest.mark.skipif(not CSOS.exists(), reason="csos entry point not installed in this venv")
def test_the_installed_command_initialises_and_issues(
    tmp_path: Path, ec_key: SubscriberKey
) -> None:
    ca_dir = tmp_path / "ca"
    init = subprocess.run(
        [CSOS, "sandbox", "ca", "init", "--dir", ca_dir], capture_output=True, text=True, timeout=60
    )
    assert init.returncode == 0, init.stderr
    csr = tmp_path / "req.pem"
    csr.write_bytes(make_csr(ec_key))
    issue = subprocess.run(
        [
            CSOS,
            "sandbox",
            "ca",
            "issue",
            "--dir",
            ca_dir,
            "--csr",
            csr,
            "--dea",
            DEA,
            "--schedules",
            "2,3",
            "--out",
            tmp_path / "cert.pem",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert issue.returncode == 0, issue.stderr
    assert "serial:" in issue.stdout and "CN=Jane Pharmacist" in issue.stdout
    again = subprocess.run(
        [CSOS, "sandbox", "ca", "init", "--dir", ca_dir], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 2 and again.stderr.startswith("error: ")
