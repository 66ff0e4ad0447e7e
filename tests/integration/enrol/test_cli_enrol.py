"""`csos sandbox ca serve|issue-codes`, `csos enrol`, `csos cert show|revoke-request`, as run."""

from __future__ import annotations

import json
import logging
import select
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from csos_desktop.cli import main
from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.sandbox.softhsm import SoftHsmToken
from tests.conftest import TEST_PIN
from tests.integration.enrol.conftest import SandboxCa, cli_env
from tests.launch import csos_command

CSOS = csos_command()


def csos(
    args: list[str], hsm: SoftHsmToken, home: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        CSOS + args,
        env=cli_env(hsm, home),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, cli_hsm: SoftHsmToken
) -> Iterator[tuple[Path, str]]:
    """A CA made and served by the CLI, as in docs/enrolment.md."""
    home = tmp_path_factory.mktemp("cli-home")
    ca_dir = tmp_path_factory.mktemp("cli-ca") / "ca"
    made = csos(["sandbox", "ca", "init", "--dir", str(ca_dir)], cli_hsm, home)
    assert made.returncode == 0, made.stderr
    proc = subprocess.Popen(
        [*CSOS, "sandbox", "ca", "serve", "--dir", str(ca_dir), "--port", "0"],
        env=cli_env(cli_hsm, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready, "the server did not print its address"
        line = proc.stdout.readline()
        assert "listening at https://127.0.0.1:" in line, line
        yield ca_dir, line.split("listening at ")[1].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_getting_a_certificate_then_reporting_it_compromised(
    served: tuple[Path, str], cli_hsm: SoftHsmToken, tmp_path: Path
) -> None:
    ca_dir, url = served
    codes_run = csos(
        [
            "sandbox",
            "ca",
            "issue-codes",
            "--dir",
            str(ca_dir),
            "--dea",
            "AB1234563",
            "--name",
            "Main Street Pharmacy",
            "--schedules",
            "2,2N,3,3N,4,5",
            "--json",
        ],
        cli_hsm,
        tmp_path,
    )
    assert codes_run.returncode == 0, codes_run.stderr
    codes = json.loads(codes_run.stdout)
    assert set(codes) == {"reference_number", "authorization_code", "expires"}
    enrolled = csos(
        [
            "enrol",
            "--ca-url",
            url,
            "--reference-number",
            codes["reference_number"],
            "--ca-bundle",
            str(ca_dir / "root.pem"),
            "--token",
            cli_hsm.label,
            "--pin-stdin",
            "--json",
        ],
        cli_hsm,
        tmp_path,
        stdin=f"{codes['authorization_code']}\n{TEST_PIN}\n",
    )
    assert enrolled.returncode == 0, enrolled.stderr
    cert = json.loads(enrolled.stdout)["certificate"]
    assert cert["dea_number"] == "AB1234563"
    assert "Writing the certificate to the token" in enrolled.stderr
    for secret in (TEST_PIN, codes["authorization_code"]):
        assert secret not in enrolled.stdout + enrolled.stderr
    audit = csos(["audit", "list", "--json"], cli_hsm, tmp_path)
    installed = [e for e in json.loads(audit.stdout) if e["event"] == "certificate.installed"]
    assert installed and installed[-1]["details"]["dea_number"] == "AB1234563"

    shown = csos(["cert", "show", "--token", cli_hsm.label, "--json"], cli_hsm, tmp_path)
    assert shown.returncode == 0, shown.stderr
    row = next(r for r in json.loads(shown.stdout)["certificates"] if r["id"] == cert["id"])
    assert row["revocation"]["status"] == "good"
    assert row["renewal_message"] is None and row["schedules"] == ["2", "2N", "3", "3N", "4", "5"]

    unconfirmed = csos(
        [
            "cert",
            "revoke-request",
            "--reason",
            "keyCompromise",
            "--cert-id",
            cert["id"],
            "--token",
            cli_hsm.label,
            "--pin-stdin",
        ],
        cli_hsm,
        tmp_path,
        stdin=TEST_PIN + "\n",
    )
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    revoked = csos(
        [
            "cert",
            "revoke-request",
            "--reason",
            "keyCompromise",
            "--cert-id",
            cert["id"],
            "--yes",
            "--token",
            cli_hsm.label,
            "--pin-stdin",
        ],
        cli_hsm,
        tmp_path,
        stdin=TEST_PIN + "\n",
    )
    assert revoked.returncode == 0, revoked.stderr
    assert "keyCompromise" in revoked.stdout
    shown = csos(["cert", "show", "--token", cli_hsm.label, "--json"], cli_hsm, tmp_path)
    row = next(r for r in json.loads(shown.stdout)["certificates"] if r["id"] == cert["id"])
    assert row["revocation"]["status"] == "revoked"
    assert row["revocation"]["reason"] == "key_compromise"
    text = csos(["cert", "show", "--token", cli_hsm.label], cli_hsm, tmp_path)
    assert "REVOKED" in text.stdout


def test_reused_codes_through_the_cli_exit_2_with_the_reason(
    served: tuple[Path, str], cli_hsm: SoftHsmToken, tmp_path: Path
) -> None:
    ca_dir, url = served
    codes = json.loads(
        csos(
            [
                "sandbox",
                "ca",
                "issue-codes",
                "--dir",
                str(ca_dir),
                "--dea",
                "AB1234563",
                "--name",
                "Main Street Pharmacy",
                "--schedules",
                "2",
                "--json",
            ],
            cli_hsm,
            tmp_path,
        ).stdout
    )
    args = [
        "enrol",
        "--ca-url",
        url,
        "--reference-number",
        codes["reference_number"],
        "--ca-bundle",
        str(ca_dir / "root.pem"),
        "--token",
        cli_hsm.label,
        "--pin-stdin",
    ]
    stdin = f"{codes['authorization_code']}\n{TEST_PIN}\n"
    assert csos(args, cli_hsm, tmp_path, stdin=stdin).returncode == 0
    again = csos(args, cli_hsm, tmp_path / "other-home", stdin=stdin)
    assert again.returncode == 2
    assert "already used" in again.stderr


def test_wrong_codes_are_refused_before_the_pin_is_asked(
    served: tuple[Path, str], cli_hsm: SoftHsmToken, tmp_path: Path
) -> None:
    ca_dir, url = served
    codes = json.loads(
        csos(
            [
                "sandbox",
                "ca",
                "issue-codes",
                "--dir",
                str(ca_dir),
                "--dea",
                "AB1234563",
                "--name",
                "Main Street Pharmacy",
                "--schedules",
                "2",
                "--json",
            ],
            cli_hsm,
            tmp_path,
        ).stdout
    )
    wrong = csos(
        [
            "enrol",
            "--ca-url",
            url,
            "--reference-number",
            codes["reference_number"],
            "--ca-bundle",
            str(ca_dir / "root.pem"),
            "--token",
            cli_hsm.label,
        ],
        cli_hsm,
        tmp_path,
        stdin="WRONG-CODE\n",
    )  # no PIN on stdin at all
    assert wrong.returncode == 2, wrong.stderr
    assert "PIN" not in wrong.stderr


def test_offline_request_verified_by_openssl_then_p7b_import_warns_of_renewal(
    sandbox_ca: SandboxCa, enrol_hsm: SoftHsmToken, tmp_path: Path
) -> None:
    req = tmp_path / "req.pem"
    made = csos(
        [
            "enrol",
            "csr",
            "--out",
            str(req),
            "--name",
            "Main Street Pharmacy",
            "--algorithm",
            "p256",
            "--token",
            enrol_hsm.label,
            "--pin-stdin",
        ],
        enrol_hsm,
        tmp_path,
        stdin=TEST_PIN + "\n",
    )
    assert made.returncode == 0, made.stderr
    checked = subprocess.run(
        ["openssl", "req", "-verify", "-in", str(req), "-noout"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0 and "OK" in checked.stdout + checked.stderr
    cert = sandbox_ca.ca.issue(
        req.read_bytes(), dea_number="AB1234563", schedules=parse_schedule_list("2,3"), days=20
    )
    p7b = tmp_path / "cert.p7b"
    p7b.write_bytes(pkcs7.serialize_certificates([cert], Encoding.PEM))
    chain = tmp_path / "chain.pem"
    chain.write_bytes(
        sandbox_ca.ca.issuing_certificate.public_bytes(Encoding.PEM)
        + sandbox_ca.root_pem.read_bytes()
    )
    imported = csos(
        [
            "enrol",
            "import",
            str(p7b),
            "--chain",
            str(chain),
            "--token",
            enrol_hsm.label,
            "--pin-stdin",
            "--json",
        ],
        enrol_hsm,
        tmp_path,
        stdin=TEST_PIN + "\n",
    )
    assert imported.returncode == 0, imported.stderr
    key_id = json.loads(imported.stdout)["certificate"]["id"]
    shown = csos(
        ["cert", "show", "--token", enrol_hsm.label, "--offline", "--json"], enrol_hsm, tmp_path
    )
    row = next(r for r in json.loads(shown.stdout)["certificates"] if r["id"] == key_id)
    assert row["renewal_due"] is True and row["days_left"] in (19, 20)
    assert "Renew it now with `csos enrol renew`" in row["renewal_message"]
    again = csos(
        ["enrol", "import", str(p7b), "--token", enrol_hsm.label, "--pin-stdin"],
        enrol_hsm,
        tmp_path,
        stdin=TEST_PIN + "\n",
    )
    assert again.returncode == 0  # importing twice is harmless: same key, same certificate


def test_cleanup_lists_then_removes_keys_of_unfinished_enrolments(
    cli_hsm: SoftHsmToken, tmp_path: Path
) -> None:
    csr = csos(
        [
            "enrol",
            "csr",
            "--out",
            str(tmp_path / "r.pem"),
            "--name",
            "X",
            "--token",
            cli_hsm.label,
            "--pin-stdin",
        ],
        cli_hsm,
        tmp_path,
        stdin=TEST_PIN + "\n",
    )
    assert csr.returncode == 0, csr.stderr
    listed = csos(
        ["enrol", "cleanup", "--token", cli_hsm.label, "--pin-stdin"],
        cli_hsm,
        tmp_path,
        stdin=TEST_PIN + "\n",
    )
    assert "csos-pending-" in listed.stdout and "--yes" in listed.stdout
    removed = csos(
        ["enrol", "cleanup", "--yes", "--token", cli_hsm.label, "--pin-stdin"],
        cli_hsm,
        tmp_path,
        stdin=TEST_PIN + "\n",
    )
    assert removed.returncode == 0 and "Removed" in removed.stdout
    after = csos(
        ["enrol", "cleanup", "--token", cli_hsm.label, "--pin-stdin"],
        cli_hsm,
        tmp_path,
        stdin=TEST_PIN + "\n",
    )
    assert "No unfinished enrolment keys" in after.stdout


def test_pin_and_codes_reach_no_log_no_output_no_file(
    sandbox_ca: SandboxCa,
    enrol_hsm: SoftHsmToken,
    own_home: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in cli_env(enrol_hsm, own_home).items():
        monkeypatch.setenv(key, value)
    caplog.set_level(logging.DEBUG)
    codes = sandbox_ca.codes()
    result = CliRunner().invoke(
        main,
        [
            "enrol",
            "--ca-url",
            sandbox_ca.url,
            "--reference-number",
            codes.reference_number,
            "--ca-bundle",
            str(sandbox_ca.root_pem),
            "--token",
            enrol_hsm.label,
            "--pin-stdin",
        ],
        input=f"{codes.authorization_code}\n{TEST_PIN}\n",
    )
    assert result.exit_code == 0, result.output
    secrets = (TEST_PIN, codes.authorization_code, codes.authorization_code.replace("-", ""))
    for secret in secrets:
        assert secret not in caplog.text and secret not in result.output
    assert (own_home / "data" / "ca.json").exists()
    for root in (own_home, sandbox_ca.ca.directory):
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert not any(s.encode() in data for s in secrets), path


def test_the_one_time_code_cannot_be_put_on_the_command_line(
    cli_hsm: SoftHsmToken, tmp_path: Path
) -> None:
    """A code in argv is in the process list and shell history: the option is gone."""
    refused = csos(
        [
            "enrol",
            "--ca-url",
            "https://127.0.0.1:9",
            "--reference-number",
            "40019",
            "--authorization-code",
            "QWER-7788",
        ],
        cli_hsm,
        tmp_path,
    )
    assert refused.returncode == 2
    assert "No such option '--authorization-code'" in refused.stderr
