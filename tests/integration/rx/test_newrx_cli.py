"""`csos rx receive` from files, `csos rx export`, and the inspector's archive, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.export import export_archive
from csos_desktop.services.archive.verify import Verdict, verify_archive
from csos_desktop.services.rx.receive import receive
from csos_desktop.store import open_store
from tests.conftest import Provisioned
from tests.integration.rx.test_newrx_pharmacy import MAIN_STREET, Token, sign_newrx, trust_of
from tests.integration.store.tokens import document_signer
from tests.launch import csos_command
from tests.unit.script.samples import sample_pharmacy, sample_prescription
from tests.unit.store.archive_forgery import roots

CSOS = csos_command()


@pytest.fixture()
def message(token: Token, test_ca: TestCa) -> bytes:
    return sign_newrx(token, test_ca, sample_prescription(datetime.now(UTC)), sample_pharmacy())


def _pki(ca: TestCa, d: Path) -> list[str]:
    files = {
        "root.pem": ca.root_certificate,
        "issuing.pem": ca.issuing_certificate,
        "crl.pem": ca.crl(),
        "rcrl.pem": ca.root_crl(),
    }
    for name, obj in files.items():
        (d / name).write_bytes(obj.public_bytes(Encoding.PEM))
    return [
        "--trust",
        str(d / "root.pem"),
        "--chain",
        str(d / "issuing.pem"),
        "--crl",
        str(d / "crl.pem"),
        "--crl",
        str(d / "rcrl.pem"),
    ]


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CSOS_HOME=str(home))
    return subprocess.run(
        [*CSOS, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_receive_from_files_shows_verdicts_and_export_keeps_them(
    message: bytes, test_ca: TestCa, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    good, bad = tmp_path / "good.xml", tmp_path / "bad.xml"
    good.write_bytes(message)
    bad.write_bytes(message.replace(b"<Value>20</Value>", b"<Value>90</Value>"))
    done = _run(
        home,
        "rx",
        "receive",
        str(good),
        str(bad),
        "--ncpdp-id",
        MAIN_STREET,
        *_pki(test_ca, tmp_path),
    )
    assert done.returncode == 1, done.stderr
    assert "VERIFIED ON RECEIPT" in done.stdout and "Maria Lopez" in done.stdout
    assert "NOT VERIFIED" in done.stdout and "digest-mismatch" in done.stdout
    out = tmp_path / "export"
    exported = _run(home, "rx", "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert (out / "received/1.xml").read_bytes() == message
    assert (out / "received/2.xml").read_bytes() == bad.read_bytes()
    record = json.loads((out / "received/1.record.json").read_text())
    assert record["verified_on_receipt"] is True and record["source"] == "good.xml"
    assert json.loads((out / "received/2.record.json").read_text())["verdict"] == "not-verified"
    assert b"<Status>" in (out / "received/1.answer.xml").read_bytes()


def test_the_inspector_s_archive_holds_the_received_newrx_with_its_indication(
    message: bytes, test_ca: TestCa, rsa_token: Provisioned, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    with open_store(tmp_path / "csos.db") as store:
        receive(
            store,
            message,
            own_ncpdp_id=MAIN_STREET,
            source="newrx.xml",
            trust=trust_of(test_ca),
            now=datetime.now(UTC),
        )
        with document_signer(rsa_token, test_ca) as signer:
            summary = export_archive(store, today, today, tmp_path / "a.zip", signer=signer)
    with zipfile.ZipFile(summary.path) as zf:
        assert zf.read("prescriptions/received/1.xml") == message
        record = json.loads(zf.read("prescriptions/received/1.record.json"))
        manifest = json.loads(zf.read("manifest.json"))
    assert record["verdict"] == "verified" and record["verified_on_receipt"] is True
    assert "prescriptions/received/1.xml" in {f["name"] for f in manifest["files"]}
    assert verify_archive(summary.path, roots(test_ca)).verdict is Verdict.INTACT
