"""Signed prescriptions are in the inspector's bundle (21 CFR 1311.305), as signed.

`csos archive export` takes each prescription signed in the period: the signed bytes,
the detached CMS and the record beside them. OpenSSL accepts the signature from the
bundle's members, and `csos archive verify` checks it with the prescription rules;
a changed prescription in the bundle is reported.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.export import export_archive
from csos_desktop.services.archive.verify import Verdict, verify_archive
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.services.signing.documents import TokenDocumentSigner
from csos_desktop.store import Store
from csos_desktop.token.identity import SigningIdentity
from csos_desktop.token.session import TokenSession
from tests.integration.rx.conftest import SignMaria, queue_two_for_maria_one_for_john
from tests.integration.signing import chain_of
from tests.integration.store.tokens import TestPin, openssl_verify
from tests.unit.store.archive_forgery import roots
from tests.unit.store.helpers import Clock


def export(
    store: Store, clock: Clock, token: tuple[TokenSession, SigningIdentity], ca: TestCa, out: Path
) -> Path:
    ts, identity = token
    session = SigningSession(ts, identity, chain_of(ca), SigningPurpose.ARCHIVE_MANIFEST)
    session.log_in(TestPin())
    day = clock().date()
    export_archive(store, day, day, out, signer=TokenDocumentSigner(session))
    return out


def test_signed_prescriptions_are_in_the_archive_export_and_verify(
    store: Store,
    clock: Clock,
    token: tuple[TokenSession, SigningIdentity],
    test_ca: TestCa,
    tmp_path: Path,
    sign_maria: SignMaria,
) -> None:
    queue_two_for_maria_one_for_john(store, clock)
    signed = sign_maria()
    assert len(signed) == 2
    bundle = export(store, clock, token, test_ca, tmp_path / "bundle.zip")

    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        for s in signed:
            base = f"prescriptions/signed/{s.rx_id}"
            assert {f"{base}.json", f"{base}.p7s", f"{base}.record.json"} <= names
            kept = store.prescriptions.signed(s.rx_id)
            # Exactly the bytes signed and the signature as made.
            assert zf.read(f"{base}.json") == kept.document
            assert zf.read(f"{base}.p7s") == kept.signature
            record = json.loads(zf.read(f"{base}.record.json"))
            assert record["signed_at"] == kept.signed_at
            assert record["signed_by"] == "drsmith" and record["signer_dea"] == kept.signer_dea
            assert record["signature_sha256"] == kept.signature_sha256
        first = f"prescriptions/signed/{signed[0].rx_id}"
        (tmp_path / "rx.json").write_bytes(zf.read(f"{first}.json"))
        (tmp_path / "rx.p7s").write_bytes(zf.read(f"{first}.p7s"))
    assert manifest["prescriptions"] == 2
    # An independent verifier accepts the prescription's signature from the bundle.
    done = openssl_verify(tmp_path, test_ca, tmp_path / "rx.json", tmp_path / "rx.p7s")
    assert done.returncode == 0, done.stderr

    report = verify_archive(bundle, roots(test_ca))
    assert report.problems == [], report.problems
    assert report.verdict is Verdict.INTACT
    # Two prescriptions, the orders' none, plus the manifest: each signature checked.
    assert report.signatures == 3 and report.chains_checked == 3


def test_a_changed_prescription_in_the_bundle_is_reported(
    store: Store,
    clock: Clock,
    token: tuple[TokenSession, SigningIdentity],
    test_ca: TestCa,
    tmp_path: Path,
    sign_maria: SignMaria,
) -> None:
    queue_two_for_maria_one_for_john(store, clock)
    [one, _] = sign_maria()
    bundle = export(store, clock, token, test_ca, tmp_path / "bundle.zip")
    changed = tmp_path / "changed.zip"
    name = f"prescriptions/signed/{one.rx_id}.json"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(changed, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(
                info,
                data.replace(b"Maria Lopez", b"Maria Lopes") if info.filename == name else data,
            )
    problems = verify_archive(changed, roots(test_ca)).problems
    assert f"{name}: changed since export (SHA-256 differs)" in problems
    assert f"{name}: not the document that was signed (digest differs)" in problems
