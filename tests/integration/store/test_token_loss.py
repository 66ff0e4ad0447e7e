"""A lost token: recorded, the text for the CA, the 24-hour deadline until marked sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from csos_desktop.cli import main
from csos_desktop.domain.errors import InputError
from csos_desktop.services.audit.events import record_certificate_installed
from csos_desktop.services.rx.access import SigningRefused
from csos_desktop.services.rx.permission import signing_permission
from csos_desktop.services.tokens.loss import (
    grants_revoked_with,
    loss_reports,
    mark_sent,
    report_loss,
)
from csos_desktop.store import open_store
from csos_desktop.store.access import GrantState
from tests.unit.rx.helpers import permit, practice
from tests.unit.store.helpers import Clock

NOW = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CSOS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _installed() -> None:
    record_certificate_installed(
        how="enrolled",
        subject="Main Street Pharmacy",
        dea_number="AB1234563",
        serial=123456789,
        not_after=NOW + timedelta(days=300),
        key_id="aa",
    )


def test_the_report_names_the_certificate_and_counts_down_24_hours() -> None:
    _installed()
    with open_store() as store:
        report = report_loss(store, discovered_at=NOW - timedelta(hours=3), now=NOW)
        assert report.certificate is not None and report.certificate.serial_number == "123456789"
        text = report.text_for_ca()
        assert "AB1234563" in text and "123456789" in text and "keyCompromise" in text
        assert "21 h 0 min left" in report.deadline_text(NOW)
        assert "OVERDUE" in report.deadline_text(NOW + timedelta(hours=22))
        sent = mark_sent(store, report.report_id, now=NOW + timedelta(hours=1), how="phone")
        assert sent.sent_at is not None and "sent to the CA" in sent.deadline_text(NOW)
        with pytest.raises(InputError, match="already marked"):
            mark_sent(store, report.report_id, now=NOW, how="phone")
        events = [e.event for e in store.audit.entries()]
    assert events[-2:] == ["token.loss-reported", "token.loss-sent"]


def test_a_future_discovery_time_is_refused() -> None:
    with open_store() as store:
        with pytest.raises(InputError, match="future"):
            report_loss(store, discovered_at=NOW + timedelta(hours=1), now=NOW)
        assert loss_reports(store) == []


def test_the_cli_reports_lists_and_marks_sent() -> None:
    _installed()
    runner = CliRunner()
    done = runner.invoke(main, ["token", "report-lost"])
    assert done.exit_code == 0, done.output
    assert "Send this to your certificate authority" in done.output
    assert "Certificate serial number: 123456789" in done.output
    status = runner.invoke(main, ["token", "loss-status"])
    assert "tell the CA before" in status.output
    report_id = status.output.split("Report ")[1].split(":")[0]
    sent = runner.invoke(main, ["token", "loss-sent", report_id, "--how", "email"])
    assert sent.exit_code == 0 and "sent to the CA" in sent.output


def test_a_lost_prescriber_token_revokes_the_permission_to_sign_in_the_same_report() -> None:
    # 21 CFR 1311.125(d)(1): the loss revokes the permission on the day it is reported.
    with open_store() as store:
        clock = Clock(NOW - timedelta(days=1))
        practice(store, clock)
        grant = permit(store, clock)
        report = report_loss(
            store, discovered_at=NOW - timedelta(hours=1), now=NOW, practitioner="drsmith"
        )
        revoked = store.rx_grants.get(grant.grant_id)
        assert revoked.state is GrantState.REVOKED and revoked.revoked_on_event == "token-lost"
        assert grants_revoked_with(store, report.report_id) == [grant.grant_id]
        with pytest.raises(SigningRefused):
            signing_permission(store, "drsmith", NOW)
        last_two = [e.event for e in store.audit.entries()][-2:]
    # One transaction: the revocation and the report are written together.
    assert last_two == ["rx.grant-revoked", "token.loss-reported"]


def test_report_lost_from_the_cli_names_the_revoked_permission(own_home: Path) -> None:
    with open_store() as store:
        clock = Clock(datetime.now(UTC) - timedelta(days=1))
        practice(store, clock)
        grant = permit(store, clock)
    done = CliRunner().invoke(main, ["token", "report-lost", "--practitioner", "drsmith"])
    assert done.exit_code == 0, done.output
    assert f"Permission #{grant.grant_id} to sign prescriptions is revoked" in done.output
