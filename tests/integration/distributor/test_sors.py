"""Suspicious-order reports for DEA's SORS (21 U.S.C. 832, 21 CFR 1301.74(b)).

The running sandbox distributor judges real signed orders with the SOM engine and its
published policy against two years of seeded history; what it held is written as the
report, through the distributor and through `csos sandbox sors-report`.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from csos_desktop.cli import main
from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.domain.order import Order, parse_order_input
from csos_desktop.sandbox.distributor.db import history
from csos_desktop.sandbox.distributor.resources import ServedDocuments
from csos_desktop.sandbox.distributor.seed import seed_history
from csos_desktop.sandbox.distributor.som_hook import EngineSomPolicy
from csos_desktop.sandbox.distributor.sors import COLUMNS
from tests.conftest import PURCHASER_DEA, Provisioned
from tests.integration.distributor.conftest import Sandbox, StartSandbox, signed
from tests.unit.domain.samples import sample_order_input


def _order(sandbox: Sandbox, number: str, times_usual: int) -> tuple[Order, int]:
    """An order of the customer's most-ordered product, *times_usual* its usual quantity."""
    with sandbox.running.distributor.engine.connect() as conn:
        past = conn.execute(select(history.c.ndc, history.c.dosage_units)).all()
    ndc, _ = Counter(r.ndc for r in past).most_common(1)[0]
    product = bundled_catalogue().product(ndc)
    assert product is not None
    units = sorted(r.dosage_units for r in past if r.ndc == ndc)
    packages = times_usual * max(1, units[len(units) // 2] // product.package_size)
    now = datetime.now(UTC)
    data = sample_order_input()
    data["order_number"] = f"{now:%y}X{number}"
    data["lines"] = [
        {
            "line_no": 1,
            "ndc": ndc,
            "item_name": product.item_name,
            "strength": product.strength,
            "dosage_form": product.dosage_form,
            "package_size": product.package_size,
            "quantity": packages,
            "schedule": product.schedule.value,
        }
    ]
    return parse_order_input(data, now=now), packages


def test_held_orders_are_reported_for_sors_with_why_and_the_due_diligence(
    start_sandbox: StartSandbox, rsa_token: Provisioned, tmp_path: Path
) -> None:
    docs = ServedDocuments.load()
    sandbox = start_sandbox(som=EngineSomPolicy(docs.policy, docs.catalogue))
    distributor = sandbox.running.distributor
    seed_history(distributor.engine, PURCHASER_DEA, today=datetime.now(UTC).date())
    usual, _ = _order(sandbox, "000301", 1)
    huge, packages = _order(sandbox, "000302", 50)
    huge2, _ = _order(sandbox, "000303", 50)
    with sandbox.client() as client:
        ids = {}
        for name, order in (("usual", usual), ("huge", huge), ("huge2", huge2)):
            document, signature, key = signed(rsa_token, sandbox.ca, order=order)
            ids[name] = key
            record = client.submit_order(key, document, signature)
            assert (record.status == "intercepted") == (name != "usual"), record.som
    note = "Called the pharmacy: a hospice opened nearby; purchase invoices reviewed."
    distributor.release(ids["huge2"], reviewer="Sam Reviewer", due_diligence=note)
    distributor.fulfil()

    report = distributor.sors_report()
    assert (report.orders, report.rows) == (2, 2)
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert tuple(rows[0]) == COLUMNS
    held, released = rows
    assert held["ORDER_NUMBER"] == huge.order_number
    assert held["REPORTER_DEA_NUMBER"] == distributor.identity.dea_number
    assert held["BUYER_DEA_NUMBER"] == PURCHASER_DEA
    assert (held["BUYER_STREET"], held["BUYER_ZIP"]) == ("120 Main Street", "62701")
    assert held["ORDER_DATE"] == datetime.now(UTC).strftime("%m%d%Y")
    assert held["NDC"] == huge.lines[0].ndc.digits and held["DRUG_CODE"]
    assert int(held["PACKAGES_ORDERED"]) == packages
    assert int(held["DOSAGE_UNITS"]) == packages * huge.lines[0].package_size
    assert held["SUSPICIOUS_BECAUSE"].startswith("size: ")  # 21 U.S.C. 802(57): unusual size
    assert (held["ORDER_FILLED"], held["DISPOSITION"], held["DUE_DILIGENCE"]) == ("N", "held", "")
    assert released["ORDER_NUMBER"] == huge2.order_number
    assert released["ORDER_FILLED"] == "Y"
    assert released["DISPOSITION"].startswith("released by Sam Reviewer on ")
    assert released["DUE_DILIGENCE"] == note

    out = tmp_path / "sors.csv"
    done = CliRunner().invoke(
        main,
        [
            "sandbox",
            "sors-report",
            "--dir",
            str(sandbox.ca.directory),
            "--database-url",
            str(distributor.engine.url),
            "--out",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert done.exit_code == 0, done.output
    assert "2 suspicious order(s), 2 row(s)" in done.output
    assert out.read_bytes() == report.text.encode("utf-8")  # CRLF rows, as written
