"""Software tokens: labelled as such, refused for EPCS unless the machine policy allows them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from csos_desktop.config import load_config
from csos_desktop.services.tokens.assurance import software_tokens_allowed
from csos_desktop.token.library import load_library
from csos_desktop.token.slots import list_tokens
from tests.conftest import TEST_PIN, Provisioned, Tpm2Tokens
from tests.integration.test_rx_ceremony import rx_file

CSOS = [sys.executable, "-m", "csos_desktop"]


def _env(tmp_path: Path, policy: str | None, user: str | None = None) -> dict[str, str]:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True, exist_ok=True)
    if user is not None:
        (home / "config" / "config.toml").write_text(user, encoding="utf-8")
    policy_file = tmp_path / "policy.toml"
    if policy is not None:
        policy_file.write_text(policy, encoding="utf-8")
    return dict(os.environ, CSOS_HOME=str(home), CSOS_POLICY_FILE=str(policy_file))


def test_softhsm_and_the_simulated_tpm_are_software_tokens(
    rsa_token: Provisioned, tpm2_tokens: Tpm2Tokens
) -> None:
    soft = {t.label: t for t in list_tokens(load_library(rsa_token.hsm.module))}
    assert (
        soft["csos-rsa"].software and soft["csos-rsa"].kind_text == "software token — for testing"
    )
    tpm = tpm2_tokens.provisioned
    (any_tpm,) = {p.hsm.module for p in tpm.values()}
    assert all(t.software for t in list_tokens(load_library(any_tpm)))


def test_token_list_labels_a_software_token(rsa_token: Provisioned) -> None:
    out = subprocess.run(
        [*CSOS, "token", "list", "--module", rsa_token.hsm.module],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert "'csos-rsa'" in out and "software token — for testing" in out


def test_epcs_signing_on_a_software_token_is_refused_before_the_pin(
    rsa_token: Provisioned, tmp_path: Path
) -> None:
    env = _env(tmp_path, policy=None)  # no policy: the rule applies
    done = subprocess.run(
        [*CSOS, "rx", "sign", str(rx_file(tmp_path)), "--token", rsa_token.label,
         "--module", rsa_token.hsm.module, "--pin-stdin", "--out", str(tmp_path / "out")],
        input=TEST_PIN + "\n", env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "software token — for testing" in done.stderr and "1311.115" in done.stderr
    assert "allow_software_tokens" in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_only_the_policy_or_an_isolated_home_can_allow_software_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy.toml"
    user = tmp_path / "config.toml"
    user.write_text("allow_software_tokens = true\n", encoding="utf-8")
    monkeypatch.setenv("CSOS_POLICY_FILE", str(policy))
    monkeypatch.delenv("CSOS_HOME")  # a real install: the user's own file does not count
    assert not software_tokens_allowed(load_config(user_path=user, policy_path=policy))
    monkeypatch.setenv("CSOS_HOME", str(tmp_path))  # demo / sandbox home
    assert software_tokens_allowed(load_config(user_path=user, policy_path=policy))
    monkeypatch.delenv("CSOS_HOME")
    policy.write_text("[settings]\nallow_software_tokens = true\n", encoding="utf-8")
    user.write_text("", encoding="utf-8")
    assert software_tokens_allowed(load_config(user_path=user, policy_path=policy))
