"""The `csos order` store commands and `csos audit`, run as a pharmacist runs them."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.cli import main
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import lifecycle, open_store
from tests.conftest import TEST_PIN, Provisioned, trust_sandbox_root
from tests.integration.store.cli import csos
from tests.integration.store.tokens import openssl_verify
from tests.registrant import record_registrant_at
from tests.unit.store.archive_forgery import crl_options
from tests.unit.store.helpers import order_input


@pytest.fixture()
def home(tmp_path: Path, test_ca: TestCa, rsa_token: Provisioned) -> Path:
    trust_sandbox_root(test_ca, tmp_path / "home")
    # The orders carry schedule II: the token's holder is the recorded registrant (1305.05).
    record_registrant_at(tmp_path / "home" / "data" / "csos.db", rsa_token)
    return tmp_path / "home"


def token_args(prov: Provisioned, chain: Path) -> list[str]:
    return ["--token", prov.label, "--chain", str(chain), "--pin-stdin"]


def test_a_pharmacist_imports_signs_receives_and_exports_orders(
    home: Path, rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    chain = tmp_path / "chain.pem"
    chain.write_bytes(test_ca.issuing_certificate.public_bytes(Encoding.PEM))
    (tmp_path / "orders.json").write_text(json.dumps([order_input(), order_input()]))

    imported = csos(home, rsa_token, "order", "import", str(tmp_path / "orders.json"), "--json")
    assert imported.exit_code == 0, imported.output
    first, second = (r["order_id"] for r in json.loads(imported.output))

    listed = json.loads(csos(home, rsa_token, "order", "list", "--json").output)
    assert [(r["order_id"], r["state"]) for r in listed] == [(first, "draft"), (second, "draft")]
    yy = f"{datetime.now(UTC):%y}"
    assert [r["order_number"] for r in listed] == [f"{yy}X000001", f"{yy}X000002"]

    signed = csos(
        home,
        rsa_token,
        "order",
        "sign-drafts",
        first,
        *token_args(rsa_token, chain),
        stdin=TEST_PIN + "\n",
    )
    assert signed.exit_code == 0, signed.output
    assert f"signed    {yy}X000001" in signed.output and TEST_PIN not in signed.output

    voided = csos(home, rsa_token, "order", "void", second, "--reason", "duplicate")
    assert voided.exit_code == 0 and "void" in voided.output

    with open_store(home / "data" / "csos.db") as store:  # the sync worker's part
        [msg] = store.outbox.pending()
        lifecycle.mark_submitted(store, first, msg.outbox_id, now=datetime.now(UTC))

    over = csos(
        home,
        rsa_token,
        "order",
        "receive",
        first,
        "--line",
        "1=3",
        *token_args(rsa_token, chain),
        stdin=TEST_PIN + "\n",
    )
    assert over.exit_code == 2 and "at most 2 more" in over.output
    received = csos(
        home,
        rsa_token,
        "order",
        "receive",
        f"{yy}X000001",
        "--line",
        "1=2",
        *token_args(rsa_token, chain),
        stdin=TEST_PIN + "\n",
    )
    assert received.exit_code == 0, received.output
    assert "received-partial" in received.output

    shown = json.loads(csos(home, rsa_token, "order", "show", first, "--json").output)
    assert shown["state"] == "received-partial" and len(shown["receipts"]) == 1
    assert [e["event"] for e in shown["audit"]] == [
        "order.imported",
        "order.signed",
        "order.submitted",
        "receipt.recorded",
    ]

    out = tmp_path / "inspector"
    exported = csos(home, rsa_token, "order", "export", first, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    done = openssl_verify(tmp_path, test_ca, out / f"{first}.json", out / f"{first}.p7s")
    assert done.returncode == 0, done.stderr

    verified = csos(home, rsa_token, "audit", "verify", "--json")
    assert verified.exit_code == 0 and json.loads(verified.output)["intact"] is True
    trail = csos(home, rsa_token, "audit", "list", "--order", first)
    assert "order.exported" in trail.output


def test_audit_verify_reports_the_first_broken_link(
    home: Path, rsa_token: Provisioned, tmp_path: Path
) -> None:
    (tmp_path / "o.json").write_text(json.dumps(order_input()))
    for _ in range(3):
        assert csos(home, rsa_token, "order", "import", str(tmp_path / "o.json")).exit_code == 0
    conn = sqlite3.connect(home / "data" / "csos.db")
    conn.execute("DROP TRIGGER audit_log_append_only")
    conn.execute("UPDATE audit_log SET details = '{}' WHERE entry_id = 2")
    conn.commit()
    conn.close()
    result = csos(home, rsa_token, "audit", "verify")
    assert result.exit_code == 1
    assert "BROKEN at entry 3" in result.output


def test_sign_drafts_needs_ids_or_all(home: Path, rsa_token: Provisioned) -> None:
    result = CliRunner().invoke(main, ["order", "sign-drafts"], env={"CSOS_HOME": str(home)})
    assert result.exit_code == 2 and "--all" in result.output


def test_a_bad_receive_line_is_explained(home: Path, rsa_token: Provisioned) -> None:
    result = csos(home, rsa_token, "order", "receive", "x", "--line", "one=2")
    assert result.exit_code == 2 and "LINE=PACKAGES" in result.output


def test_csv_import_is_all_or_nothing_with_row_numbers(
    home: Path, rsa_token: Provisioned, tmp_path: Path
) -> None:
    from tests.unit.domain.test_order_csv import csv_of

    good = order_input()
    bad = order_input()
    bad["lines"][0]["quantity"] = 0
    path = tmp_path / "orders.csv"
    path.write_text(csv_of({"A": good, "B": bad}))
    refused = csos(home, rsa_token, "order", "import", str(path))
    assert refused.exit_code == 2
    assert "row 5, quantity" in refused.output  # header row 1, order A rows 2-4, B from row 5
    listed = csos(home, rsa_token, "order", "list", "--json")
    assert json.loads(listed.output) == []  # nothing half-imported
    path.write_text(csv_of({"A": good, "B": order_input()}))
    done = csos(home, rsa_token, "order", "import", str(path))
    assert done.exit_code == 0, done.output
    assert len(json.loads(csos(home, rsa_token, "order", "list", "--json").output)) == 2


def test_order_sign_takes_stored_drafts_as_the_issue_names_it(
    home: Path, rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    chain = tmp_path / "chain.pem"
    chain.write_bytes(test_ca.issuing_certificate.public_bytes(Encoding.PEM))
    (tmp_path / "o.json").write_text(json.dumps([order_input(), order_input()]))
    csos(home, rsa_token, "order", "import", str(tmp_path / "o.json"))
    signed = csos(
        home,
        rsa_token,
        "order",
        "sign",
        "--all-drafts",
        *token_args(rsa_token, chain),
        "--json",
        stdin=TEST_PIN + "\n",
    )
    assert signed.exit_code == 0, signed.output
    assert len(json.loads(signed.stdout)["signed"]) == 2
    neither = csos(home, rsa_token, "order", "sign")
    assert neither.exit_code == 2 and "--all-drafts" in neither.output
    receive_help = csos(home, rsa_token, "receive", "--help")
    assert receive_help.exit_code == 0 and "--line" in receive_help.output


def test_order_edit_replaces_a_draft_in_place(
    home: Path, rsa_token: Provisioned, tmp_path: Path
) -> None:
    (tmp_path / "o.json").write_text(json.dumps(order_input()))
    [rec] = json.loads(
        csos(home, rsa_token, "order", "import", str(tmp_path / "o.json"), "--json").output
    )
    smaller = order_input()
    smaller["lines"] = smaller["lines"][:2]
    (tmp_path / "edit.json").write_text(json.dumps(smaller))
    done = csos(home, rsa_token, "order", "edit", rec["order_number"], str(tmp_path / "edit.json"))
    assert done.exit_code == 0, done.output
    shown = json.loads(csos(home, rsa_token, "order", "show", rec["order_id"], "--json").output)
    assert len(shown["document"]["lines"]) == 2 and shown["order_number"] == rec["order_number"]


def test_every_command_reading_an_order_file_refuses_a_repeated_key(
    home: Path, rsa_token: Provisioned, tmp_path: Path
) -> None:
    """One strict reader: `import`, `edit` and `sign` agree (json.loads would keep the last)."""
    data = order_input()
    key = next(iter(data))
    body = json.dumps(data)
    twice = tmp_path / "twice.json"
    twice.write_text("{" + json.dumps(key) + ": " + json.dumps(data[key]) + ", " + body[1:])
    good = tmp_path / "good.json"
    good.write_text(body)
    [draft] = json.loads(csos(home, rsa_token, "order", "import", str(good), "--json").output)
    for args in (
        ("order", "import", str(twice)),
        ("order", "edit", draft["order_id"], str(twice)),
        ("order", "sign", str(twice), "--out", str(tmp_path / "out"), "--token", rsa_token.label),
    ):
        result = csos(home, rsa_token, *args)
        assert result.exit_code == 2, (args, result.output)
        assert f"the document has the key {key!r} more than once" in result.output, args
    listed = json.loads(csos(home, rsa_token, "order", "list", "--json").output)
    assert [r["order_id"] for r in listed] == [draft["order_id"]]  # nothing imported
    assert not (tmp_path / "out").exists()


def test_archive_export_verify_and_audit_checkpoint_from_the_cli(
    home: Path, rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    """Export signs the manifest with one PIN; verify checks it; a checkpoint on demand."""
    chain, root = tmp_path / "chain.pem", tmp_path / "root.pem"
    chain.write_bytes(test_ca.issuing_certificate.public_bytes(Encoding.PEM))
    root.write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    (tmp_path / "orders.json").write_text(json.dumps([order_input()]))
    assert csos(home, rsa_token, "order", "import", str(tmp_path / "orders.json")).exit_code == 0
    pin = TEST_PIN + "\n"
    signing = token_args(rsa_token, chain)
    signed = csos(home, rsa_token, "order", "sign", "--all-drafts", *signing, stdin=pin)
    assert signed.exit_code == 0, signed.output
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    bundle = tmp_path / "archive.zip"
    exported = csos(
        home,
        rsa_token,
        "archive",
        "export",
        "--since",
        today,
        "--until",
        today,
        "--out",
        str(bundle),
        *signing,
        stdin=pin,
    )
    assert exported.exit_code == 0, exported.output
    assert "(signed; recorded in the audit log)" in exported.output
    assert TEST_PIN not in exported.output
    archive_verify = ["archive", "verify", str(bundle), "--trust", str(root)]
    # Fails closed without revocation data: never INTACT when no CRL covers the signers.
    unknown = csos(home, rsa_token, *archive_verify)
    assert unknown.exit_code == 1 and "revocation could not be checked" in unknown.output
    verified = csos(home, rsa_token, *archive_verify, *crl_options(test_ca, tmp_path))
    assert verified.exit_code == 0 and "INTACT" in verified.output, verified.output
    assert "manifest signed by" in verified.output and "Main Street Pharmacy" in verified.output

    checkpoint = csos(home, rsa_token, "audit", "checkpoint", *signing, stdin=pin)
    assert checkpoint.exit_code == 0 and "signed by Main Street Pharmacy" in checkpoint.output
    audit = csos(home, rsa_token, "audit", "verify", "--trust", str(root), "--json")
    assert audit.exit_code == 0, audit.output
    report = json.loads(audit.output)["checkpoints"]
    # one from the signing session, one on demand; both hold and their signer is trusted
    assert report["checkpoints"] == 2 and report["signers_verified"] and report["problems"] == []
