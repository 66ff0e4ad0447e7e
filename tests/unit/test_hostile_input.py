"""The JSON and CSV importers on crafted input: `error:` and exit 2, never a traceback.

Inputs from the adversarial review: a JSON integer over 4,300 digits (Python's int limit),
nesting deeper than the recursion limit, CSV cells like `²` (a digit to str.isdigit but
not to int), cells over csv's 128 KiB field limit, NUL bytes, 1e400 and nan as numbers,
and text that is not UTF-8.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from csos_desktop.cli import main
from csos_desktop.domain.errors import InputError
from csos_desktop.fileio import read_json_object
from tests.unit.domain.samples import sample_order_input
from tests.unit.domain.test_order_csv import csv_of
from tests.unit.som.test_cli import AS_OF, _history_csv, _order_json

HOSTILE_JSON = {
    "huge-integer": b'{"schema": "csos-order/1", "n": ' + b"9" * 5000 + b"}",
    "deeply-nested": b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "not-utf8": b'{"name": "\xff\xfe"}',
}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_clean_refusal(result: Result) -> None:
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # not an escaped exception
    assert "error:" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("raw", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_order_import_refuses_hostile_json(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "orders.json"
    path.write_bytes(raw)
    assert_clean_refusal(run("order", "import", str(path)))


@pytest.mark.parametrize("raw", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_single_document_reader_refuses_hostile_json(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "order.json"
    path.write_bytes(raw)
    with pytest.raises(InputError):
        read_json_object(path, "an order")


def _csv_with_quantity(value: str) -> str:
    text = csv_of({"A": sample_order_input()})
    header, first, *rest = text.splitlines()
    cells = first.split(",")
    cells[header.split(",").index("quantity")] = value
    return "\n".join([header, ",".join(cells), *rest]) + "\n"


@pytest.mark.parametrize(
    "cell",
    ["²", "٣", "9" * 5000, "x" * (200 * 1024), "1\x002"],
    ids=["superscript-two", "arabic-digit", "5000-digits", "200KiB-cell", "nul-byte"],
)
def test_order_import_refuses_hostile_csv_cells(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(_csv_with_quantity(cell), encoding="utf-8")
    result = run("order", "import", str(path))
    assert_clean_refusal(result)
    assert "row 2" in result.output or "line 2" in result.output


@pytest.mark.parametrize(
    "units",
    ["1e400", "nan", "inf", "x" * (200 * 1024), "\xb2"],
    ids=["1e400", "nan", "inf", "200KiB-cell", "superscript-two"],
)
def test_som_history_refuses_hostile_cells(tmp_path: Path, units: str) -> None:
    bad = f"x1,2024-06-03,AB1234563,99101001001,9143,{units}\n"
    h, o = _history_csv(tmp_path / "h.csv", extra=bad), _order_json(tmp_path / "o.json", 10)
    result = run("som", "check", str(o), "--history", str(h), "--as-of", AS_OF)
    assert_clean_refusal(result)
    assert "line 106" in result.output


def test_som_history_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    h, o = _history_csv(tmp_path / "h.csv"), _order_json(tmp_path / "o.json", 10)
    h.write_bytes(h.read_bytes() + b"x1,2024-06-03,\xff\xfe,99101001001,9143,1\n")
    assert_clean_refusal(run("som", "check", str(o), "--history", str(h), "--as-of", AS_OF))


@pytest.mark.parametrize("raw", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_som_policy_file_refuses_hostile_json(tmp_path: Path, raw: bytes) -> None:
    h, o = _history_csv(tmp_path / "h.csv"), _order_json(tmp_path / "o.json", 10)
    policy = tmp_path / "policy.json"
    policy.write_bytes(raw)
    result = run(
        "som", "check", str(o), "--history", str(h), "--as-of", AS_OF, "--policy", str(policy)
    )
    assert_clean_refusal(result)


@pytest.mark.parametrize(
    "raw",
    [b"purchaser_dea,customer_class\nAB1234563," + b"x" * (200 * 1024) + b"\n", b"\xff\xfe\n"],
    ids=["200KiB-cell", "not-utf8"],
)
def test_som_customer_classes_refuse_hostile_csv(tmp_path: Path, raw: bytes) -> None:
    h = _history_csv(tmp_path / "h.csv")
    customers = tmp_path / "c.csv"
    customers.write_bytes(raw)
    result = run(
        "som",
        "score",
        "--history",
        str(h),
        "--orders",
        str(h),
        "--out",
        str(tmp_path / "flags.csv"),
        "--customers",
        str(customers),
    )
    assert_clean_refusal(result)
