"""`csos rx` for a practitioner with two DEA registrations, run as a child process
(21 CFR 1311.120(b)(7), 1311.135(b)): the draft must select one, and a certificate bound
to one DEA number signs under no other, refused before the PIN."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import open_store
from tests.conftest import TEST_PIN, Provisioned, trust_sandbox_root
from tests.integration.rx.test_cli_rx import EXPIRES, pki
from tests.launch import run_csos
from tests.unit.domain.rx_samples import sample_rx_input

NY_DEA = "FS2345672"


def test_two_registrations_the_draft_selects_one_and_the_bound_certificate_signs_only_its_own(
    rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    trust_sandbox_root(test_ca, home)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return run_csos(["rx", *args], rsa_token.hsm, home, stdin)

    def ok(*args: str, stdin: str = "") -> str:
        done = run(*args, stdin=stdin)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    ok("user", "add", "ann", "--name", "Ann Admin", "--role", "access-admin")
    ok("user", "add", "bob", "--name", "Bob Agent", "--role", "agent", "--as", "ann")
    ok(
        "user", "add", "drsmith", "--name", "Dr. Jane Smith", "--role", "practitioner",
        "--dea", "AB1234563", "--dea-state", "IL", "--dea-expires", "2029-10-31", "--as", "ann",
    )  # fmt: skip
    added = ok(
        "user", "add-dea", "drsmith", "--dea", NY_DEA, "--state", "NY",
        "--expires", "2030-06-30", "--as", "ann",
    )  # fmt: skip
    assert f"Added registration {NY_DEA} (NY, ends 2030-06-30)" in added
    listed = [r["dea_number"] for r in json.loads(ok("user", "registrations", "drsmith", "--json"))]
    assert listed == ["AB1234563", NY_DEA]

    # The token's certificate carries the hash of AB1234563: the permission verifies that one.
    ok("grant", "propose", "drsmith", "--registration-verified", *EXPIRES, "--as", "ann",
       "--token", rsa_token.label)  # fmt: skip
    approve = ["grant", "approve", "1", "--token", rsa_token.label, "--pin-stdin"]
    ok(*approve, "--as", "drsmith", stdin=TEST_PIN + "\n")

    rx = sample_rx_input(datetime.now().astimezone().date().isoformat())
    del rx["practitioner"]["dea_number"]
    (tmp_path / "rx.json").write_text(json.dumps(rx))
    draft = ["draft", "add", str(tmp_path / "rx.json"), "--as", "bob", "--practitioner", "drsmith"]
    unchosen = run(*draft)
    assert unchosen.returncode == 2  # an input to correct
    message = " ".join(unchosen.stderr.split())
    assert "holds 2 DEA registrations" in message and "--dea" in message
    assert "AB1234563 (IL, ends 2029-10-31)" in message and f"{NY_DEA} (NY" in message
    assert f"waiting for DEA {NY_DEA} to sign" in ok(*draft, "--dea", NY_DEA)
    [group] = json.loads(ok("queue", "--json"))
    assert group["practitioner_dea"] == NY_DEA

    sign = ["sign-queued", "--patient", "Maria Lopez", "--as", "drsmith", "--pin-stdin"]
    refused = run(*sign, "--token", rsa_token.label, *pki(tmp_path, test_ca), stdin=TEST_PIN + "\n")
    assert refused.returncode == 1
    said = " ".join((refused.stdout + refused.stderr).split())
    assert f"use the certificate issued for {NY_DEA}" in said
    assert "without DEA extensions" in said
    with open_store(home / "data" / "csos.db") as store:
        [denied] = [e for e in store.audit.entries() if e.event == "rx.access-denied"][-1:]
        assert denied.details["reason"] == "dea-mismatch" and denied.details["action"] == "sign"
        assert not [e for e in store.audit.entries() if e.event == "rx.sign-attempt"]
        assert store.prescriptions.drafts()[0].practitioner_dea == NY_DEA
