"""`csos sandbox customer add` and `csos sandbox serve` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from csos_desktop.cli import main
from csos_desktop.sandbox.distributor.customers import token_hash
from csos_desktop.sandbox.distributor.db import customers, default_url, history, open_database
from csos_desktop.sync.client import DistributorClient


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
