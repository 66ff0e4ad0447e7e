"""1305/1311 audit: a setting changed and a certificate installed are in the hash chain."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from csos_desktop.cli import main
from csos_desktop.store import open_store


def test_config_set_and_unset_are_audited(tmp_path: Path) -> None:
    env = {"CSOS_HOME": str(tmp_path)}
    runner = CliRunner()
    done = runner.invoke(main, ["config", "set", "log_level", "DEBUG"], env=env)
    assert done.exit_code == 0, done.output
    runner.invoke(main, ["config", "unset", "log_level"], env=env)
    with open_store(tmp_path / "data" / "csos.db") as store:
        changes = [e for e in store.audit.entries() if e.event == "settings.changed"]
        assert [e.details["action"] for e in changes] == ["set", "unset"]
        assert changes[0].details["key"] == "log_level" and changes[0].details["value"] == "DEBUG"
        assert store.audit.verify().intact
    assert json.loads(runner.invoke(main, ["audit", "verify", "--json"], env=env).output)["intact"]
