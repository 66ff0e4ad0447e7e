"""1305.27: the two-year archive an inspector can read, verified offline."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.container import ArchiveUnusable
from csos_desktop.services.archive.export import export_archive
from csos_desktop.services.archive.verify import Verdict, verify_archive
from csos_desktop.services.orders.export import export_order
from csos_desktop.store import open_store
from tests.conftest import Provisioned
from tests.integration.store.tokens import (
    document_signer,
    openssl_verify,
)
from tests.unit.store.archive_forgery import crl_options, roots

TODAY = datetime.now(UTC).date()


def test_bundle_holds_every_record_an_index_and_a_manifest(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
        index = list(csv.DictReader(io.StringIO(zf.read("index.csv").decode())))
        audit = zf.read("audit.jsonl").decode().splitlines()
    assert manifest["format"] == "csos-archive/2" and manifest["orders"] == 3
    assert manifest["exported_by"] == "Main Street Pharmacy"
    assert {f["name"] for f in manifest["files"]} == set(names) - {"manifest.json", "manifest.p7s"}
    assert len(index) == 3 and {r["state"] for r in index} >= {"received-partial"}
    assert sum(int(r["receipts"]) for r in index) == 1
    assert sum(n.endswith(".p7s") for n in names) == 5  # three orders, one receipt, manifest
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
    for sig in [*signatures, out / "manifest.p7s"]:
        done = openssl_verify(tmp_path, test_ca, sig.with_suffix(".json"), sig)
        assert done.returncode == 0, done.stderr


def test_verify_finds_an_intact_bundle_intact(bundle: Path, test_ca: TestCa) -> None:
    report = verify_archive(bundle, roots(test_ca))
    assert report.verdict is Verdict.INTACT, report.problems
    # four record signatures and the manifest's, every chain checked
    assert report.signatures == 5 and report.chains_checked == 5
    assert report.manifest_signer and "Main Street Pharmacy" in report.manifest_signer


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


def test_orders_outside_the_period_are_left_out(
    tmp_path: Path, bundle: Path, ec_token: Provisioned, test_ca: TestCa
) -> None:
    with open_store(tmp_path / "csos.db") as store, document_signer(ec_token, test_ca) as signer:
        yesterday = TODAY - timedelta(days=1)
        summary = export_archive(store, yesterday, yesterday, tmp_path / "empty.zip", signer=signer)
    assert summary.orders == 0
    assert verify_archive(summary.path).verdict is Verdict.INTEGRITY_ONLY


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
            *crl_options(test_ca, tmp_path),
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


def test_archives_and_exports_are_owner_only(
    tmp_path: Path, bundle: Path, ec_token: Provisioned, test_ca: TestCa
) -> None:
    """With the usual umask (022) a new file would be 0644; these hold patient data."""
    old = os.umask(0o022)
    try:
        with (
            open_store(tmp_path / "csos.db") as store,
            document_signer(ec_token, test_ca) as signer,
        ):
            archive = export_archive(store, TODAY, TODAY, tmp_path / "new.zip", signer=signer)
            order_id = next(store.signed.ids_signed_between("2000-01-01", "2100-01-01"))
            exported = export_order(store, order_id, tmp_path / "inspection")
    finally:
        os.umask(old)
    assert stat.S_IMODE(archive.path.stat().st_mode) == 0o600
    assert exported and {stat.S_IMODE(p.stat().st_mode) for p in exported} == {0o600}
