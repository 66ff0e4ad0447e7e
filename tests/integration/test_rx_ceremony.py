"""EPCS signing ceremony (21 CFR 1311.140) and pharmacy verification (1311.205/1311.210)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.attestation import RX_SIGNING_ATTESTATION
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import open_store
from tests.conftest import TEST_PIN, Provisioned, trust_sandbox_root
from tests.integration.signing import chain_of, issue_for_token
from tests.launch import csos_command
from tests.unit.domain.rx_samples import sample_rx_input
from tests.unit.rx.helpers import permit, practice
from tests.unit.store.helpers import Clock

CSOS = csos_command()


def rx_file(tmp_path: Path, name: str = "rx.json", **changes: Any) -> Path:
    data = sample_rx_input(datetime.now(UTC).date().isoformat())
    data.update(changes)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def run(
    args: list[str], prov: Provisioned, stdin: str = "", home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SOFTHSM2_CONF=str(prov.hsm.conf), CSOS_PKCS11_MODULE=prov.hsm.module)
    if home is not None:
        env["CSOS_HOME"] = str(home)
    return subprocess.run(
        CSOS + args, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture()
def pki_files(test_ca: TestCa, tmp_path: Path) -> list[str]:
    root, crl, root_crl = tmp_path / "root.pem", tmp_path / "crl.pem", tmp_path / "rcrl.pem"
    root.write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    crl.write_bytes(test_ca.crl().public_bytes(Encoding.PEM))
    root_crl.write_bytes(test_ca.root_crl().public_bytes(Encoding.PEM))
    return ["--trust", str(root), "--crl", str(crl), "--crl", str(root_crl)]


HomeFor = Callable[[Provisioned], Path]


@pytest.fixture()
def home_for(test_ca: TestCa, tmp_path: Path) -> HomeFor:
    """A CSOS_HOME where Dr Smith may sign with the token's certificate (1311.125)."""

    def make(prov: Provisioned) -> Path:
        home = tmp_path / f"home-{prov.label}"
        if not home.exists():
            trust_sandbox_root(test_ca, home)
            with open_store(home / "data" / "csos.db") as store:
                clock = Clock(datetime.now(UTC) - timedelta(days=1))
                practice(store, clock)
                permit(store, clock, certificate_der=prov.certificate_der)
        return home

    return make


def sign(
    prov: Provisioned,
    files: list[Path],
    out: Path,
    home: Path,
    pin: str = TEST_PIN,
    extra: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return run(
        [
            "rx",
            "sign",
            *map(str, files),
            "--as",
            "drsmith",
            "--token",
            prov.label,
            "--pin-stdin",
            "--offline",
            "--out",
            str(out),
            *(extra or []),
        ],
        prov,
        stdin=pin + "\n",
        home=home,
    )


def test_ceremony_shows_review_and_attestation_then_signs(
    home_for: HomeFor, rsa_token: Provisioned, tmp_path: Path, pki_files: list[str]
) -> None:
    out = tmp_path / "signed"
    done = sign(rsa_token, [rx_file(tmp_path)], out, home_for(rsa_token))
    assert done.returncode == 0, done.stderr
    assert RX_SIGNING_ATTESTATION in done.stderr.replace("\n", " ")
    assert "Maria Lopez" in done.stderr and "Dr. Jane Smith" in done.stderr
    doc = next(out.glob("*.json"))
    verified = run(
        ["rx", "verify", str(doc), str(doc.with_suffix(".p7s")), *pki_files, "--json"], rsa_token
    )
    assert verified.returncode == 0, verified.stdout
    report = json.loads(verified.stdout)
    assert report["accepted"] and report["revocation_checked"]
    assert report["practitioner_dea_number"] == "AB1234563"
    # The test token's certificate is a pharmacy's: verify says whose it is, and that it
    # does not name the practitioner on the prescription (1311.140(a)(3)).
    assert report["signer_subject"] == "Main Street Pharmacy"
    assert report["practitioner"] == "Dr. Jane Smith"
    assert report["signer_names_practitioner"] is False
    assert any("does not name the practitioner" in w for w in report["warnings"])


def test_openssl_accepts_the_prescription_signature(
    home_for: HomeFor, ec_token: Provisioned, tmp_path: Path, test_ca: TestCa
) -> None:
    out = tmp_path / "signed"
    assert sign(ec_token, [rx_file(tmp_path)], out, home_for(ec_token)).returncode == 0
    doc = next(out.glob("*.json"))
    root = tmp_path / "root.pem"
    root.write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    done = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(doc.with_suffix(".p7s")),
            "-content",
            str(doc),
            "-CAfile",
            str(root),
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_prescription_changed_after_signing_is_digest_mismatch(
    home_for: HomeFor, rsa_token: Provisioned, tmp_path: Path, pki_files: list[str]
) -> None:
    out = tmp_path / "signed"
    sign(rsa_token, [rx_file(tmp_path)], out, home_for(rsa_token))
    doc = next(out.glob("*.json"))
    doc.write_bytes(doc.read_bytes().replace(b'"quantity":20', b'"quantity":90'))
    done = run(["rx", "verify", str(doc), str(doc.with_suffix(".p7s")), *pki_files], rsa_token)
    assert done.returncode == 1
    assert "digest-mismatch" in done.stdout


def test_schedule_ii_with_refills_is_refused_before_any_factor(
    home_for: HomeFor, rsa_token: Provisioned, tmp_path: Path
) -> None:
    done = sign(rsa_token, [rx_file(tmp_path, refills=2)], tmp_path / "o", home_for(rsa_token))
    assert done.returncode == 2
    assert "may not be refilled" in done.stderr
    assert "PIN" not in done.stderr
    assert not (tmp_path / "o").exists()


def test_failed_factor_signs_nothing(
    home_for: HomeFor, ec_token: Provisioned, tmp_path: Path
) -> None:
    done = sign(ec_token, [rx_file(tmp_path)], tmp_path / "o", home_for(ec_token), pin="000000")
    assert done.returncode == 1
    assert "did not accept the PIN" in done.stderr
    assert not (tmp_path / "o").exists()


def test_only_the_practitioner_named_may_sign(
    home_for: HomeFor, rsa_token: Provisioned, tmp_path: Path
) -> None:
    other = sample_rx_input()["practitioner"] | {"dea_number": "BJ6125341"}
    done = sign(
        rsa_token, [rx_file(tmp_path, practitioner=other)], tmp_path / "o", home_for(rsa_token)
    )
    assert done.returncode == 1
    # Refused before the PIN: the signer's certificate is bound to another DEA registration
    # than the one the prescription names (1311.120(b)(7), (b)(12)).
    assert "use the certificate issued for BJ6125341" in done.stderr
    assert not (tmp_path / "o").exists()


def test_one_signing_list_holds_one_patient(
    home_for: HomeFor, rsa_token: Provisioned, tmp_path: Path
) -> None:
    second_patient = sample_rx_input()["patient"] | {"name": "John Roe"}
    files = [rx_file(tmp_path, "a.json"), rx_file(tmp_path, "b.json", patient=second_patient)]
    done = sign(rsa_token, files, tmp_path / "o", home_for(rsa_token))
    assert done.returncode == 2
    assert "single patient" in done.stderr


def test_two_prescriptions_for_one_patient_sign_with_one_pin(
    home_for: HomeFor, rsa_token: Provisioned, tmp_path: Path
) -> None:
    files = [rx_file(tmp_path, "a.json"), rx_file(tmp_path, "b.json", quantity=10)]
    out = tmp_path / "o"
    done = sign(rsa_token, files, out, home_for(rsa_token))
    assert done.returncode == 0, done.stderr
    assert len(list(out.glob("*.p7s"))) == 2
    assert "Prescription 2 of 2" in done.stderr


def test_revoked_practitioner_certificate_is_rejected_by_the_pharmacy(
    rsa_token: Provisioned, tmp_path: Path, test_ca: TestCa
) -> None:
    from asn1crypto import crl as asn1_crl
    from asn1crypto import x509 as asn1_x509

    from csos_desktop.domain.canonical import canonical_bytes
    from csos_desktop.domain.prescription import parse_prescription_input
    from csos_desktop.pki.cms import CmsSigner
    from csos_desktop.pki.rx_check import verify_prescription
    from csos_desktop.pki.signed_check import Reason
    from csos_desktop.token.signer import TokenSigner

    now = datetime.now(UTC)
    cert = issue_for_token(test_ca, rsa_token)
    rx = parse_prescription_input(sample_rx_input(now.date().isoformat()), now=now)
    document = canonical_bytes(rx.to_document())
    with rsa_token.session() as ts:
        signature = CmsSigner(
            TokenSigner(ts, rsa_token.key.key_id),
            cert.public_bytes(Encoding.DER),
            chain_of(test_ca),
        ).sign(document, now)
    test_ca.revoke(cert.serial_number, reason="keyCompromise", when=now - timedelta(minutes=1))
    crls = [
        asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
        for c in (test_ca.crl(), test_ca.root_crl())
    ]
    root = asn1_x509.Certificate.load(test_ca.root_certificate.public_bytes(Encoding.DER))
    result = verify_prescription(
        document, signature, trust_roots=[root], crls=crls, now=datetime.now(UTC)
    )
    assert Reason.CERTIFICATE_REVOKED in result.reasons
