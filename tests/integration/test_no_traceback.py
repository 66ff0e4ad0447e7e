"""Hostile files a user may be handed end in a verdict or `error:`, never a traceback (exit 70).

Each case is what a reviewer's proof of concept fed the command line: a signer
certificate whose keyUsage is cut short (read on the revocation path and in the
archive's statement check), a catalogue with a 400-digit package count or a 200 KB
cell, SOM input with dosage units of 2^63 or 1e308.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from csos_desktop.cli import main
from csos_desktop.sandbox.ca import TestCa
from tests.integration.crafted import (
    AttributeSigner,
    SoftwareSigner,
    chain,
    crafted_certificate,
    order_document,
    rx_document,
)
from tests.unit.som.test_cli import AS_OF, DEA, _history_csv, _order_json

#: keyUsage whose BIT STRING says two bytes and holds one.
TRUNCATED_KEY_USAGE = x509.UnrecognizedExtension(ObjectIdentifier("2.5.29.15"), b"\x03\x02\x07")


def csos(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "csos_desktop", *args],
        env={**os.environ, "CSOS_HOME": str(home)},
        capture_output=True,
        text=True,
        input=stdin,
        check=False,
        timeout=120,
    )


def assert_no_traceback(done: subprocess.CompletedProcess[str], *codes: int) -> None:
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode in codes, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])


#: Where the crafted certificate says its OCSP responder is (nothing listens there).
OCSP_NOWHERE = x509.AuthorityInformationAccess(
    [
        x509.AccessDescription(
            x509.oid.AuthorityInformationAccessOID.OCSP,
            x509.UniformResourceIdentifier("http://127.0.0.1:9/ocsp"),
        )
    ]
)


def truncated_key_usage_signature(ca: TestCa, document: bytes) -> bytes:
    soft = SoftwareSigner()
    extra = [TRUNCATED_KEY_USAGE, OCSP_NOWHERE]
    cert = crafted_certificate(ca, soft, usage=None, extra=extra)
    return AttributeSigner(soft, cert, chain(ca), lambda a: a).sign(document, datetime.now(UTC))


@pytest.mark.parametrize("command", ["order", "rx"])
def test_a_truncated_key_usage_is_a_verdict_on_the_revocation_path(
    test_ca: TestCa, tmp_path: Path, command: str
) -> None:
    """Without --crl the revocation data is looked up from the signer's certificate."""
    now = datetime.now(UTC)
    document = order_document(now) if command == "order" else rx_document(now)
    (tmp_path / "doc.json").write_bytes(document)
    (tmp_path / "doc.p7s").write_bytes(truncated_key_usage_signature(test_ca, document))
    root = tmp_path / "root.pem"
    root.write_bytes((test_ca.directory / "root.pem").read_bytes())
    args = [command, "verify", str(tmp_path / "doc.json"), str(tmp_path / "doc.p7s")]
    done = csos(tmp_path / "home", *args, "--trust", str(root), "--json")
    assert_no_traceback(done, 1)
    codes = [r["code"] for r in json.loads(done.stdout)["reasons"]]
    assert "malformed-signature" in codes


def _cli(*args: str, home: Path | None = None) -> Result:
    env = {"CSOS_HOME": str(home)} if home else None
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code != 70, result.output[-3000:]
    return result


FDA = Path(__file__).parents[2] / "docs" / "samples" / "fda-ndc"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("PACKAGEDESCRIPTION", "9" * 400 + " TABLET in 1 BOTTLE"),
        ("PACKAGEDESCRIPTION", "x" * 200_000),
    ],
    ids=["400-digit-count", "200-KB-cell"],
)
def test_a_hostile_fda_directory_is_refused_or_skipped(
    tmp_path: Path, column: str, value: str
) -> None:
    """Before: OverflowError (int of an infinite float) and csv.Error (field limit)."""
    lines = (FDA / "package.txt").read_bytes().split(b"\r\n")
    header = lines[0].decode().split("\t")
    row = lines[1].decode("cp1252").split("\t")
    row[header.index(column)] = value
    package = tmp_path / "package.txt"
    package.write_bytes(b"\r\n".join([lines[0], "\t".join(row).encode(), *lines[2:]]))
    # A home of its own: the import replaces the catalogue the SOM tests read.
    result = _cli(
        "catalogue", "import", str(FDA / "product.txt"), str(package), home=tmp_path / "home"
    )
    assert result.exit_code in (0, 2), result.output[-2000:]
    assert len(result.output) < 5000  # the cell is not echoed back whole


HUGE_UNITS = [str(2**63), "1e308", "9" * 400]


@pytest.mark.parametrize("units", HUGE_UNITS)
def test_som_check_names_implausible_dosage_units(tmp_path: Path, units: str) -> None:
    bad = f"hx,2024-06-03,{DEA},99101001001,9143,{units}\n"
    history = _history_csv(tmp_path / "h.csv", extra=bad)
    order = _order_json(tmp_path / "o.json", 41)
    args = ["som", "check", str(order), "--history", str(history), "--as-of", AS_OF]
    refused = _cli(*args)
    assert refused.exit_code == 2 and "dosage_units" in refused.output, refused.output
    assert _cli(*args, "--skip-bad-rows").exit_code == 0


@pytest.mark.parametrize("engine", ["stream", "memory"])
@pytest.mark.parametrize("units", HUGE_UNITS)
def test_som_score_names_implausible_dosage_units(tmp_path: Path, units: str, engine: str) -> None:
    history = _history_csv(tmp_path / "h.csv")
    orders = tmp_path / "o.csv"
    later = date.fromisoformat(AS_OF)
    orders.write_text(
        "order_id,order_date,purchaser_dea,ndc,drug_code,dosage_units\n"
        f"n1,{later},{DEA},99101001001,9143,1000\n"
        f"n2,{later},{DEA},99101001001,9143,{units}\n",
        encoding="utf-8",
    )
    out = tmp_path / "flags.csv"
    args = ["som", "score", "--history", str(history), "--orders", str(orders), "--out", str(out)]
    refused = _cli(*args, "--engine", engine)
    assert refused.exit_code == 2 and "dosage_units" in refused.output, refused.output
    assert _cli(*args, "--engine", engine, "--skip-bad-rows").exit_code == 0


def test_som_check_with_an_order_of_implausible_size(tmp_path: Path) -> None:
    history = _history_csv(tmp_path / "h.csv")
    order = _order_json(tmp_path / "o.json", 2**53)
    data = json.loads(order.read_text())
    data["lines"][0]["package_size"] = 2**53
    order.write_text(json.dumps(data))
    result = _cli("som", "check", str(order), "--history", str(history), "--as-of", AS_OF)
    assert result.exit_code in (0, 2)
