"""Each test gets its own CSOS_HOME and machine policy path (real files, temp dirs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import machine_policy_at


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    machine_policy_at(monkeypatch, tmp_path / "policy.toml")
    return tmp_path


@pytest.fixture
def policy_path(isolated: Path) -> Path:
    return isolated / "policy.toml"
