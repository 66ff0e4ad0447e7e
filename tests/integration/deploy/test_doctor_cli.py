"""`csos doctor` end to end: a real SoftHSM2 token, a real SQLite store, real files."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from csos_desktop import paths
from csos_desktop.cli import main
from csos_desktop.config import set_value
from csos_desktop.config.policy import policy_location, write_policy
from csos_desktop.doctor.result import Status
from csos_desktop.doctor.runner import run_doctor
from csos_desktop.doctor.storage import database_check
from csos_desktop.sandbox.softhsm import create_token
from csos_desktop.store import open_store
from tests.conftest import TEST_PIN, MemoryKeyring, Provisioned
from tests.integration.deploy.conftest import Distributor
from tests.token_backends import logs_in


def _doctor_json(*args: str) -> tuple[int, dict[str, dict[str, object]]]:
    out = CliRunner().invoke(main, ["doctor", "--json", "--timeout", "5", *args])
    data = json.loads(out.output)
    assert data["exit_code"] == out.exit_code
    return out.exit_code, {c["check"]: c for c in data["checks"]}


def test_token_certificate_distributor_and_clock_all_pass(
    rsa_token: Provisioned, distributor: Distributor, memory_keyring: MemoryKeyring
) -> None:
    # The module comes from the machine policy, as IT would deploy it.
    write_policy(
        policy_location().path,
        {
            "pkcs11_module": rsa_token.hsm.module,
            "distributor_url": distributor.url,
            "ca_bundle": str(distributor.ca_bundle),
            "token_label": rsa_token.label,
        },
        ["pkcs11_module"],
    )
    code, checks = _doctor_json()
    assert checks["pkcs11_module"]["status"] == "ok"
    locked_by = f"machine policy (locked, {policy_location().path})"  # the driver's why
    assert checks["pkcs11_module"]["details"]["source"] == locked_by  # type: ignore[index]
    assert checks["tokens"]["status"] == "ok" and rsa_token.label in str(checks["tokens"])
    cert = checks["certificate"]
    assert cert["status"] == "ok", cert
    assert cert["details"]["days_left"] in (364, 365)  # type: ignore[index]
    assert cert["details"]["revocation"] == "not checked"  # type: ignore[index]
    assert checks["distributor"]["status"] == "ok"
    assert checks["clock"]["status"] == "ok"
    assert checks["database"]["status"] == "skipped"
    assert "Not initialised" in str(checks["database"]["summary"])
    assert checks["credentials"]["status"] == "ok"  # a system keyring keeps the credential
    # A fresh home has no product catalogue imported, and says so with the command.
    assert checks["catalogue"]["status"] == "warning"
    assert "csos catalogue import" in str(checks["catalogue"]["fix"])
    # pcscd is not needed by SoftHSM2, so nothing else here is worse than OK.
    others = {k: c["status"] for k, c in checks.items() if k != "catalogue"}
    assert set(others.values()) <= {"ok", "skipped"}, checks
    assert code == 1


def test_exit_code_is_the_worst_result(rsa_token: Provisioned, distributor: Distributor) -> None:
    distributor.set_skew(timedelta(minutes=10))
    write_policy(
        policy_location().path,
        {
            "pkcs11_module": rsa_token.hsm.module,
            "distributor_url": distributor.url,
            "ca_bundle": str(distributor.ca_bundle),
        },
        [],
    )
    code, checks = _doctor_json()
    assert checks["clock"]["status"] == "error"
    assert code == 2
    text = CliRunner().invoke(main, ["doctor", "--timeout", "5"]).output
    assert "[FAIL] Clock" in text and "signing is refused" in text and "fix:" in text


def test_missing_driver_is_an_error_with_a_fix() -> None:
    code, checks = _doctor_json("--module", "/nonexistent/libvendor-pkcs11.so")
    assert code == 2
    assert checks["pkcs11_module"]["status"] == "error"
    assert "OpenSC" in str(checks["pkcs11_module"]["fix"])
    assert checks["tokens"]["status"] == "skipped"


def test_certificate_near_expiry_warns(rsa_token: Provisioned) -> None:
    set_value("token_label", rsa_token.label)  # the session's SoftHSM2 holds other tokens too
    later = datetime.now(UTC) + timedelta(days=350)
    report = run_doctor(module=rsa_token.hsm.module, now=later, timeout=1)
    cert = report.result("certificate")
    assert cert.status is Status.WARNING and "1311.40" in cert.summary
    expired = run_doctor(module=rsa_token.hsm.module, now=later + timedelta(days=30), timeout=1)
    assert expired.result("certificate").status is Status.ERROR


def test_database_integrity_and_audit_chain_are_verified() -> None:
    with open_store() as store:
        path = store.path
    result = database_check()
    assert result.status is Status.OK, result.summary
    assert result.details["audit"]["intact"] is True  # type: ignore[index]
    # Tamper with the audit log behind the app's back (the trigger would refuse).
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_log_append_only")
    conn.execute("UPDATE audit_log SET details = '{\"version\":99}' WHERE entry_id = 1")
    conn.commit()
    conn.close()
    broken = database_check()
    assert broken.status is Status.ERROR
    assert "audit log is broken at entry" in broken.summary
    assert "21 CFR 1305.27" in broken.fix


def test_garbage_database_is_an_error_not_a_crash() -> None:
    (paths.data_dir() / "csos.db").write_bytes(b"this is not sqlite" * 100)
    result = database_check(Path(paths.data_dir() / "csos.db"))
    assert result.status is Status.ERROR


@pytest.mark.parametrize(
    "free, status", [(50, Status.ERROR), (500, Status.WARNING), (5000, Status.OK)]
)
def test_free_disk_thresholds(monkeypatch: pytest.MonkeyPatch, free: int, status: Status) -> None:
    import shutil

    from csos_desktop.doctor import storage

    usage = shutil.disk_usage(paths.data_dir())._replace(free=free * 1024 * 1024)
    monkeypatch.setattr(storage.shutil, "disk_usage", lambda _p: usage)
    assert storage.disk_check().status is status


def test_another_tokens_low_pin_counter_is_named_but_does_not_fail_the_configured_one(
    rsa_token: Provisioned, tokens: dict[object, Provisioned], hsm_dir: Path
) -> None:
    other = create_token(hsm_dir, "colleague", TEST_PIN)  # after `tokens`: module re-init
    assert not logs_in(other.module, other.label, "000000")  # its counter is now low
    write_policy(
        policy_location().path,
        {"pkcs11_module": rsa_token.hsm.module, "token_label": rsa_token.label},
        ["pkcs11_module"],
    )
    try:
        _, checks = _doctor_json()
        tokens_result = checks["tokens"]
        assert tokens_result["status"] == "ok", tokens_result
        assert "'colleague'" in str(tokens_result["summary"])
        # Without a configured token, every token's PIN state counts.
        write_policy(policy_location().path, {"pkcs11_module": rsa_token.hsm.module}, [])
        _, checks = _doctor_json()
        assert checks["tokens"]["status"] == "warning"
    finally:
        assert logs_in(other.module, other.label, TEST_PIN)  # a good login resets the counter
