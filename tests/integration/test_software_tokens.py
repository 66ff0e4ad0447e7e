"""Software tokens: labelled as such, refused for EPCS unless the machine policy allows them."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csos_desktop.config import load_config
from csos_desktop.services import context
from csos_desktop.services.context import DEMO_MARKER, RunContext
from csos_desktop.services.tokens.assurance import software_tokens_allowed
from csos_desktop.store import open_store
from csos_desktop.token.library import load_library
from csos_desktop.token.slots import list_tokens
from tests.conftest import TEST_PIN, Provisioned, Tpm2Tokens
from tests.integration.test_rx_ceremony import rx_file
from tests.launch import command, csos_command
from tests.unit.rx.helpers import permit, practice
from tests.unit.store.helpers import Clock

CSOS = csos_command()


def _env(tmp_path: Path, user: str | None = None) -> dict[str, str]:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True, exist_ok=True)
    if user is not None:
        (home / "config" / "config.toml").write_text(user, encoding="utf-8")
    # Set as a user could: neither variable may unlock anything.
    return dict(os.environ, CSOS_HOME=str(home), CSOS_POLICY_FILE=str(tmp_path / "mine.toml"))


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
    # A fresh CSOS_HOME whose own settings ask for software tokens, and a policy file the
    # user wrote named by CSOS_POLICY_FILE: the machine policy (empty here) decides.
    allow = "[settings]\nallow_software_tokens = true\n"
    (tmp_path / "mine.toml").write_text(allow, encoding="utf-8")
    env = _env(tmp_path, user="allow_software_tokens = true\n")
    with open_store(tmp_path / "home" / "data" / "csos.db") as store:
        clock = Clock(datetime.now(UTC) - timedelta(days=1))
        practice(store, clock)  # Dr Smith may sign with this token: only the policy refuses
        permit(store, clock, certificate_der=rsa_token.certificate_der)
    done = subprocess.run(
        [*command(tmp_path / "machine-policy.toml", "cli"), "rx", "sign", str(rx_file(tmp_path)),
         "--as", "drsmith", "--offline", "--token", rsa_token.label,
         "--module", rsa_token.hsm.module, "--pin-stdin", "--out", str(tmp_path / "out")],
        input=TEST_PIN + "\n", env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "software token — for testing" in done.stderr and "1311.115" in done.stderr
    assert "allow_software_tokens" in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_only_the_machine_policy_or_the_demo_in_process_allows_software_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy.toml"
    user = tmp_path / "config.toml"
    user.write_text("allow_software_tokens = true\n", encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CSOS_HOME", str(home))  # any home, even one with the demo's marker
    (home / DEMO_MARKER).write_text("made by csos demo\n", encoding="utf-8")
    mine = load_config(user_path=user, policy_path=policy)
    assert not software_tokens_allowed(mine)
    monkeypatch.setattr(context, "_current", RunContext(home, mine, demo=True))
    assert software_tokens_allowed(mine)  # `csos demo` in this process, on its home
    monkeypatch.setattr(context, "_current", None)
    policy.write_text("[settings]\nallow_software_tokens = true\n", encoding="utf-8")
    user.write_text("", encoding="utf-8")
    assert software_tokens_allowed(load_config(user_path=user, policy_path=policy))


def test_the_demo_allows_its_software_token_only_on_the_home_it_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context, "_current", None)
    with pytest.raises(RuntimeError):
        context.enter_demo(tmp_path)  # not prepared by csos demo
    (tmp_path / DEMO_MARKER).write_text("made by csos demo\n", encoding="utf-8")
    monkeypatch.setenv("CSOS_HOME", str(tmp_path))
    no_policy = load_config(user_path=tmp_path / "none.toml", policy_path=tmp_path / "none")
    assert not software_tokens_allowed(no_policy)
    context.enter_demo(tmp_path)
    assert context.is_demo_home(tmp_path) and not context.is_demo_home(tmp_path / "other")
    assert software_tokens_allowed(no_policy)
