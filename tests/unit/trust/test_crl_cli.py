"""`csos crl show` says where each CRL came from and whether its signature was checked;
`csos crl forget ISSUER` lets an administrator drop one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.cli import main
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.trust.crl_cache import CrlCache


def test_show_names_the_source_and_the_check_and_forget_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("CSOS_HOME", str(home))
    now = datetime.now(UTC)
    proven = TestCa.init(tmp_path / "proven", name_prefix="Proven")
    CrlCache().put(
        proven.crl(now=now).public_bytes(Encoding.DER),
        "http://ca.example/issuing.crl",
        now,
        issuer=asn1_x509.Certificate.load(proven.issuing_certificate.public_bytes(Encoding.DER)),
    )
    # An entry as an older version wrote it: no issuer certificate, so never proven.
    legacy = TestCa.init(tmp_path / "legacy", name_prefix="Legacy")
    directory = CrlCache().directory
    (directory / "legacy.crl").write_bytes(legacy.crl(now=now).public_bytes(Encoding.DER))
    (directory / "legacy.json").write_text(
        json.dumps({"url": "http://old.example/crl", "fetched_at": now.isoformat()})
    )

    shown = CliRunner().invoke(main, ["crl", "show", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = {r["source"]: r for r in json.loads(shown.stdout)["crls"]}
    assert rows["http://ca.example/issuing.crl"]["signature_verified"] is True
    assert rows["http://old.example/crl"]["signature_verified"] is False
    text = CliRunner().invoke(main, ["crl", "show"]).stdout
    assert "verified against the issuing CA" in text and "NOT verified" in text

    gone = CliRunner().invoke(main, ["crl", "forget", "Legacy Issuing"])
    assert gone.exit_code == 0, gone.output
    assert "http://old.example/crl" in gone.stdout
    left = json.loads(CliRunner().invoke(main, ["crl", "show", "--json"]).stdout)["crls"]
    assert [r["source"] for r in left] == ["http://ca.example/issuing.crl"]
    assert CliRunner().invoke(main, ["crl", "forget", "Nobody"]).exit_code == 2
