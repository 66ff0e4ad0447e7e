"""1305.27: the two-year archive an inspector can read, verified offline."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services import orders as svc
from csos_desktop.services.archive import ArchiveUnusable, export_archive, verify_archive
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import lifecycle, open_store
from tests.conftest import Provisioned
from tests.integration.signing import chain_of
from tests.integration.store.tokens import TestPin, open_identity, openssl_verify
from tests.unit.store.helpers import order_input

TODAY = datetime.now(UTC).date()


@pytest.fixture()
def bundle(ec_token: Provisioned, test_ca: TestCa, tmp_path: Path) -> Path:
    """Three signed orders, one delivered with a signed receipt, exported to a bundle."""
    ts, identity = open_identity(ec_token)
    with ts, open_store(tmp_path / "csos.db") as store:
        recs = [svc.import_orders(store, order_input(), source="test")[0] for _ in range(3)]
        svc.sign_orders_on_token(
            store,
            [r.order_id for r in recs],
            SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ORDER),
            TestPin(),
        )
        oid = recs[0].order_id
        msg = next(m for m in store.outbox.pending() if m.record_id == oid)
        lifecycle.mark_submitted(store, oid, msg.outbox_id, now=datetime.now(UTC))
        lifecycle.record_status(store, oid, OrderState.SHIPPED, now=datetime.now(UTC))
        svc.record_receipt(
            store,
            oid,
            [ReceiptLine(1, 2, TODAY)],
            svc.TokenDocumentSigner(
                SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.RECEIPT)
            ),
        )
        summary = export_archive(store, TODAY, TODAY, tmp_path / "bundle.zip")
        assert summary.orders == 3
        assert any(e.details.get("archive") for e in store.audit.entries())
    return summary.path


def roots(ca: TestCa) -> list[asn1_x509.Certificate]:
    return [asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))]


def test_bundle_holds_every_record_an_index_and_a_manifest(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
        index = list(csv.DictReader(io.StringIO(zf.read("index.csv").decode())))
        audit = zf.read("audit.jsonl").decode().splitlines()
    assert manifest["format"] == "csos-archive/1" and manifest["orders"] == 3
    assert {f["name"] for f in manifest["files"]} == set(names) - {"manifest.json"}
    assert len(index) == 3 and {r["state"] for r in index} >= {"received-partial"}
    assert sum(int(r["receipts"]) for r in index) == 1
    assert sum(n.endswith(".p7s") for n in names) == 4  # three orders, one receipt
    assert any(n.startswith("certificates/") for n in names)
    assert any('"order.signed"' in line for line in audit)


def test_openssl_accepts_every_signature_in_the_bundle(
    bundle: Path, test_ca: TestCa, tmp_path: Path
) -> None:
    out = tmp_path / "unzipped"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(out)
    signatures = sorted(out.glob("orders/*/*.p7s"))
    assert len(signatures) == 4
    for sig in signatures:
        done = openssl_verify(tmp_path, test_ca, sig.with_suffix(".json"), sig)
        assert done.returncode == 0, done.stderr


def test_verify_finds_an_intact_bundle_intact(bundle: Path, test_ca: TestCa) -> None:
    report = verify_archive(bundle, roots(test_ca))
    assert report.intact, report.problems
    assert report.signatures == 4 and report.chains_checked == 4


def rewrite(bundle: Path, change: dict[str, bytes | None], extra: dict[str, bytes]) -> None:
    with zipfile.ZipFile(bundle) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    for name, data in change.items():
        if data is None:
            del items[name]
        else:
            items[name] = data
    items |= extra
    with zipfile.ZipFile(bundle, "w") as zf:
        for name, data in items.items():
            zf.writestr(name, data)


def test_a_changed_document_is_caught_twice(bundle: Path, test_ca: TestCa) -> None:
    with zipfile.ZipFile(bundle) as zf:
        doc = next(
            n for n in zf.namelist() if n.endswith(".json") and "orders/" in n and "record" not in n
        )
        data = zf.read(doc)
    rewrite(bundle, {doc: data.replace(b'"quantity":2', b'"quantity":3', 1)}, {})
    problems = verify_archive(bundle, roots(test_ca)).problems
    assert any("changed since export" in p for p in problems)
    assert any("digest differs" in p for p in problems)


def test_added_and_removed_files_are_caught(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as zf:
        gone = next(n for n in zf.namelist() if n.endswith(".p7s"))
    rewrite(bundle, {gone: None}, {"orders/extra.json": b"{}"})
    problems = verify_archive(bundle).problems
    assert any("missing" in p and gone in p for p in problems)
    assert any("not in the manifest" in p for p in problems)


def test_a_foreign_root_fails_the_chain_check(bundle: Path, tmp_path: Path) -> None:
    other = TestCa.init(tmp_path / "other")
    problems = verify_archive(bundle, roots(other)).problems
    assert problems and all("trusted" in p or "chain" in p for p in problems)


def test_not_a_bundle_is_refused_clearly(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ArchiveUnusable, match="not a readable zip"):
        verify_archive(junk)


def test_orders_outside_the_period_are_left_out(tmp_path: Path, bundle: Path) -> None:
    with open_store(tmp_path / "csos.db") as store:
        yesterday = TODAY - timedelta(days=1)
        summary = export_archive(store, yesterday, yesterday, tmp_path / "empty.zip")
    assert summary.orders == 0
    assert verify_archive(summary.path).intact


def test_cli_verify_exit_codes(bundle: Path, test_ca: TestCa, tmp_path: Path) -> None:
    root = tmp_path / "root.pem"
    root.write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "csos_desktop",
            "archive",
            "verify",
            str(bundle),
            "--trust",
            str(root),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and "INTACT" in ok.stdout
    rewrite(bundle, {}, {"stray.txt": b"x"})
    bad = subprocess.run(
        [sys.executable, "-m", "csos_desktop", "archive", "verify", str(bundle)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1 and "not in the manifest" in bad.stdout
