"""The support bundle: what IT needs, and none of the secrets planted around it."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from csos_desktop import paths
from csos_desktop.cli import main
from csos_desktop.config.policy import policy_location, write_policy
from csos_desktop.logs import setup_logging

PIN = "739184"
SO_PIN = "55aa77bb"
REFERENCE = "RN-88121931"
AUTH_CODE = "AC-QWER-7731"
BEARER = "eyJhbGciOiJFUzI1NiJ9.c2VjcmV0LWNsYWltcw.sig0000"
PROXY_PASSWORD = "proxyPa55word"
SECRETS = (PIN, SO_PIN, REFERENCE, AUTH_CODE, BEARER, PROXY_PASSWORD)


def _plant(monkeypatch: pytest.MonkeyPatch) -> None:
    log = logging.getLogger("csos_desktop.enrol")
    setup_logging("DEBUG")
    log.info("enrolment: reference_number=%s authorization_code=%s", REFERENCE, AUTH_CODE)
    log.debug("C_Login pin=%s", PIN)
    log.warning("EST call failed; headers {'Authorization': 'Bearer %s'}", BEARER)
    try:
        raise RuntimeError(f"init token failed: so_pin={SO_PIN}")
    except RuntimeError:
        log.exception("token init")
    for handler in logging.getLogger("csos_desktop").handlers:
        handler.flush()
    # A rotated file written without the filter (an older version, or a crash).
    (paths.log_dir() / "csos.log.1").write_text(
        f"2025-01-01 INFO user typed PIN {PIN}\nAuthorization: Bearer {BEARER}\n"
        f"codes: reference number {REFERENCE}, auth code {AUTH_CODE}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HTTPS_PROXY", f"http://pharmacy:{PROXY_PASSWORD}@proxy.local:3128")
    write_policy(
        policy_location().path, {"distributor_url": "https://127.0.0.1:9/api"}, ["distributor_url"]
    )


def test_bundle_has_logs_doctor_config_and_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plant(monkeypatch)
    out = tmp_path / "support.zip"
    result = CliRunner().invoke(main, ["support-bundle", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        contents = {n: zf.read(n) for n in names}
    for name in (
        "manifest.json",
        "doctor.json",
        "config.json",
        "environment.json",
        "policy.toml",
        "logs/csos.log",
        "logs/csos.log.1",
    ):
        assert f"csos-support/{name}" in names
    doctor = json.loads(contents["csos-support/doctor.json"])
    assert {c["check"] for c in doctor["checks"]} >= {"pkcs11_module", "clock", "database"}
    config = json.loads(contents["csos-support/config.json"])
    assert any(s["source"] == "policy (locked)" for s in config["settings"])
    assert b"token init" in contents["csos-support/logs/csos.log"]
    # Scan the stored bytes (compressed and uncompressed) for every planted secret.
    raw = out.read_bytes() + b"".join(contents.values())
    for secret in SECRETS:
        assert secret.encode() not in raw, f"{secret} leaked into the bundle"
    assert b"[REDACTED]" in contents["csos-support/logs/csos.log.1"]


def test_bundle_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    out.write_bytes(b"keep me")
    refused = CliRunner().invoke(main, ["support-bundle", "--no-doctor", "--out", str(out)])
    assert refused.exit_code == 2 and "--force" in refused.output
    assert out.read_bytes() == b"keep me"
    forced = CliRunner().invoke(
        main, ["support-bundle", "--no-doctor", "--force", "--out", str(out)]
    )
    assert forced.exit_code == 0 and zipfile.is_zipfile(out)
