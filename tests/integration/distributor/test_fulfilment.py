"""Shipping (1305.22(d)), balances within 60 days (1305.22(e)), the feed and 1305.29 reports."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from csos_desktop.sandbox.distributor.arcos import Transaction, transaction_record
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentMode
from csos_desktop.sandbox.distributor.reports import arcos_path, due_by, report_path
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import StartSandbox, signed


def test_ship_all_links_containers_and_ship_date_to_each_line(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    document, signature, key = signed(rsa_token, sandbox.ca)
    with sandbox.client() as client:
        client.submit_order(key, document, signature)
        sandbox.running.distributor.fulfil()
        record = client.order(key)
    today = datetime.now(UTC).date()
    assert record.status == "shipped"
    assert [(x.quantity_shipped, x.shipments) for x in record.lines] == [
        (2, ((2, today),)),
        (1, ((1, today),)),
        (3, ((3, today),)),
    ]


def test_partial_fill_ships_the_balance_on_a_later_pass(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox(mode=FulfilmentMode.PARTIAL, balance_delay=timedelta(hours=1))
    document, signature, key = signed(rsa_token, sandbox.ca)
    distributor = sandbox.running.distributor
    with sandbox.client() as client:
        client.submit_order(key, document, signature)
        distributor.fulfil()
        first = client.order(key)
        distributor.fulfil()  # too early for the balance
        assert client.order(key).lines == first.lines
        distributor.fulfil(now=datetime.now(UTC) + timedelta(hours=2))
        final = client.order(key)
    assert first.status == "shipped-partial"
    assert [x.quantity_shipped for x in first.lines] == [1, 0, 1]
    assert final.status == "shipped"
    assert [[c for c, _ in x.shipments] for x in final.lines] == [[1, 1], [1], [1, 2]]


def test_backorder_ships_nothing_first_then_everything(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox(mode=FulfilmentMode.BACKORDER)
    document, signature, key = signed(rsa_token, sandbox.ca)
    distributor = sandbox.running.distributor
    with sandbox.client() as client:
        client.submit_order(key, document, signature)
        distributor.fulfil()
        assert client.order(key).status == "accepted"
        distributor.fulfil()
        assert client.order(key).status == "shipped"
        events = [(c.event, c.status) for c in client.iter_changes()]
    assert events == [("received", "accepted"), ("backordered", "accepted"), ("shipped", "shipped")]


def test_balance_older_than_60_days_is_voided_not_shipped(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox(mode=FulfilmentMode.PARTIAL)
    document, signature, key = signed(rsa_token, sandbox.ca)
    distributor = sandbox.running.distributor
    with sandbox.client() as client:
        client.submit_order(key, document, signature)
        distributor.fulfil()
        distributor.fulfil(now=datetime.now(UTC) + timedelta(days=61))
        record = client.order(key)
        last = list(client.iter_changes())[-1]
    assert record.status == "shipped-partial"
    assert [(x.quantity_shipped, x.quantity_voided) for x in record.lines] == [
        (1, 1),
        (0, 1),
        (1, 2),
    ]
    assert (last.event, last.status) == ("balance-voided", "shipped-partial")


def test_backorder_never_filled_within_60_days_is_cancelled(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox(mode=FulfilmentMode.BACKORDER)
    document, signature, key = signed(rsa_token, sandbox.ca)
    with sandbox.client() as client:
        client.submit_order(key, document, signature)
        sandbox.running.distributor.fulfil(now=datetime.now(UTC) + timedelta(days=61))
        assert client.order(key).status == "cancelled"


def test_change_feed_pages_with_a_cursor(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    keys = []
    with sandbox.client() as client:
        for _ in range(3):
            document, signature, key = signed(rsa_token, sandbox.ca)
            client.submit_order(key, document, signature)
            keys.append(key)
        first = client.changes(limit=2)
        rest = client.changes(first.next_cursor, limit=2)
        sandbox.running.distributor.fulfil()
        later = client.changes(rest.next_cursor)
    assert first.has_more and not rest.has_more
    assert [c.order_id for c in (*first.changes, *rest.changes)] == keys
    assert sorted(c.order_id for c in later.changes) == sorted(keys)
    assert {c.event for c in later.changes} == {"shipped"}


def test_filled_orders_report_per_day_due_in_two_business_days(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    document, signature, key = signed(rsa_token, sandbox.ca)
    with sandbox.client() as client:
        client.submit_order(key, document, signature)
    distributor = sandbox.running.distributor
    distributor.fulfil()
    today = datetime.now(UTC).date()
    report = json.loads(report_path(distributor.reports_dir, today).read_text())
    assert report["ship_date"] == today.isoformat()
    assert report["due_by"] == due_by(today).isoformat()
    [entry] = report["orders"]
    assert entry["order_id"] == key
    assert entry["purchaser"]["dea_number"] == "AB1234563"
    assert [x["containers_shipped"] for x in entry["lines"]] == [2, 1, 3]


def test_the_1305_29_report_is_also_written_as_arcos_transaction_records(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    document, signature, key = signed(rsa_token, sandbox.ca)
    with sandbox.client() as client:
        client.submit_order(key, document, signature)
    distributor = sandbox.running.distributor
    distributor.fulfil()
    today = datetime.now(UTC).date()
    [entry] = json.loads(report_path(distributor.reports_dir, today).read_text())["orders"]
    records = arcos_path(distributor.reports_dir, today).read_text().splitlines()
    assert len(records) == len(entry["lines"]) and all(len(r) == 80 for r in records)
    # Columns as the ARCOS Registrant Handbook's Exhibit 5.1 places them (1-based).
    first, line = records[0], entry["lines"][0]
    assert first[0:9] == entry["supplier"]["dea_number"]  # 1-9 reporting registrant
    assert first[9] == "S" and first[10] == " "  # 10 sale, 11 action indicator
    assert first[11:22] == line["ndc"]  # 12-22 NDC
    assert first[22:30] == f"{line['containers_shipped']:08d}"  # 23-30 quantity
    assert first[31:40] == "AB1234563"  # 32-40 associate registrant: the purchaser
    assert first[40:49] == entry["order_number"]  # 41-49 order form: the CSOS number
    assert first[49:55] == f"{today:%m%d%y}"  # 50-55 transaction date
    assert first[67:77] == "0000000001"  # 68-77 transaction identifier


def test_an_arcos_record_refuses_a_field_that_does_not_fit() -> None:
    base = Transaction("PD1234563", "12345678901", 2, "AB1234563", "26X000001", date.today(), 1)
    assert len(transaction_record(base)) == 80
    with pytest.raises(ValueError, match="11 digits"):
        transaction_record(replace(base, ndc="1234"))
    with pytest.raises(ValueError, match="does not fit"):
        transaction_record(replace(base, packages=10**8))
