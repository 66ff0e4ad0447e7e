"""`csos order export --format x12`: the order as an 850, a new control number each time, kept."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from csos_desktop.cli import main
from csos_desktop.domain.x12.order850 import read_850
from csos_desktop.store import open_store
from tests.unit.store.helpers import order_input


def csos(home: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main, list(args), env={"CSOS_HOME": str(home)}, catch_exceptions=False
    )


def test_export_x12_writes_the_stored_order_as_an_850_with_a_fresh_control_number(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    (tmp_path / "o.json").write_text(json.dumps(order_input()))
    imported = csos(home, "order", "import", str(tmp_path / "o.json"), "--json")
    assert imported.exit_code == 0, imported.output
    order_id = json.loads(imported.output)[0]["order_id"]

    first = csos(home, "order", "export", "--format", "x12", order_id)
    assert first.exit_code == 0, first.output
    written = csos(home, "order", "export", "--format", "x12", order_id, "--out", str(tmp_path))
    assert written.exit_code == 0, written.output
    second = (tmp_path / f"{order_id}.850.x12").read_bytes()

    with open_store(home / "data" / "csos.db") as store:
        stored = store.orders.order(order_id)
        kept = store.x12.for_order(order_id)
        trail = [e.details for e in store.audit.entries(order_id=order_id)]
    assert read_850(first.stdout_bytes) == read_850(second) == stored
    assert [k.document for k in kept] == [first.stdout_bytes, second]
    assert [k.control_number for k in kept] == [1, 2]
    assert b"*000000001*" in first.stdout_bytes and b"*000000002*" in second
    assert {"format": "x12-850", "control_number": 2} in trail


def test_export_record_still_needs_a_directory(tmp_path: Path) -> None:
    result = csos(tmp_path / "home", "order", "export", "no-such-order")
    assert result.exit_code == 2 and "--out" in result.output
