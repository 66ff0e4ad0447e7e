"""`csos order sign|verify`, `csos token list`, `csos cert show` as a user runs them."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.cli import main
from csos_desktop.sandbox.ca import TestCa
from tests.conftest import TEST_PIN, Provisioned
from tests.launch import csos_command
from tests.registrant import record_registrant_at
from tests.unit.domain.samples import sample_order_input

CSOS = csos_command()
_NUMBERS = itertools.count(777)


@pytest.fixture(scope="module", autouse=True)
def registrant(csos_home: Path, rsa_token: Provisioned, ec_token: Provisioned) -> None:
    """These commands use the session's home: its registrant holds both test tokens'
    certificates, as the sample orders carry schedule II (1305.05)."""
    for prov in (rsa_token, ec_token):
        record_registrant_at(csos_home / "data" / "csos.db", prov)


@pytest.fixture()
def order_file(tmp_path: Path) -> Path:
    data = sample_order_input()
    # Each test's order is new to the store: signing a file records it (numbers are unique).
    data["order_id"] = str(uuid.uuid4())
    data["order_number"] = f"{datetime.now(UTC):%y}X{next(_NUMBERS):06d}"
    path = tmp_path / "order.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture()
def ca_files(test_ca: TestCa, tmp_path: Path) -> dict[str, Path]:
    files = {
        "root": tmp_path / "root.pem",
        "crl": tmp_path / "crl.pem",
        "root_crl": tmp_path / "root-crl.pem",
    }
    files["root"].write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    files["crl"].write_bytes(test_ca.crl().public_bytes(Encoding.PEM))
    files["root_crl"].write_bytes(test_ca.root_crl().public_bytes(Encoding.PEM))
    return files


def env_for(prov: Provisioned) -> dict[str, str]:
    return dict(os.environ, SOFTHSM2_CONF=str(prov.hsm.conf), CSOS_PKCS11_MODULE=prov.hsm.module)


def run(args: list[str], prov: Provisioned, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        CSOS + args,
        env=env_for(prov),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_sign_then_verify_through_the_cli(
    rsa_token: Provisioned, order_file: Path, ca_files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "signed"
    signed = run(
        [
            "order",
            "sign",
            str(order_file),
            "--token",
            rsa_token.label,
            "--pin-stdin",
            "--out",
            str(out),
        ],
        rsa_token,
        stdin=TEST_PIN + "\n",
    )
    assert signed.returncode == 0, signed.stderr
    docs = list(out.glob("*.json"))
    assert len(docs) == 1
    sig = docs[0].with_suffix(".p7s")
    assert sig.exists()
    verified = run(
        [
            "order",
            "verify",
            str(docs[0]),
            str(sig),
            "--trust",
            str(ca_files["root"]),
            "--crl",
            str(ca_files["crl"]),
            "--crl",
            str(ca_files["root_crl"]),
            "--json",
        ],
        rsa_token,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["accepted"] is True and report["revocation_checked"] is True
    assert TEST_PIN not in signed.stdout + signed.stderr


def test_verify_exit_code_1_lists_reasons(
    rsa_token: Provisioned, order_file: Path, ca_files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "signed"
    run(
        [
            "order",
            "sign",
            str(order_file),
            "--pin-stdin",
            "--token",
            rsa_token.label,
            "--out",
            str(out),
        ],
        rsa_token,
        stdin=TEST_PIN + "\n",
    )
    doc = next(out.glob("*.json"))
    doc.write_bytes(doc.read_bytes().replace(b'"quantity":2', b'"quantity":5'))
    verified = run(
        [
            "order",
            "verify",
            str(doc),
            str(doc.with_suffix(".p7s")),
            "--trust",
            str(ca_files["root"]),
        ],
        rsa_token,
    )
    assert verified.returncode == 1
    assert "REJECTED" in verified.stdout and "digest-mismatch" in verified.stdout


def test_verify_with_an_unusable_trust_file_exits_2(rsa_token: Provisioned, tmp_path: Path) -> None:
    bogus = tmp_path / "root.pem"
    bogus.write_text("not a certificate")
    doc = tmp_path / "d.json"
    doc.write_text("{}")
    done = run(["order", "verify", str(doc), str(doc), "--trust", str(bogus)], rsa_token)
    assert done.returncode == 2
    assert "does not contain valid certificates" in done.stderr


def test_invalid_order_exits_2_names_the_field_and_writes_nothing(
    rsa_token: Provisioned, tmp_path: Path
) -> None:
    data = sample_order_input()
    data["purchaser"]["dea_number"] = "AB1234564"  # type: ignore[index]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    out = tmp_path / "out"
    done = run(
        ["order", "sign", str(bad), "--pin-stdin", "--out", str(out)],
        rsa_token,
        stdin=TEST_PIN + "\n",
    )
    assert done.returncode == 2
    assert "purchaser.dea_number" in done.stderr
    assert "check digit" in done.stderr
    assert not out.exists()


def test_wrong_pin_signs_nothing_and_says_so(
    ec_token: Provisioned, order_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = run(
        [
            "order",
            "sign",
            str(order_file),
            "--token",
            ec_token.label,
            "--pin-stdin",
            "--out",
            str(out),
        ],
        ec_token,
        stdin="999999\n",
    )
    assert done.returncode == 1
    assert "did not accept the PIN" in done.stderr
    assert "999999" not in done.stderr + done.stdout
    assert not out.exists()


def test_pin_never_reaches_logs_or_files(
    rsa_token: Provisioned,
    order_file: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    csos_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in env_for(rsa_token).items():
        monkeypatch.setenv(key, value)
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "order",
            "sign",
            str(order_file),
            "--token",
            rsa_token.label,
            "--pin-stdin",
            "--out",
            str(out),
        ],
        input=TEST_PIN + "\n",
    )
    assert result.exit_code == 0, result.output
    assert TEST_PIN not in caplog.text
    assert TEST_PIN not in result.output
    for root in (csos_home, out):
        for path in root.rglob("*"):
            if path.is_file():
                assert TEST_PIN.encode() not in path.read_bytes(), path


def test_token_list_json(rsa_token: Provisioned) -> None:
    done = run(["token", "list", "--json"], rsa_token)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    labels = {t["label"] for t in report["tokens"]}
    assert {"csos-rsa", "csos-ec"} <= labels
    assert report["module_source"] == "CSOS_PKCS11_MODULE"


def test_cert_show_json(rsa_token: Provisioned) -> None:
    done = run(["cert", "show", "--token", rsa_token.label, "--json"], rsa_token)
    assert done.returncode == 0, done.stderr
    (cert,) = json.loads(done.stdout)["certificates"]
    # The certificate holds SHA-1(DEA number ‖ subject serialNumber), never the number.
    serial = cert["subject_serial_number"]
    assert cert["dea_number_hash"] == hashlib.sha1(f"AB1234563{serial}".encode()).hexdigest()
    assert cert["schedules"] == ["1", "2", "2N", "3", "3N", "4", "5"]
    assert 360 <= cert["days_left"] <= 366
    assert cert["renewal_due"] is False


@pytest.mark.parametrize(("dea", "verdict"), [("AB1234563", "matches"), ("BS1234563", "does not")])
def test_cert_show_says_whether_the_known_dea_number_matches(
    rsa_token: Provisioned, tmp_path: Path, dea: str, verdict: str
) -> None:
    env = env_for(rsa_token) | {"CSOS_HOME": str(tmp_path)}
    for args in (["config", "set", "dea_number", dea], ["cert", "show", "--offline"]):
        done = subprocess.run(
            [*CSOS, *args, "--token", rsa_token.label] if args[0] == "cert" else [*CSOS, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert f"DEA number: {dea} ({verdict}" in done.stdout


def test_several_tokens_without_label_asks_for_token(
    rsa_token: Provisioned, order_file: Path, tmp_path: Path
) -> None:
    done = run(
        ["order", "sign", str(order_file), "--pin-stdin", "--out", str(tmp_path / "o")],
        rsa_token,
        stdin=TEST_PIN + "\n",
    )
    assert done.returncode == 2
    assert "--token" in done.stderr


def test_cert_id_and_explicit_chain_are_used(
    rsa_token: Provisioned,
    order_file: Path,
    ca_files: dict[str, Path],
    tmp_path: Path,
    test_ca: TestCa,
) -> None:
    chain = tmp_path / "chain.pem"
    chain.write_bytes(test_ca.issuing_certificate.public_bytes(Encoding.PEM))
    out = tmp_path / "signed"
    done = run(
        [
            "order",
            "sign",
            str(order_file),
            "--token",
            rsa_token.label,
            "--pin-stdin",
            "--cert-id",
            rsa_token.key.key_id.hex(),
            "--chain",
            str(chain),
            "--out",
            str(out),
        ],
        rsa_token,
        stdin=TEST_PIN + "\n",
    )
    assert done.returncode == 0, done.stderr
    doc = next(out.glob("*.json"))
    verified = run(
        [
            "order",
            "verify",
            str(doc),
            str(doc.with_suffix(".p7s")),
            "--trust",
            str(ca_files["root"]),
            "--crl",
            str(ca_files["crl"]),
            "--crl",
            str(ca_files["root_crl"]),
        ],
        rsa_token,
    )
    assert verified.returncode == 0, verified.stdout


def test_unknown_cert_id_is_refused_before_the_pin(
    rsa_token: Provisioned, order_file: Path, tmp_path: Path
) -> None:
    done = run(
        [
            "order",
            "sign",
            str(order_file),
            "--token",
            rsa_token.label,
            "--pin-stdin",
            "--cert-id",
            "00ff",
            "--out",
            str(tmp_path / "o"),
        ],
        rsa_token,
        stdin="",
    )
    assert done.returncode == 1
    assert "No CSOS certificate with id 00ff" in done.stderr
