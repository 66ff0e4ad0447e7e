"""The machine policy comes only from where an administrator writes it.

No environment variable names another file, and on Linux and macOS a policy file (or
folder) that someone other than root owns or can write is refused, with the reason,
rather than unlocking anything.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from csos_desktop import paths
from csos_desktop.config import load_config
from csos_desktop.config import policy as config_policy
from csos_desktop.config.policy import load_policy, write_policy
from csos_desktop.doctor.result import Status
from csos_desktop.doctor.runner import config_check

NOBODY = 65534


def _users_file(path: Path, text: str) -> Path:
    """*text* in a file owned by an ordinary user (this one, or nobody when tests run as root)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)
    return path


def test_csos_policy_file_in_the_environment_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = _users_file(
        tmp_path / "mine.toml",
        '[settings]\nallow_software_tokens = true\ndistributor_url = "https://evil.example"\n',
    )
    monkeypatch.setenv("CSOS_POLICY_FILE", str(mine))
    monkeypatch.setattr(config_policy, "_test_location", None)  # as on a real install
    policy = load_policy()
    assert policy.path == paths.policy_file() != mine
    config = load_config(user_path=tmp_path / "config.toml")
    assert config.get("allow_software_tokens") is False
    assert config.get("distributor_url") != "https://evil.example"


@pytest.mark.skipif(os.name != "posix", reason="file ownership is checked on Linux and macOS")
def test_a_policy_file_a_user_owns_is_refused_and_doctor_names_it(tmp_path: Path) -> None:
    mine = _users_file(
        tmp_path / "etc" / "policy.toml",
        'locked = ["distributor_url"]\n[settings]\ndistributor_url = "https://evil.example"\n'
        "allow_software_tokens = true\n",
    )
    refused = load_policy(mine, admin_only=True)
    assert refused.values == {} and refused.locked == frozenset()
    [problem] = refused.problems
    assert "Machine policy refused" in problem and "not root" in problem
    config = load_config(user_path=tmp_path / "config.toml", policy_path=mine, admin_only=True)
    assert config.get("allow_software_tokens") is False
    shown = config_check(config)
    assert shown.status is Status.WARNING and str(mine) in shown.summary


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="needs root to own a file")
def test_a_root_policy_others_can_write_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "policy.toml"
    path.parent.mkdir()
    path.parent.chmod(0o755)
    write_policy(path, {"allow_software_tokens": True}, [])
    assert load_policy(path, admin_only=True).values == {"allow_software_tokens": True}
    path.chmod(0o664)
    [problem] = load_policy(path, admin_only=True).problems
    assert "can be changed by users other than root" in problem


def test_the_policy_file_is_written_readable_by_all_and_writable_by_its_owner(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.toml"
    write_policy(path, {"distributor_url": "https://csos.example/api"}, ["distributor_url"])
    assert path.stat().st_mode & 0o777 == 0o644
