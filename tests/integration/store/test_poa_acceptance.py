"""The attorney-in-fact accepts a power of attorney with their own signature (1305.05(c)).

Two SoftHSM2 tokens with certificates for the same DEA number: the RSA one is the
registrant's, the P-256 one the attorney-in-fact's. The grant is pending until the
attorney signs the affirmation on their own token (`csos poa accept`, a child process
under the test session's policy); until then they sign no schedule II order, and no
other certificate accepts for them. The acceptance is CMS, verified by OpenSSL, and
goes into the archive bundle as signed, where `csos archive verify` checks it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import open_store
from tests.conftest import PURCHASER_DEA, TEST_PIN, Provisioned, trust_sandbox_root
from tests.integration.store.cli import csos, signing
from tests.integration.store.test_poa_first_order import draft
from tests.integration.store.tokens import openssl_verify
from tests.launch import run_csos
from tests.unit.store.archive_forgery import crl_options
from tests.unit.store.helpers import order_input

NOW = datetime.now(UTC)


@pytest.fixture()
def home(tmp_path: Path, test_ca: TestCa) -> Path:
    trust_sandbox_root(test_ca, tmp_path / "home")
    return tmp_path / "home"


def accept(home: Path, prov: Provisioned, chain: Path, ref: str) -> tuple[int, str]:
    """`csos poa accept REF` in a child process, PIN on stdin, on *prov*'s token."""
    args = ["poa", "accept", ref, "--token", prov.label, "--chain", str(chain), "--pin-stdin"]
    done = run_csos(args, prov.hsm, home, TEST_PIN + "\n")
    return done.returncode, done.stdout + done.stderr


def granted_poa(home: Path, registrant: Provisioned, holder: Provisioned, tmp: Path) -> str:
    recorded = csos(
        home, registrant, "poa", "registrant", "--name", "Jane Registrant",
        "--dea", PURCHASER_DEA, "--token", registrant.label,
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    cert = tmp / "holder.der"
    cert.write_bytes(holder.certificate_der)
    granted = signing(
        home, registrant, tmp / "chain.pem", "poa", "grant", "--holder", "Sam Attorney",
        "--holder-cert", str(cert), "--address", "120 Main Street, Springfield, IL 62701",
        "--place", "Springfield, IL",
    )  # fmt: skip
    assert granted.exit_code == 0, granted.output
    assert "pending acceptance" in granted.output and "csos poa accept" in granted.output
    [poa] = json.loads(csos(home, registrant, "poa", "list", "--json").stdout)["powers_of_attorney"]
    assert poa["status"] == "pending-acceptance" and poa["accepted_at"] is None
    return str(poa["poa_id"])


def test_the_attorney_accepts_with_their_own_token_and_only_then_signs(
    home: Path,
    chain: Path,
    rsa_token: Provisioned,
    ec_token: Provisioned,
    test_ca: TestCa,
    tmp_path: Path,
) -> None:
    registrant, holder = rsa_token, ec_token
    poa_id = granted_poa(home, registrant, holder, tmp_path)
    listed = csos(home, registrant, "poa", "list")
    assert "PENDING ACCEPTANCE" in listed.output

    # Pending: the holder's schedule II order is refused before the PIN, saying what to do.
    order = draft(home, holder, tmp_path, order_input())
    refused = signing(home, holder, chain, "order", "sign", "--draft", order)
    assert refused.exit_code == 1, refused.output
    assert "must accept it first" in refused.output
    assert f"csos poa accept {poa_id[:8]}" in refused.output
    assert "PIN" not in refused.output

    # The registrant's certificate is not one the grant names: refused before the PIN.
    code, out = accept(home, registrant, chain, poa_id[:8])
    assert code == 1, out
    assert "is not one the power of attorney" in out and "PIN" not in out
    with open_store(home / "data" / "csos.db") as store:
        assert not store.poa.get(poa_id).accepted
        assert "poa.accepted" not in [e.event for e in store.audit.entries()]
        # The attempt itself is on record: whose certificate tried to accept whose grant.
        [tried] = [e for e in store.audit.entries() if e.event == "poa.accept-refused"]
        assert tried.details["poa_id"] == poa_id and tried.details["holder"] == "Sam Attorney"
        assert tried.details["reason"] == "certificate-not-named"
        assert (
            tried.details["certificate_sha256"]
            == hashlib.sha256(registrant.certificate_der).hexdigest()
        )

    code, out = accept(home, holder, chain, poa_id[:8])
    assert code == 0, out
    assert "Sam Attorney accepted" in out and TEST_PIN not in out
    again, out = accept(home, holder, chain, poa_id[:8])
    assert again == 2 and "already accepted" in out, out

    with open_store(home / "data" / "csos.db") as store:
        rec = store.poa.get(poa_id)
        trail = list(store.audit.entries())
        with pytest.raises(sqlite3.IntegrityError, match="accepted once"):
            store.poa.accept(
                poa_id, document=b"{}", signature=b"x", certificate_sha256="0" * 64, now=NOW
            )
        assert store.poa.get(poa_id).acceptance_document == rec.acceptance_document
    assert rec.acceptance_document is not None and rec.acceptance_signature is not None
    doc = json.loads(rec.acceptance_document)
    assert doc["schema"] == "csos-poa-acceptance/1" and doc["attorney_name"] == "Sam Attorney"
    assert doc["poa_document_sha256"] == hashlib.sha256(rec.document).hexdigest()
    assert doc["certificate_sha256"] == hashlib.sha256(holder.certificate_der).hexdigest()
    assert doc["accepted_at"] == rec.accepted_at
    assert (
        "I, Sam Attorney (name of attorney-in-fact), hereby affirm that I am the person named "
        "herein as attorney-in-fact and that the signature affixed hereto is my signature"
    ) in doc["text"]
    # Signed on the attorney's token: OpenSSL verifies the CMS over the bytes kept.
    (tmp_path / "acceptance.json").write_bytes(rec.acceptance_document)
    (tmp_path / "acceptance.p7s").write_bytes(rec.acceptance_signature)
    checked = openssl_verify(
        tmp_path, test_ca, tmp_path / "acceptance.json", tmp_path / "acceptance.p7s"
    )
    assert checked.returncode == 0, checked.stderr
    # Audited in the acceptance's transaction; the session ends with a signed checkpoint.
    events = [e.event for e in trail]
    [entry] = [e for e in trail if e.event == "poa.accepted"]
    assert entry.details["signature_sha256"] == hashlib.sha256(rec.acceptance_signature).hexdigest()
    assert "audit.checkpoint" in events[events.index("poa.accepted") :]

    signed = signing(home, holder, chain, "order", "sign", "--draft", order)
    assert signed.exit_code == 0, signed.output
    [poa] = json.loads(csos(home, registrant, "poa", "list", "--json").stdout)["powers_of_attorney"]
    assert poa["status"] == "current" and poa["acceptance_certificate_sha256"]

    # The bundle carries the acceptance exactly as signed, and verify checks it.
    bundle = tmp_path / "b.zip"
    day = datetime.now(UTC).date().isoformat()
    exported = signing(
        home, registrant, chain, "archive", "export", "--since", day, "--until", day,
        "--out", str(bundle),
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    with zipfile.ZipFile(bundle) as zf:
        assert zf.read(f"poa/{poa_id}.acceptance.json") == rec.acceptance_document
        assert zf.read(f"poa/{poa_id}.acceptance.p7s") == rec.acceptance_signature
    root = tmp_path / "root.pem"
    root.write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    verified = csos(
        home, registrant, "archive", "verify", str(bundle), "--trust", str(root),
        *crl_options(test_ca, tmp_path),
    )  # fmt: skip
    assert verified.exit_code == 0, verified.output
