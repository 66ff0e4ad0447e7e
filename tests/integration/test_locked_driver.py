"""A PKCS#11 driver IT locked in the machine policy: --module and the variable cannot move it.

Run as a user would: `csos` in a child process under the test's machine policy (the
fixtures' seam), with the flag on the command line or the variable in its environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from csos_desktop.config.policy import write_policy
from tests.conftest import Provisioned
from tests.launch import command

REFUSED = "Your IT administrator set the PKCS#11 driver to"


def _policy(tmp_path: Path, module: str, *, locked: bool) -> Path:
    path = tmp_path / "machine-policy.toml"
    write_policy(path, {"pkcs11_module": module}, ["pkcs11_module"] if locked else [])
    return path


@pytest.fixture
def other_driver(rsa_token: Provisioned, tmp_path: Path) -> str:
    """Another driver file that loads and finds the same tokens (a copy of SoftHSM2's)."""
    copy = tmp_path / "other-pkcs11.so"
    shutil.copy(rsa_token.hsm.module, copy)
    return str(copy)


def _csos(
    policy: Path, *args: str, driver_variable: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CSOS_PKCS11_MODULE"}
    if driver_variable is not None:
        env["CSOS_PKCS11_MODULE"] = driver_variable
    return subprocess.run(
        [*command(policy, "cli"), *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _doctor_driver_check(policy: Path, driver_variable: str | None = None) -> dict[str, Any]:
    doctor = _csos(policy, "doctor", "--json", "--timeout", "1", driver_variable=driver_variable)
    (check,) = (c for c in json.loads(doctor.stdout)["checks"] if c["check"] == "pkcs11_module")
    return dict(check)


def test_a_locked_driver_refuses_another_by_flag_or_variable(
    rsa_token: Provisioned, other_driver: str, tmp_path: Path
) -> None:
    policy = _policy(tmp_path, rsa_token.hsm.module, locked=True)
    by_flag = _csos(policy, "token", "list", "--module", other_driver)
    by_variable = _csos(policy, "token", "list", driver_variable=other_driver)
    for done, named in ((by_flag, "--module names"), (by_variable, "CSOS_PKCS11_MODULE names")):
        assert done.returncode != 0, done.stdout
        assert f"{REFUSED} {rsa_token.hsm.module}" in done.stderr, done.stderr
        assert str(policy) in done.stderr and named in done.stderr
        assert "'csos-rsa'" not in done.stdout


def test_the_locked_driver_itself_works_and_doctor_says_why(
    rsa_token: Provisioned, tmp_path: Path
) -> None:
    policy = _policy(tmp_path, rsa_token.hsm.module, locked=True)
    for done in (
        _csos(policy, "token", "list"),
        _csos(policy, "token", "list", "--module", rsa_token.hsm.module),
        _csos(policy, "token", "list", driver_variable=rsa_token.hsm.module),
    ):
        assert done.returncode == 0, done.stderr
        assert "'csos-rsa'" in done.stdout
    check = _doctor_driver_check(policy)
    assert check["status"] == "ok"
    assert check["details"]["source"] == f"machine policy (locked, {policy})"
    assert f"chosen by machine policy (locked, {policy})" in check["summary"]


def test_doctor_names_the_refusal_and_its_fix(
    rsa_token: Provisioned, other_driver: str, tmp_path: Path
) -> None:
    policy = _policy(tmp_path, rsa_token.hsm.module, locked=True)
    check = _doctor_driver_check(policy, driver_variable=other_driver)
    assert check["status"] == "error" and REFUSED in check["summary"]
    assert "unset CSOS_PKCS11_MODULE" in check["fix"]


def test_an_unlocked_driver_still_gives_way_to_the_variable(
    rsa_token: Provisioned, tmp_path: Path
) -> None:
    policy = _policy(tmp_path, str(tmp_path / "absent-vendor-pkcs11.so"), locked=False)
    done = _csos(policy, "token", "list", driver_variable=rsa_token.hsm.module)
    assert done.returncode == 0, done.stderr
    assert "'csos-rsa'" in done.stdout
