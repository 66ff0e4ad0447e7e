"""The monthly log of signed controlled-substance prescriptions (21 CFR 1311.120(b)(27))."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from csos_desktop.cli import main
from csos_desktop.domain.errors import InputError
from csos_desktop.services.rx.monthly_log import LogOrder, log_csv, monthly_log
from csos_desktop.store import Store, open_store
from tests.unit.rx.helpers import JONES_DEA, practice
from tests.unit.rx.helpers import sign_at as _sign
from tests.unit.store.helpers import Clock

OTHER = {
    "name": "Aaron Abbott",
    "address": {"street": "1 Main", "city": "Springfield", "state": "IL", "postal_code": "62701"},
}


def _month(store: Store, clock: Clock) -> tuple[str, list[str]]:
    practice(store, clock)
    start = datetime(2026, 10, 10, 15, tzinfo=UTC)
    ids = [
        _sign(store, clock, start, quantity=20),
        _sign(store, clock, start + timedelta(days=2), patient=OTHER),
        _sign(
            store,
            clock,
            start + timedelta(days=5),
            drug={
                "name": "Alprazolam",
                "strength": "0.5 mg",
                "dosage_form": "tablet",
                "schedule": "4",
            },
        ),
        _sign(store, clock, start + timedelta(days=40)),  # November: not in October's log
    ]
    return "2026-10", ids


def test_the_log_holds_the_month_s_prescriptions_sorted_by_patient_drug_or_date(
    store: Store, clock: Clock
) -> None:
    month, (first, abbott, alprazolam, november) = _month(store, clock)
    by_date = monthly_log(store, month, order=LogOrder.DATE)
    assert [ln.rx_id for ln in by_date] == [first, abbott, alprazolam]
    assert november not in {ln.rx_id for ln in by_date}
    assert next(ln.rx_id for ln in monthly_log(store, month, order=LogOrder.PATIENT)) == abbott
    assert next(ln.rx_id for ln in monthly_log(store, month, order=LogOrder.DRUG)) == alprazolam
    rows = list(csv.reader(io.StringIO(log_csv(by_date))))
    assert rows[0][:3] == ["date_signed", "patient", "drug"] and len(rows) == 4
    assert rows[1][0] == "2026-10-10" and rows[1][1] == "Maria Lopez"
    assert monthly_log(store, month, practitioner_dea=JONES_DEA) == []


def test_a_month_is_given_as_year_and_month(store: Store) -> None:
    with pytest.raises(InputError, match="YYYY-MM"):
        monthly_log(store, "October")
    with pytest.raises(InputError, match="YYYY-MM"):
        monthly_log(store, "2026-13")


def test_csos_rx_log_writes_the_csv(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("CSOS_HOME", str(home))
    with open_store() as store:
        month, ids = _month(store, clock)
    out = tmp_path / "log.csv"
    done = CliRunner().invoke(
        main, ["rx", "log", "--month", month, "--sort", "patient", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "3 prescription(s) signed in 2026-10" in done.output
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert next(r[-1] for r in rows[1:]) == ids[1]  # Aaron Abbott first


def test_csos_rx_export_writes_the_signed_bytes_of_the_month(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    with open_store() as store:
        month, ids = _month(store, clock)
        kept = {i: store.prescriptions.signed(i) for i in ids}
    out = tmp_path / "rx"
    done = CliRunner().invoke(main, ["rx", "export", "--month", month, "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{i}.{ext}" for i in ids[:3] for ext in ("json", "p7s")
    )
    for i in ids[:3]:  # byte for byte what was signed and stored
        assert (out / f"{i}.json").read_bytes() == kept[i].document
        assert (out / f"{i}.p7s").read_bytes() == kept[i].signature
