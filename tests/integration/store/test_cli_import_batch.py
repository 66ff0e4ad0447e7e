"""`csos order import A B C ...`: a batch of files in one call pays start-up once.

Each file stays all or nothing; a refused file does not stop the others and is named
at the end, so the pharmacist re-imports only that one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from csos_desktop.cli import main
from tests.unit.domain.test_order_csv import csv_of
from tests.unit.store.helpers import order_input


def csos(home: Path, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"CSOS_HOME": str(home)})


def listed(home: Path) -> list[dict[str, object]]:
    result = csos(home, "order", "list", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_several_files_in_one_call_become_drafts_in_order(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (tmp_path / "two.json").write_text(json.dumps([order_input(), order_input()]))
    (tmp_path / "one.json").write_text(json.dumps(order_input()))
    (tmp_path / "rows.csv").write_text(csv_of({"A": order_input()}))
    files = [str(tmp_path / n) for n in ("two.json", "one.json", "rows.csv")]

    done = csos(home, "order", "import", *files, "--json")

    assert done.exit_code == 0, done.output
    created = json.loads(done.stdout)
    assert len(created) == 4
    assert [r["order_id"] for r in listed(home)] == [r["order_id"] for r in created]
    numbers = [str(r["order_number"]) for r in created]
    assert [n[3:] for n in numbers] == ["000001", "000002", "000003", "000004"]


def test_a_refused_file_is_named_and_the_others_are_imported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad_order = order_input()
    bad_order["lines"][0]["quantity"] = 0
    (tmp_path / "a.json").write_text(json.dumps(order_input()))
    (tmp_path / "broken.json").write_text('{"supplier": ')
    (tmp_path / "invalid.json").write_text(json.dumps([order_input(), bad_order]))
    (tmp_path / "b.json").write_text(json.dumps(order_input()))
    names = ("a.json", "broken.json", "invalid.json", "b.json", "missing.json")

    done = csos(home, "order", "import", *(str(tmp_path / n) for n in names))

    assert done.exit_code == 2
    assert done.stdout.count("created") == 2  # a.json and b.json
    assert "3 of 5 files were not imported; the others were" in done.stderr
    assert "broken.json: the file is not valid JSON" in done.stderr
    assert "invalid.json: Nothing was imported" in done.stderr
    assert "order 2: " in done.stderr and "quantity" in done.stderr
    assert "missing.json" in done.stderr
    assert len(listed(home)) == 2  # nothing of invalid.json half-imported


def test_a_file_named_twice_is_imported_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (tmp_path / "o.json").write_text(json.dumps(order_input()))
    done = csos(home, "order", "import", str(tmp_path / "o.json"), str(tmp_path / "o.json"))
    assert done.exit_code == 0, done.output
    assert len(listed(home)) == 1


def test_import_needs_at_least_one_file(tmp_path: Path) -> None:
    done = csos(tmp_path / "home", "order", "import")
    assert done.exit_code == 2 and "Missing argument 'ORDER_FILES...'" in done.output


def test_a_csv_saved_by_excel_on_windows_imports_with_its_accents(tmp_path: Path) -> None:
    # Excel's "CSV (Comma delimited)" is Windows-1252, not UTF-8, with CRLF line ends.
    home = tmp_path / "home"
    order = order_input()
    order["purchaser"]["name"] = "Pharmacie Générale"
    text = csv_of({"A": order}).replace("\r\n", "\n").replace("\n", "\r\n")
    (tmp_path / "excel.csv").write_bytes(text.encode("cp1252"))
    with pytest.raises(UnicodeDecodeError):
        (tmp_path / "excel.csv").read_bytes().decode("utf-8")  # not UTF-8 indeed

    done = csos(home, "order", "import", str(tmp_path / "excel.csv"), "--json")

    assert done.exit_code == 0, done.output
    [created] = json.loads(done.stdout)
    shown = csos(home, "order", "show", str(created["order_id"]), "--json")
    assert "Pharmacie Générale" in json.dumps(json.loads(shown.stdout), ensure_ascii=False)
