"""`csos sandbox customer add` and `csos sandbox serve` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from cryptography import x509
from sqlalchemy import select

from csos_desktop.cli import main
from csos_desktop.domain.x12.order850 import build_850
from csos_desktop.pki.cms_attached import attach
from csos_desktop.sandbox.as2_parties import write_party
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.customers import token_hash
from csos_desktop.sandbox.distributor.db import customers, default_url, history, open_database
from csos_desktop.sync.as2 import As2Connection, send_as2
from csos_desktop.sync.client import DistributorClient
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import sign_document
from tests.integration.signing import sample_order
from tests.integration.test_as2 import PHARMACY


def _add(directory: Path, dea: str = "AB1234563") -> tuple[str, str]:
    result = CliRunner().invoke(
        main,
        [
            "sandbox",
            "customer",
            "add",
            "--dir",
            str(directory),
            "--dea",
            dea,
            "--name",
            "Main Street Pharmacy",
        ],
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip(), result.stderr


def test_customer_add_prints_the_token_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    directory = tmp_path / "sandbox"
    token, messages = _add(directory)
    assert len(token) >= 40 and "\n" not in token
    assert "history lines" in messages and "shown once" in messages
    engine = open_database(default_url(directory / "distributor"))
    with engine.connect() as conn:
        row = conn.execute(select(customers)).one()
        seeded = conn.execute(select(history.c.order_date)).all()
    assert row.token_sha256 == token_hash(token)
    assert token not in str(tuple(row))
    span = max(seeded)[0] - min(seeded)[0]
    assert span.days > 600  # about two years of history


def test_second_customer_with_the_same_dea_is_refused(tmp_path: Path) -> None:
    _add(tmp_path / "s")
    result = CliRunner().invoke(
        main,
        [
            "sandbox",
            "customer",
            "add",
            "--dir",
            str(tmp_path / "s"),
            "--dea",
            "AB1234563",
            "--name",
            "Again",
            "--no-history",
        ],
    )
    assert result.exit_code == 2 and "already exists" in result.stderr


def test_serve_runs_https_on_loopback_until_stopped(tmp_path: Path) -> None:
    directory = tmp_path / "sandbox"
    token, _ = _add(directory)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "csos_desktop",
            "sandbox",
            "serve",
            "--dir",
            str(directory),
            "--port",
            "0",
            "--tick",
            "0.2",
            "--som",
            "no-op",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("sandbox distributor (TEST ONLY) at https://127.0.0.1:"), first
        url = first.rsplit(" ", 1)[1].strip()
        with DistributorClient(url, token, ca_bundle=directory / "root.pem") as client:
            assert client.catalogue()["schema"] == "csos-catalogue/1"
            assert client.history(limit=5).has_more
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_serve_with_an_as2_partner_takes_its_signed_850_over_as2(
    tmp_path: Path, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    directory = tmp_path / "sandbox"
    token, _ = _add(directory)
    _, pharmacy_cert = write_party(tmp_path / "as2", "pharmacy", PHARMACY)
    proc = subprocess.Popen(
        [sys.executable, "-m", "csos_desktop", "sandbox", "serve", "--dir", str(directory),
         "--port", "0", "--som", "no-op",
         "--as2-partner", f"PHARMACY=AB1234563,{pharmacy_cert}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().rsplit(" ", 1)[1].strip()
        proc.stdout.readline()  # the CA bundle
        as2_line = proc.stdout.readline()
        assert f"AS2 at {url}/as2 as CSOS-SANDBOX" in as2_line, as2_line
        theirs = x509.load_pem_x509_certificate(
            Path(as2_line.rsplit(" ", 1)[1].strip()).read_bytes()
        )
        conn = As2Connection(
            f"{url}/as2", "PHARMACY", "CSOS-SANDBOX", PHARMACY, theirs,
            ca_bundle=directory / "root.pem",
        )  # fmt: skip
        now = datetime.now(UTC)
        order = sample_order(now).with_date_signed(now.date())
        interchange = build_850(order, control_number=3, prepared_at=now)
        p7m = attach(sign_document(rsa_token, test_ca, interchange), interchange)
        mdn = send_as2(conn, p7m, message_id=f"<{order.order_id}@csos>", now=now)
        assert mdn.processed
        with DistributorClient(url, token, ca_bundle=directory / "root.pem") as client:
            record = client.order(order.order_id)  # taken, and judged with the REST rules
        assert record.order_id == order.order_id and record.x12
    finally:
        proc.terminate()
        proc.wait(timeout=15)
