"""`csos rx` with the store, run as a practice runs it: users, grant, draft, sign, print, report."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.cli import main
from csos_desktop.domain.attestation import RX_SIGNING_ATTESTATION
from csos_desktop.pki.cms_parse import digest_matches, parse_signed_data, signature_valid
from csos_desktop.pki.profile import dea_number_hash, read_csos_profile
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import open_store
from tests.conftest import TEST_PIN, Provisioned, trust_sandbox_root
from tests.unit.domain.rx_samples import sample_rx_input

#: The day the practitioner's DEA registration ends, as the proposer checked it.
EXPIRES = ("--registration-expires", "2029-10-31")


def csos(home: Path, prov: Provisioned, *args: str, stdin: str = "") -> Result:
    env = {"CSOS_HOME": str(home), "CSOS_PKCS11_MODULE": prov.hsm.module}
    return CliRunner().invoke(main, ["rx", *args], input=stdin, env=env, catch_exceptions=False)


def pki(tmp_path: Path, ca: TestCa) -> list[str]:
    files = {"chain.pem": ca.issuing_certificate, "root.pem": ca.root_certificate}
    for name, cert in files.items():
        (tmp_path / name).write_bytes(cert.public_bytes(Encoding.PEM))
    (tmp_path / "crl.pem").write_bytes(ca.crl().public_bytes(Encoding.PEM))
    (tmp_path / "rcrl.pem").write_bytes(ca.root_crl().public_bytes(Encoding.PEM))
    return [
        "--chain",
        str(tmp_path / "chain.pem"),
        "--trust",
        str(tmp_path / "root.pem"),
        "--crl",
        str(tmp_path / "crl.pem"),
        "--crl",
        str(tmp_path / "rcrl.pem"),
    ]


def test_a_practice_sets_up_access_prepares_signs_prints_and_reports(
    rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    trust_sandbox_root(test_ca, home)

    def run(*args: str, stdin: str = "") -> Result:
        return csos(home, rsa_token, *args, stdin=stdin)

    assert run("user", "add", "ann", "--name", "Ann Admin", "--role", "access-admin").exit_code == 0
    for args in (
        ["drsmith", "--name", "Dr. Jane Smith", "--role", "practitioner", "--dea", "AB1234563"],
        ["bob", "--name", "Bob Agent", "--role", "agent"],
    ):
        done = run("user", "add", *args, "--as", "ann")
        assert done.exit_code == 0, done.output
    propose = ["grant", "propose", "drsmith", "--registration-verified", "--as", "ann"]
    missing = run(*propose, "--token", rsa_token.label)
    assert missing.exit_code == 2 and "--registration-expires" in missing.output
    proposed = run(*propose, *EXPIRES, "--token", rsa_token.label)
    assert "#1" in proposed.output, proposed.output
    fingerprint = hashlib.sha256(rsa_token.certificate_der).hexdigest()
    assert fingerprint in proposed.output  # the practitioner's certificate, read from the token
    approve = ["grant", "approve", "1", "--token", rsa_token.label, "--pin-stdin"]
    alone = run(*approve, "--as", "ann", stdin=TEST_PIN + "\n")
    assert alone.exit_code == 1 and "a second person must approve it" in alone.output
    # 1311.125(c): the registrant approves with their own two factors (token + PIN).
    bad_pin = run(*approve, "--as", "drsmith", stdin="000000\n")
    assert bad_pin.exit_code == 1 and "did not accept the PIN" in bad_pin.output
    approved = run(*approve, "--as", "drsmith", stdin=TEST_PIN + "\n")
    assert approved.exit_code == 0, approved.output
    with open_store(home / "data" / "csos.db") as store:
        [entry] = [e for e in store.audit.entries() if e.event == "rx.grant-approved"]
    evidence = entry.details["two_factor_approval"]
    assert isinstance(evidence, dict)
    parsed = parse_signed_data(base64.b64decode(evidence["signature"]))
    assert signature_valid(parsed)
    assert digest_matches(parsed, base64.b64decode(evidence["document"]))
    # The approval session, like every signing session, ends by signing the audit head.
    with open_store(home / "data" / "csos.db") as store:
        events = [e.event for e in store.audit.entries()]
        [checkpoint] = list(store.checkpoints.all())
    approved_at = events.index("rx.grant-approved")
    assert events[approved_at + 1] == "audit.checkpoint"
    assert checkpoint.entry_id == approved_at + 1  # the head right after the approval
    verified = CliRunner().invoke(
        main,
        ["audit", "verify", "--json"],
        env={"CSOS_HOME": str(home), "CSOS_PKCS11_MODULE": rsa_token.hsm.module},
    )
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["checkpoints"]["checkpoints"] == 1
    assert read_csos_profile(parsed.signer).matches_dea("AB1234563")
    assert "permission #1 active" in run("user", "list").output

    rx = sample_rx_input(datetime.now().astimezone().date().isoformat())
    (tmp_path / "rx.json").write_text(json.dumps(rx))
    added = run("draft", "add", str(tmp_path / "rx.json"), "--as", "bob")
    assert added.exit_code == 0, added.output
    [group] = json.loads(run("queue", "--json").output)
    rx_id = group["drafts"][0]["rx_id"]
    assert group["patient"] == "Maria Lopez" and group["practitioner_dea"] == "AB1234563"

    sign = [
        "sign-queued",
        "--patient",
        "Maria Lopez",
        "--token",
        rsa_token.label,
        "--pin-stdin",
        *pki(tmp_path, test_ca),
    ]
    by_agent = run(*sign, "--as", "bob", stdin=TEST_PIN + "\n")
    assert by_agent.exit_code == 1 and "only the practitioner signs" in by_agent.output
    assert RX_SIGNING_ATTESTATION not in by_agent.output.replace("\n", " ")
    wrong = run(*sign, "--as", "drsmith", stdin="wrongpin\n")
    assert wrong.exit_code == 1 and "did not accept the PIN" in wrong.output
    done = run(*sign, "--as", "drsmith", stdin=TEST_PIN + "\n")
    assert done.exit_code == 0, done.output
    assert RX_SIGNING_ATTESTATION in done.output.replace("\n", " ")
    assert f"Signed prescription {rx_id}" in done.output and TEST_PIN not in done.output
    assert run("queue").output.startswith("No prescription is waiting")

    copy = run("print", rx_id[:8], "--as", "bob")
    assert copy.exit_code == 0 and copy.output.startswith("COPY – NOT VALID FOR DISPENSING")

    today = datetime.now().astimezone().date().isoformat()
    report = run("audit-report", "--date", today, "--json")
    data = json.loads(report.output)
    assert report.exit_code == 1  # an alert: ann tried to approve her own proposal
    listed = [e["event"] for e in data["events"]]
    for event in (
        "rx.user-added",
        "rx.grant-proposed",
        "rx.access-denied",
        "rx.grant-approved",
        "rx.draft-added",
        "rx.sign-attempt",
        "rx.auth-failed",
        "rx.signed",
        "rx.copy-printed",
    ):
        assert event in listed, event
    assert "two-person-rule-bypass" in {a["kind"] for a in data["alerts"]}
    assert data["audit_chain"]["intact"] is True
    text = run("audit-report", "--date", today, "--tz", "UTC").output
    assert "rx.signed" in text and "ALERT two-person-rule-bypass" in text
    assert "Audit chain: intact" in text


def practice_with_grant(run: Callable[..., Result], prov: Provisioned) -> None:
    """Ann (administrator) proposes, Dr Smith (the registrant) approves with token + PIN."""
    assert run("user", "add", "ann", "--name", "Ann Admin", "--role", "access-admin").exit_code == 0
    dr = ["drsmith", "--name", "Dr. Jane Smith", "--role", "practitioner", "--dea", "AB1234563"]
    assert run("user", "add", *dr, "--as", "ann").exit_code == 0
    propose = ["grant", "propose", "drsmith", "--registration-verified", *EXPIRES]
    assert run(*propose, "--as", "ann", "--token", prov.label).exit_code == 0
    approve = ["grant", "approve", "1", "--token", prov.label, "--pin-stdin", "--as", "drsmith"]
    done = run(*approve, stdin=TEST_PIN + "\n")
    assert done.exit_code == 0, done.output


def test_rx_sign_from_files_needs_an_active_grant_before_the_pin(
    rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    trust_sandbox_root(test_ca, home)

    def run(*args: str, stdin: str = "") -> Result:
        return csos(home, rsa_token, *args, stdin=stdin)

    rx = sample_rx_input(datetime.now().astimezone().date().isoformat())
    (tmp_path / "rx.json").write_text(json.dumps(rx))
    sign = ["sign", str(tmp_path / "rx.json"), "--token", rsa_token.label, "--pin-stdin"]
    sign += [*pki(tmp_path, test_ca), "--out", str(tmp_path / "out")]
    # No practice users, no grant: a schedule II prescription is not signed.
    alone = run(*sign, "--as", "drsmith", stdin=TEST_PIN + "\n")
    assert alone.exit_code == 1 and "No prescribing user 'drsmith'" in alone.output
    assert RX_SIGNING_ATTESTATION not in alone.output.replace("\n", " ")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    practice_with_grant(run, rsa_token)
    done = run(*sign, "--as", "drsmith", stdin=TEST_PIN + "\n")
    assert done.exit_code == 0, done.output
    # Kept in the store like a queued prescription: in the monthly log, signed once only.
    [signed_file] = (tmp_path / "out").glob("*.json")
    with open_store(home / "data" / "csos.db") as store:
        kept = store.prescriptions.signed(signed_file.stem)
    assert kept.document == signed_file.read_bytes() and kept.signed_by == "drsmith"
    resign = [signed_file if a == str(tmp_path / "rx.json") else a for a in sign]
    again = run(*map(str, resign), "--as", "drsmith", stdin=TEST_PIN + "\n")
    assert again.exit_code != 0 and "already in the store" in again.output
    assert RX_SIGNING_ATTESTATION not in again.output.replace("\n", " ")
    # One person enters the revocation: signing stops at once, before the PIN.
    entered = run("grant", "revoke", "drsmith", "--reason", "left the practice", "--as", "ann")
    assert entered.exit_code == 0 and "entered" in entered.output
    refused = run(*sign, "--as", "drsmith", stdin=TEST_PIN + "\n")
    assert refused.exit_code == 1 and "revocation of permission #1" in refused.output
    execute = ["grant", "revoke-approve", "1", "--token", rsa_token.label, "--pin-stdin"]
    same = run(*execute, "--as", "ann", stdin=TEST_PIN + "\n")
    assert same.exit_code == 1 and "second" in same.output
    executed = run(*execute, "--as", "drsmith", stdin=TEST_PIN + "\n")
    assert executed.exit_code == 0, executed.output
    with open_store(home / "data" / "csos.db") as store:
        [grant] = store.rx_grants.all()
        assert grant.state.value == "revoked" and grant.revoke_entered_by == "ann"
        assert grant.revoked_by == "drsmith"
        denied = [e for e in store.audit.entries() if e.event == "rx.access-denied"]
        assert denied[0].details["action"] == "sign" and denied[0].details["source"] == "file"


def test_file_based_signing_is_audited_too(
    rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    trust_sandbox_root(test_ca, home)
    rx = sample_rx_input(datetime.now().astimezone().date().isoformat())
    (tmp_path / "rx.json").write_text(json.dumps(rx))
    practice_with_grant(lambda *a, stdin="": csos(home, rsa_token, *a, stdin=stdin), rsa_token)
    sign = [
        "sign",
        str(tmp_path / "rx.json"),
        "--as",
        "drsmith",
        "--token",
        rsa_token.label,
        "--pin-stdin",
        *pki(tmp_path, test_ca),
        "--out",
        str(tmp_path / "out"),
    ]
    assert csos(home, rsa_token, *sign, stdin="wrongpin\n").exit_code == 1
    assert csos(home, rsa_token, *sign, stdin=TEST_PIN + "\n").exit_code == 0
    with open_store(home / "data" / "csos.db") as store:
        rx_events = [
            e
            for e in store.audit.entries()
            if e.event.startswith("rx.") and not e.event.startswith(("rx.user", "rx.grant"))
        ]
        assert [e.event for e in rx_events] == [
            "rx.sign-attempt",
            "rx.auth-failed",
            "rx.sign-attempt",
            "rx.signed",
        ]
        assert rx_events[-1].details["source"] == "file"
        serial = read_csos_profile(asn1_x509.Certificate.load(rsa_token.certificate_der))
        assert rx_events[-1].details["certificate_dea_hash"] == (
            dea_number_hash("AB1234563", str(serial.subject_serial)).hex()
        )
        assert store.audit.verify().intact
