"""`csos som check|score|report` and `csos sandbox gen-history`, run as a user would."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from csos_desktop.cli import main

DEA = "AB1234563"
START = date(2024, 1, 1)


def _history_csv(path: Path, weeks: int = 52, extra: str = "") -> Path:
    rows = ["order_id,order_date,purchaser_dea,ndc,drug_code,dosage_units"]
    for w in range(weeks):
        day = START + timedelta(days=7 * w)
        rows.append(f"h{w},{day},{DEA},99101001001,9143,1000")
        rows.append(f"h{w},{day},{DEA},99103-0130-01,2882,500")
    path.write_text("\n".join(rows) + "\n" + extra, encoding="utf-8")
    return path


def _order_json(path: Path, packages: int) -> Path:
    party = {"street": "1 Main St", "city": "Springfield", "state": "IL", "postal_code": "62701"}
    doc = {
        "schema": "csos-order/1",
        "order_number": "24X000123",
        "purchaser": {"name": "Main Street Pharmacy", "address": party, "dea_number": DEA},
        "supplier": {"name": "Keystone Wholesale", "address": party, "dea_number": "RK0452716"},
        "lines": [
            {
                "line_no": 1,
                "ndc": "99101-0010-01",
                "item_name": "Oxycodone HCl",
                "strength": "5 mg",
                "dosage_form": "tablet",
                "package_size": 100,
                "quantity": packages,
                "schedule": "2",
            },
        ],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


AS_OF = str(START + timedelta(days=7 * 52))


def test_check_prints_the_decision_and_the_explanation(tmp_path: Path) -> None:
    h, o = _history_csv(tmp_path / "h.csv"), _order_json(tmp_path / "o.json", 41)
    r = CliRunner().invoke(main, ["som", "check", str(o), "--history", str(h), "--as-of", AS_OF])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("WARN: order ")
    assert (
        "[warn] size: Oxycodone (9143): 4,100 units this order, 4.1× the 12-month median of 1,000;"
        " policy limit 2.75×." in r.output
    )


def test_check_json_carries_every_flag_figure(tmp_path: Path) -> None:
    h, o = _history_csv(tmp_path / "h.csv"), _order_json(tmp_path / "o.json", 10)
    r = CliRunner().invoke(
        main, ["som", "check", str(o), "--history", str(h), "--as-of", AS_OF, "--json"]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["decision"] == "ok" and doc["flags"] == [] and doc["purchaser_dea"] == DEA


def test_check_refuses_a_history_with_bad_rows_naming_the_line(tmp_path: Path) -> None:
    bad = f"x1,2024-06-03,{DEA},99101001001,9143,-5\n"
    h, o = _history_csv(tmp_path / "h.csv", extra=bad), _order_json(tmp_path / "o.json", 10)
    args = ["som", "check", str(o), "--history", str(h), "--as-of", AS_OF]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2
    assert "line 106, dosage_units: -5 is negative" in r.output
    r = CliRunner().invoke(main, [*args, "--skip-bad-rows"])
    assert r.exit_code == 0 and "warning:" in r.output and "line 106" in r.output


def test_gen_history_then_score_writes_one_row_per_order(tmp_path: Path) -> None:
    h, o, flags = tmp_path / "h.csv", tmp_path / "o.csv", tmp_path / "flags.csv"
    customers, labels = tmp_path / "c.csv", tmp_path / "l.csv"
    r = CliRunner().invoke(
        main,
        [
            "sandbox",
            "gen-history",
            "--out",
            str(h),
            "--orders-out",
            str(o),
            "--pharmacies",
            "8",
            "--days",
            "500",
            "--warmup-days",
            "300",
            "--start",
            "2023-01-02",
            "--anomalies",
            "3",
            "--customers",
            str(customers),
            "--labels",
            str(labels),
            "--seed",
            "4",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "planted:" in r.output
    r = CliRunner().invoke(
        main,
        [
            "som",
            "score",
            "--history",
            str(h),
            "--orders",
            str(o),
            "--out",
            str(flags),
            "--customers",
            str(customers),
        ],
    )
    assert r.exit_code == 0, r.output
    with flags.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with o.open(encoding="utf-8") as f:
        order_ids = list(dict.fromkeys(row["order_id"] for row in csv.DictReader(f)))
    assert [row["order_id"] for row in rows] == order_ids
    assert {row["decision"] for row in rows} <= {"ok", "warn", "intercept"}
    flagged = [row for row in rows if row["decision"] != "ok"]
    assert flagged and all(row["explanation"] and row["kinds"] for row in flagged)
    assert all(set(row["kinds"].split(";")) <= {"size", "frequency", "pattern"} for row in flagged)
    assert all(
        not row["kinds"] and not row["explanation"] for row in rows if row["decision"] == "ok"
    )


def test_report_writes_a_png_chart(tmp_path: Path) -> None:
    h, o = _history_csv(tmp_path / "h.csv"), _order_json(tmp_path / "o.json", 41)
    png = tmp_path / "chart.png"
    r = CliRunner().invoke(
        main, ["som", "report", str(o), "--history", str(h), "--as-of", AS_OF, "--out", str(png)]
    )
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Chart written to" in r.output


@pytest.mark.parametrize("family", ["9801"])
def test_report_refuses_a_family_not_on_the_order(tmp_path: Path, family: str) -> None:
    h, o = _history_csv(tmp_path / "h.csv"), _order_json(tmp_path / "o.json", 41)
    r = CliRunner().invoke(
        main,
        [
            "som",
            "report",
            str(o),
            "--history",
            str(h),
            "--as-of",
            AS_OF,
            "--out",
            str(tmp_path / "c.png"),
            "--family",
            family,
        ],
    )
    assert r.exit_code == 2 and "no controlled line of that drug family" in r.output


def test_score_judges_ndcs_outside_the_catalogue_by_their_drug_code(tmp_path: Path) -> None:
    # A distributor's real NDCs: none is in the catalogue, every row carries its DEA code.
    rows = ["order_id,order_date,purchaser_dea,ndc,drug_code,dosage_units"]
    for w in range(52):
        rows.append(f"h{w},{START + timedelta(days=7 * w)},{DEA},00406-0552-01,9143,1000")
    history = tmp_path / "h.csv"
    history.write_text("\n".join(rows) + "\n", encoding="utf-8")
    orders = tmp_path / "o.csv"
    later = START + timedelta(days=7 * 52)
    orders.write_text(
        f"{rows[0]}\nn1,{later},{DEA},00406-0552-01,9143,1000\n"
        f"n2,{later + timedelta(days=7)},{DEA},00406-0552-01,9143,5000\n"
        f"n3,{later + timedelta(days=7)},{DEA},00406-0552-01,1234,50\n",
        encoding="utf-8",
    )
    out = tmp_path / "flags.csv"
    args = ["som", "score", "--history", str(history), "--orders", str(orders), "--out", str(out)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code != 0
    assert "line 4, drug_code: 1234 is not a DEA controlled-substance code" in refused.output
    r = CliRunner().invoke(main, [*args, "--skip-bad-rows"])
    assert r.exit_code == 0, r.output
    assert "NDC 00406-0552-01 is not in the product catalogue: judged as drug code 9143" in (
        r.output
    )
    # Once per NDC, not per row: 52 history rows and the two good orders.
    assert r.output.count("not in the product catalogue") == 1
    assert "without the strength/form check (54 rows)" in r.output
    flags = {row["order_id"]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    assert flags["n1"]["decision"] == "ok"
    assert flags["n2"]["decision"] == "warn"
    assert flags["n2"]["explanation"].startswith("Oxycodone (9143): 5,000 units this order")
