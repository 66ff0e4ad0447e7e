"""`csos doctor` on an AS2 connection: the settings, key and certificate files as IT writes
them, and a real HTTPS endpoint on 127.0.0.1 with its own CA."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from csos_desktop.cli import main
from csos_desktop.config import load_config, set_value, unset_value
from csos_desktop.doctor.as2 import as2_check
from csos_desktop.doctor.result import Status
from csos_desktop.sandbox.as2_parties import self_signed_party, write_party
from tests.integration.as2_files import as2_config
from tests.integration.deploy.conftest import Distributor

NOW = datetime.now(UTC).replace(microsecond=0)


def _configure(
    tmp_path: Path, distributor: Distributor, *, partner_days: int = 365
) -> dict[str, str]:
    set_value("ca_bundle", str(distributor.ca_bundle))
    ours = self_signed_party("pharmacy", NOW, days=365)
    partner = self_signed_party("distributor", NOW, days=partner_days)
    return as2_config(tmp_path / "as2", distributor.url + "/as2", ours, partner)


def test_a_complete_as2_connection_passes_and_the_cli_lists_it(
    tmp_path: Path, distributor: Distributor
) -> None:
    _configure(tmp_path, distributor)
    out = CliRunner().invoke(main, ["doctor", "--json", "--timeout", "5"])
    [check] = [c for c in json.loads(out.output)["checks"] if c["check"] == "as2"]
    assert check["status"] == "ok", check
    assert check["details"]["http_status"] == 200
    assert check["details"]["as2_id"] == "PHARMACY"
    assert "PHARMACY → DISTRIBUTOR" in check["summary"]


def test_rest_connection_skips_the_check() -> None:
    result = as2_check(load_config(), NOW, timeout=5)
    assert result.status is Status.SKIPPED
    assert "REST" in result.summary


def test_missing_settings_are_named_all_at_once() -> None:
    set_value("distributor_connection", "AS2")
    set_value("as2_url", "https://127.0.0.1:9/as2")
    result = as2_check(load_config(), NOW, timeout=5)
    assert result.status is Status.ERROR
    for key in ("as2_id", "as2_partner_id", "as2_key", "as2_certificate"):
        assert key in result.summary
    assert "csos config set" in result.fix


def test_wrong_key_open_key_file_and_ending_partner_certificate_are_all_reported(
    tmp_path: Path, distributor: Distributor
) -> None:
    _configure(tmp_path, distributor, partner_days=10)
    other_key, _ = write_party(tmp_path / "other", "other", self_signed_party("other", NOW))
    other_key.chmod(0o644)
    set_value("as2_key", str(other_key))
    result = as2_check(load_config(), NOW, timeout=5)
    assert result.status is Status.ERROR
    problems = result.details["problems"]
    assert isinstance(problems, list) and len(problems) == 3, problems
    assert "does not belong to as2_certificate" in result.summary
    assert "can be read by other accounts (mode 644)" in result.summary
    assert "as2_partner_certificate expires in" in result.summary
    assert f"chmod 600 {other_key}" in result.fix


def test_expired_certificate_and_unreadable_partner_file_are_errors(
    tmp_path: Path, distributor: Distributor
) -> None:
    _configure(tmp_path, distributor)
    old = self_signed_party("pharmacy", NOW - timedelta(days=400), days=30)
    key, cert = write_party(tmp_path / "old", "pharmacy", old)
    set_value("as2_key", str(key))
    set_value("as2_certificate", str(cert))
    (tmp_path / "garbage.pem").write_text("not a certificate")
    set_value("as2_partner_certificate", str(tmp_path / "garbage.pem"))
    result = as2_check(load_config(), NOW, timeout=5)
    assert result.status is Status.ERROR
    assert "as2_certificate expired on" in result.summary
    assert "as2_partner_certificate:" in result.summary
    assert "is not a readable PEM certificate" in result.summary


def test_an_endpoint_nobody_answers_on_is_an_error(
    tmp_path: Path, distributor: Distributor
) -> None:
    _configure(tmp_path, distributor)
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    set_value("as2_url", f"https://127.0.0.1:{port}/as2")
    result = as2_check(load_config(), NOW, timeout=5)
    assert result.status is Status.ERROR
    assert f"https://127.0.0.1:{port}/as2 cannot be reached" in result.summary


def test_an_endpoint_whose_tls_certificate_is_not_trusted_is_an_error(
    tmp_path: Path, distributor: Distributor
) -> None:
    _configure(tmp_path, distributor)
    unset_value("ca_bundle")
    result = as2_check(load_config(), NOW, timeout=5)
    assert result.status is Status.ERROR
    assert "cannot be reached" in result.summary and "CERTIFICATE_VERIFY_FAILED" in result.summary
