"""`csos doctor` warns from 45 days before the certificate or the DEA registration ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from csos_desktop.config import set_value
from csos_desktop.doctor.result import Status
from csos_desktop.doctor.runner import run_doctor
from tests.conftest import Provisioned


def test_the_warning_starts_45_days_before_the_certificate_ends(rsa_token: Provisioned) -> None:
    set_value("token_label", rsa_token.label)  # the session's SoftHSM2 holds other tokens too
    not_after = datetime.now(UTC) + timedelta(days=365)
    quiet = run_doctor(module=rsa_token.hsm.module, now=not_after - timedelta(days=47), timeout=1)
    assert quiet.result("certificate").status is Status.OK
    due = run_doctor(module=rsa_token.hsm.module, now=not_after - timedelta(days=44), timeout=1)
    assert due.result("certificate").status is Status.WARNING


def test_an_earlier_dea_registration_expiry_drives_the_warning(rsa_token: Provisioned) -> None:
    set_value("token_label", rsa_token.label)
    now = datetime.now(UTC)
    set_value("dea_registration_expiry", (now + timedelta(days=20)).date().isoformat())
    cert = run_doctor(module=rsa_token.hsm.module, now=now, timeout=1).result("certificate")
    assert cert.status is Status.WARNING
    assert "DEA registration" in cert.summary and "dea_registration_expiry" in cert.fix
    set_value("dea_registration_expiry", (now - timedelta(days=1)).date().isoformat())
    ended = run_doctor(module=rsa_token.hsm.module, now=now, timeout=1).result("certificate")
    assert ended.status is Status.ERROR and "cannot be signed" in ended.summary
