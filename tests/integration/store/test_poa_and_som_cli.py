"""Power of attorney and the SOM justification, as the registrant and a pharmacist use the CLI.

Two SoftHSM2 tokens with certificates for the same DEA number: the RSA one is the
registrant's, the P-256 one an attorney-in-fact's (or nobody's, before the grant).
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import open_store
from csos_desktop.store.audit import AuditEvent
from tests.conftest import TEST_PIN, Provisioned, trust_sandbox_root
from tests.integration.store.cli import csos, signing
from tests.integration.store.tokens import openssl_verify
from tests.registrant import record_registrant_at
from tests.unit.store.archive_forgery import crl_options
from tests.unit.store.helpers import brand_order_input, flagged_order_input, order_input


@pytest.fixture()
def home(tmp_path: Path, test_ca: TestCa) -> Path:
    trust_sandbox_root(test_ca, tmp_path / "home")
    return tmp_path / "home"


@pytest.fixture()
def registrant(home: Path, rsa_token: Provisioned) -> None:
    """The RSA token's holder is the recorded registrant (the orders carry schedule II)."""
    record_registrant_at(home / "data" / "csos.db", rsa_token)


def draft(home: Path, prov: Provisioned, tmp: Path, data: dict[str, Any] | None = None) -> str:
    (tmp / "o.json").write_text(json.dumps(data or order_input()))
    done = csos(home, prov, "order", "import", str(tmp / "o.json"), "--json")
    assert done.exit_code == 0, done.output
    return str(json.loads(done.stdout)[0]["order_id"])


def events(home: Path) -> list[str]:
    with open_store(home / "data" / "csos.db") as store:
        return [e.event for e in store.audit.entries()]


def test_a_revoked_poa_holder_can_no_longer_sign(
    home: Path,
    chain: Path,
    rsa_token: Provisioned,
    ec_token: Provisioned,
    test_ca: TestCa,
    tmp_path: Path,
) -> None:
    registrant, holder = rsa_token, ec_token
    recorded = csos(
        home,
        registrant,
        "poa",
        "registrant",
        "--name",
        "Jane Registrant",
        "--dea",
        "AB1234563",
        "--token",
        registrant.label,
    )
    assert recorded.exit_code == 0, recorded.output

    # Before any power of attorney, the other certificate may not sign the DEA's orders.
    first = draft(home, holder, tmp_path)
    refused = signing(home, holder, chain, "order", "sign", "--draft", first)
    assert refused.exit_code == 1 and "neither the registrant" in refused.output
    assert "order.signed" not in events(home)

    # Only the registrant grants, on their own token, in the 1305.05(c) form.
    cert = tmp_path / "holder.der"
    cert.write_bytes(holder.certificate_der)
    grant_args = (
        "poa",
        "grant",
        "--holder",
        "Sam Attorney",
        "--holder-cert",
        str(cert),
        "--address",
        "120 Main Street, Springfield, IL 62701",
        "--place",
        "Springfield, IL",
    )
    not_theirs = signing(home, holder, chain, *grant_args)
    assert not_theirs.exit_code == 1 and "Only the registrant" in not_theirs.output
    granted = signing(home, registrant, chain, *grant_args)
    assert granted.exit_code == 0, granted.output
    listed = json.loads(csos(home, registrant, "poa", "list", "--json").stdout)
    [poa] = listed["powers_of_attorney"]
    assert poa["status"] == "pending-acceptance" and poa["holder_name"] == "Sam Attorney"
    with open_store(home / "data" / "csos.db") as store:
        rec = store.poa.get(poa["poa_id"])
    doc = json.loads(rec.document)
    assert "my true and lawful attorney" in doc["text"] and "Sam Attorney" in doc["text"]
    (tmp_path / "poa.json").write_bytes(rec.document)
    (tmp_path / "poa.p7s").write_bytes(rec.signature)
    checked = openssl_verify(tmp_path, test_ca, tmp_path / "poa.json", tmp_path / "poa.p7s")
    assert checked.returncode == 0, checked.stderr

    # The attorney-in-fact accepts on their own token (1305.05(c)); then they sign.
    accepted = signing(home, holder, chain, "poa", "accept", poa["poa_id"][:8])
    assert accepted.exit_code == 0, accepted.output
    signed = signing(home, holder, chain, "order", "sign", "--draft", first)
    assert signed.exit_code == 0, signed.output

    # Revoked: signed notice, the CA request, and the holder refused before the PIN.
    request = tmp_path / "ca-request.json"
    revoked = signing(
        home,
        registrant,
        chain,
        "poa",
        "revoke",
        poa["poa_id"][:8],
        "--reason",
        "left the pharmacy",
        "--place",
        "Springfield, IL",
        "--ca-request",
        str(request),
    )
    assert revoked.exit_code == 0, revoked.output
    assert "within 6 hours" in revoked.output and "1311.45" in revoked.output
    ca = json.loads(request.read_text())
    assert ca["certificates_sha256"] == poa["certificates_sha256"] and ca["due_by"]
    second = draft(home, holder, tmp_path)
    after = signing(home, holder, chain, "order", "sign", "--draft", second)
    assert after.exit_code == 1 and "revoked" in after.output and TEST_PIN not in after.output
    by_registrant = signing(home, registrant, chain, "order", "sign", "--draft", second)
    assert by_registrant.exit_code == 0, by_registrant.output

    notified = csos(home, registrant, "poa", "ca-notified", poa["poa_id"][:8])
    assert notified.exit_code == 0, notified.output
    [after_list] = json.loads(csos(home, registrant, "poa", "list", "--json").stdout)[
        "powers_of_attorney"
    ]
    assert after_list["status"] == "revoked" and after_list["ca_notified_at"]
    trail = events(home)
    for event in (
        "poa.registrant-recorded",
        "poa.granted",
        "poa.accepted",
        "poa.revoked",
        "poa.ca-request-produced",
        "poa.ca-notified",
    ):
        assert event in trail
    with open_store(home / "data" / "csos.db") as store:
        [late] = [e for e in store.audit.entries() if e.event == AuditEvent.POA_CA_NOTIFIED]
        assert late.details["late"] is False

    # The inspector's bundle holds the power of attorney and its revocation, verified offline.
    bundle = tmp_path / "b.zip"
    day = datetime.now(UTC).date().isoformat()
    # The manifest is signed on the exporting pharmacist's token (one PIN).
    exported = signing(
        home,
        registrant,
        chain,
        "archive",
        "export",
        "--since",
        day,
        "--until",
        day,
        "--out",
        str(bundle),
    )
    assert exported.exit_code == 0, exported.output
    names = zipfile.ZipFile(bundle).namelist()
    pid = poa["poa_id"]
    for name in (
        f"{pid}.json",
        f"{pid}.p7s",
        f"{pid}.acceptance.json",
        f"{pid}.acceptance.p7s",
        f"{pid}.revocation.json",
        "registry.json",
    ):
        assert f"poa/{name}" in names
    root = tmp_path / "root.pem"
    root.write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    verified = csos(
        home,
        registrant,
        *("archive", "verify", str(bundle), "--trust", str(root)),
        *crl_options(test_ca, tmp_path),
    )
    assert verified.exit_code == 0, verified.output


@pytest.mark.usefixtures("registrant")
def test_a_flagged_imported_draft_needs_a_justification_on_every_path(
    home: Path, chain: Path, rsa_token: Provisioned, tmp_path: Path
) -> None:
    order_id = draft(home, rsa_token, tmp_path, flagged_order_input())
    refused = signing(home, rsa_token, chain, "order", "sign", "--draft", order_id)
    assert refused.exit_code == 1
    assert "--som-justification" in refused.output and "[warn]" in refused.output
    assert "not cached" in refused.output  # says the check ran without the distributor's data
    assert "order.signed" not in events(home)

    batch = signing(home, rsa_token, chain, "order", "sign-drafts", "--all")
    assert batch.exit_code == 1 and "--som-justification" in batch.output

    as_file = {**flagged_order_input(), "order_number": f"{datetime.now(UTC):%y}X000777"}
    (tmp_path / "file.json").write_text(json.dumps(as_file))
    from_file = signing(
        home,
        rsa_token,
        chain,
        "order",
        "sign",
        str(tmp_path / "file.json"),
        "--out",
        str(tmp_path / "out"),
    )
    # A file is imported first and then signed as a draft: refused the same way (exit 1),
    # it stays a draft in the store, and no copy is written.
    assert from_file.exit_code == 1 and "--som-justification" in from_file.output
    assert not (tmp_path / "out").exists()

    why = "new hospice patients admitted this week"
    signed = signing(
        home, rsa_token, chain, "order", "sign", "--draft", order_id, "--som-justification", why
    )
    assert signed.exit_code == 0, signed.output
    with open_store(home / "data" / "csos.db") as store:
        trail = list(store.audit.entries(order_id=order_id))
    ack = [e for e in trail if e.event == AuditEvent.SOM_WARNING_ACKNOWLEDGED]
    assert ack and ack[-1].details["justification"] == why
    [cleared] = [e for e in trail if e.event == AuditEvent.SOM_DISPOSITION]
    assert cleared.details["disposition"] == "cleared" and cleared.details["reason"] == why
    assert cleared.details["lines"] == [{"line_no": 1, "ndc": "99101001001", "quantity": 50}]
    assert [e.event for e in trail].index("som.warning-acknowledged") < [
        e.event for e in trail
    ].index("order.signed")


def test_a_voided_flagged_draft_keeps_its_flags_and_disposition(
    home: Path, rsa_token: Provisioned, tmp_path: Path
) -> None:
    order_id = draft(home, rsa_token, tmp_path, flagged_order_input())
    voided = csos(home, rsa_token, "order", "void", order_id, "--reason", "typed 50 for 5")
    assert voided.exit_code == 0, voided.output
    with open_store(home / "data" / "csos.db") as store:
        [entry] = [e for e in store.audit.entries() if e.event == AuditEvent.SOM_DISPOSITION]
        rec = store.orders.get(order_id)
    d = entry.details
    assert d["disposition"] == "declined (voided)" and d["reason"] == "typed 50 for 5"
    assert d["order_number"] == rec.order_number and d["purchaser_dea"] == rec.purchaser_dea
    assert d["supplier_dea"] == rec.supplier_dea and d["flags"]
    assert d["date"] == datetime.now(UTC).date().isoformat()


@pytest.mark.usefixtures("registrant")
def test_a_product_nobody_knows_needs_a_justification_on_every_cli_path(
    home: Path, chain: Path, rsa_token: Provisioned, tmp_path: Path
) -> None:
    order_id = draft(home, rsa_token, tmp_path, brand_order_input())
    refused = signing(home, rsa_token, chain, "order", "sign", "--draft", order_id)
    assert refused.exit_code == 1 and "--som-justification" in refused.output
    assert "not judged: product unknown" in refused.output
    batch = signing(home, rsa_token, chain, "order", "sign-drafts", "--all")
    assert batch.exit_code == 1 and "not judged: product unknown" in batch.output
    as_file = {**brand_order_input(), "order_number": f"{datetime.now(UTC):%y}X000778"}
    (tmp_path / "brand.json").write_text(json.dumps(as_file))
    from_file = signing(
        home, rsa_token, chain, "order", "sign", str(tmp_path / "brand.json"),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert from_file.exit_code == 1 and "not judged: product unknown" in from_file.output
    assert not (tmp_path / "out").exists() and "order.signed" not in events(home)

    why = "new brand product, confirmed with the distributor by phone"
    signed = signing(
        home, rsa_token, chain, "order", "sign", "--draft", order_id, "--som-justification", why
    )
    assert signed.exit_code == 0, signed.output
    with open_store(home / "data" / "csos.db") as store:
        trail = list(store.audit.entries(order_id=order_id))
    [ack] = [e for e in trail if e.event == AuditEvent.SOM_WARNING_ACKNOWLEDGED]
    assert [f["code"] for f in ack.details["flags"]] == ["product-unknown"]


@pytest.mark.usefixtures("registrant")
def test_a_justification_that_is_not_words_is_refused_on_the_cli(
    home: Path, chain: Path, rsa_token: Provisioned, tmp_path: Path
) -> None:
    order_id = draft(home, rsa_token, tmp_path, flagged_order_input())
    for junk in ("xxxxxxxxxx", "xxxxxxxxxxxxxxxxxxxx", "1234567890 1234567890"):
        refused = signing(
            home, rsa_token, chain, "order", "sign", "--draft", order_id,
            "--som-justification", junk,
        )  # fmt: skip
        assert refused.exit_code == 1, refused.output
        assert "NOT signed" in refused.output and "[warn]" in refused.output
    assert not {"order.signed", "som.warning-acknowledged", "som.disposition"} & set(events(home))


@pytest.mark.usefixtures("registrant")
def test_a_batch_takes_one_justification_per_flagged_order_on_the_cli(
    home: Path, chain: Path, rsa_token: Provisioned, tmp_path: Path
) -> None:
    first = draft(home, rsa_token, tmp_path, flagged_order_input())
    second = draft(home, rsa_token, tmp_path, flagged_order_input())
    # One sentence for a batch would clear every order's flags: refused before the token.
    one_for_all = signing(
        home, rsa_token, chain, "order", "sign-drafts", "--all",
        "--som-justification", "new hospice patients admitted this week",
    )  # fmt: skip
    assert one_for_all.exit_code != 0 and "ORDER=TEXT" in one_for_all.output
    assert "order.signed" not in events(home)

    with open_store(home / "data" / "csos.db") as store:
        number = store.orders.get(second).order_number
    reasons = {first: "new hospice patients admitted this week", second: "stock lost in a flood"}
    both = signing(
        home, rsa_token, chain, "order", "sign-drafts", "--all",
        "--som-justification", f"{first}={reasons[first]}",
        "--som-justification", f"{number}={reasons[second]}",
    )  # fmt: skip
    assert both.exit_code == 0, both.output
    with open_store(home / "data" / "csos.db") as store:
        for order_id, why in reasons.items():
            [ack] = [
                e
                for e in store.audit.entries(order_id=order_id)
                if e.event == AuditEvent.SOM_WARNING_ACKNOWLEDGED
            ]
            assert ack.details["justification"] == why
            assert ack.details["acknowledged_by"] == store.signed.get(order_id).signer_subject
