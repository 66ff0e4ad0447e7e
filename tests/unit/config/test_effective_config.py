"""User settings, machine policy and locks, read from real files."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from csos_desktop import paths
from csos_desktop.cli import main
from csos_desktop.config import Source, load_config, set_value, unset_value
from csos_desktop.config.effective import SettingLocked
from csos_desktop.config.policy import load_policy, policy_text
from csos_desktop.config.settings import SettingInvalid
from csos_desktop.config.toml_file import ConfigFileInvalid, dumps

URL = "https://csos.distributor.example/api"
MODULE = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


def _policy(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_defaults_apply_when_no_file_exists() -> None:
    cfg = load_config()
    assert cfg.get("distributor_url") is None
    assert cfg.values["log_level"].source is Source.DEFAULT
    assert cfg.get("sync_interval_minutes") == 15
    assert not cfg.policy.exists and cfg.problems == ()


def test_locked_policy_value_wins_over_the_users_value(policy_path: Path) -> None:
    _policy(policy_path, f'locked = ["distributor_url"]\n[settings]\ndistributor_url = "{URL}"\n')
    paths.config_dir().joinpath("config.toml").write_text(
        'distributor_url = "https://elsewhere.example"\n', encoding="utf-8"
    )
    v = load_config().values["distributor_url"]
    assert (v.value, v.source, v.locked) == (URL, Source.POLICY_LOCKED, True)
    assert v.ignored_user_value == "https://elsewhere.example"


def test_unlocked_policy_value_is_a_machine_default_the_user_may_override(
    policy_path: Path,
) -> None:
    _policy(policy_path, f'[settings]\npkcs11_module = "{MODULE}"\nlog_level = "WARNING"\n')
    cfg = load_config()
    assert cfg.values["pkcs11_module"].source is Source.POLICY
    set_value("log_level", "debug")
    cfg = load_config()
    assert (cfg.get("log_level"), cfg.values["log_level"].source) == ("DEBUG", Source.USER)
    assert unset_value("log_level").source is Source.POLICY


def test_setting_a_locked_key_is_refused_and_the_file_is_untouched(policy_path: Path) -> None:
    _policy(policy_path, policy_text({"distributor_url": URL}, ["distributor_url"]))
    with pytest.raises(SettingLocked, match="Set by your IT administrator"):
        set_value("distributor_url", "https://elsewhere.example")
    assert not (paths.config_dir() / "config.toml").exists()


def test_a_lock_without_a_value_pins_the_default(policy_path: Path) -> None:
    _policy(policy_path, 'locked = ["som_warnings"]\n')
    with pytest.raises(SettingLocked):
        set_value("som_warnings", "false")
    assert load_config().get("som_warnings") is True


@pytest.mark.parametrize(
    "url",
    ["http://csos.example", "https://user:pw@csos.example", "csos.example", "ftp://csos.example"],
)
def test_distributor_url_must_be_https_without_credentials(url: str) -> None:
    with pytest.raises(SettingInvalid) as err:
        set_value("distributor_url", url)
    assert "pw" not in err.value.message


def test_bad_values_and_unknown_keys_in_the_policy_are_reported_not_fatal(
    policy_path: Path,
) -> None:
    _policy(
        policy_path,
        'locked = ["nope"]\n[settings]\nsync_interval_minutes = "often"\ncolour = "blue"\n',
    )
    cfg = load_config()
    assert cfg.get("sync_interval_minutes") == 15
    text = " ".join(cfg.problems)
    assert "nope" in text and "colour" in text and "whole number" in text


def test_unreadable_policy_is_reported_and_defaults_apply(policy_path: Path) -> None:
    _policy(policy_path, "locked = [\n")
    cfg = load_config()
    assert cfg.policy.exists and "not valid TOML" in cfg.problems[0]
    assert cfg.get("distributor_url") is None


def test_set_refuses_to_rewrite_a_user_file_it_cannot_parse() -> None:
    user = paths.config_dir() / "config.toml"
    user.write_text("log_level = \n", encoding="utf-8")
    with pytest.raises(ConfigFileInvalid):
        set_value("log_level", "DEBUG")
    assert user.read_text(encoding="utf-8") == "log_level = \n"


def test_set_keeps_keys_this_version_does_not_know() -> None:
    user = paths.config_dir() / "config.toml"
    user.write_text('future_key = "kept"\n', encoding="utf-8")
    set_value("token_label", "Main Street")
    data = tomllib.loads(user.read_text(encoding="utf-8"))
    assert data == {"future_key": "kept", "token_label": "Main Street"}


def test_cli_show_json_names_the_source_of_each_value(policy_path: Path) -> None:
    _policy(
        policy_path,
        policy_text({"distributor_url": URL, "pkcs11_module": MODULE}, ["distributor_url"]),
    )
    runner = CliRunner()
    assert runner.invoke(main, ["config", "set", "token_label", "Front Desk"]).exit_code == 0
    out = runner.invoke(main, ["config", "show", "--json"])
    assert out.exit_code == 0, out.output
    settings = {s["key"]: s for s in json.loads(out.output)["settings"]}
    assert settings["distributor_url"]["source"] == "policy (locked)"
    assert settings["pkcs11_module"]["source"] == "policy"
    assert settings["token_label"] == {
        "key": "token_label",
        "value": "Front Desk",
        "source": "user",
        "locked": False,
        "ignored_user_value": None,
    }
    text = runner.invoke(main, ["config", "show"]).output
    assert "policy (locked)" in text and str(policy_path) in text


def test_cli_set_on_a_locked_key_says_who_set_it(policy_path: Path) -> None:
    _policy(policy_path, policy_text({"distributor_url": URL}, ["distributor_url"]))
    out = CliRunner().invoke(main, ["config", "set", "distributor_url", "https://x.example"])
    assert out.exit_code == 3
    assert "Set by your IT administrator" in out.output


def test_write_policy_as_an_installer_runs_it(policy_path: Path) -> None:
    # The MSI passes every public property, empty ones included.
    out = CliRunner().invoke(
        main,
        [
            "config",
            "write-policy",
            "--set",
            f"distributor_url={URL}",
            "--set",
            f"pkcs11_module={MODULE}",
            "--set",
            "ca_bundle=",
            "--lock-set",
        ],
    )
    assert out.exit_code == 0, out.output
    policy = load_policy()
    assert policy.values == {"distributor_url": URL, "pkcs11_module": MODULE}
    assert policy.locked == {"distributor_url", "pkcs11_module"}
    assert policy.problems == ()


def test_windows_and_linux_policy_locations(monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither variable moves the machine policy: a user can set both.
    monkeypatch.setenv("CSOS_POLICY_FILE", "/tmp/mine.toml")
    monkeypatch.setenv("PROGRAMDATA", "/tmp")
    assert paths.policy_file("linux") == Path("/etc/csos-desktop/policy.toml")
    assert paths.policy_file("win32") == Path("C:/ProgramData/CSOS Desktop/policy.toml")


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@given(
    st.dictionaries(
        st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
        st.one_of(_text, st.integers(-(10**9), 10**9), st.booleans(), st.lists(_text, max_size=4)),
        max_size=6,
    )
)
def test_written_toml_reads_back_identically(data: dict[str, object]) -> None:
    assert tomllib.loads(dumps(data)) == data
