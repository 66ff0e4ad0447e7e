"""Home and the tray warn when the DEA registration ends before the certificate."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from csos_desktop.domain.expiry import expiry_warning
from csos_desktop.gui.screens.home import certificate_html
from csos_desktop.gui.tray import notifications
from csos_desktop.services.tokens.status import TokenStatus
from tests.gui.test_main_window import NOW, cert, token


def test_an_earlier_registration_expiry_is_shown_on_home_and_in_the_tray() -> None:
    base = cert(300)
    warning = expiry_warning(base.not_after, (NOW + timedelta(days=20)).date(), NOW)
    status = TokenStatus("/x.so", token(), (replace(base, warning=warning),))
    body, _action = certificate_html(status)
    assert "DEA registration" in body and "20 day(s) left" in body
    seen, _ = notifications(None, None, TokenStatus("/x.so", token(), (base,)))
    _, messages = notifications(seen, None, status)
    assert any("DEA registration" in text for _title, text in messages)


def test_no_warning_while_both_dates_are_more_than_45_days_away() -> None:
    base = cert(300)
    assert expiry_warning(base.not_after, (NOW + timedelta(days=46)).date(), NOW) is None
    body, _ = certificate_html(TokenStatus("/x.so", token(), (base,)))
    assert "Valid until" in body
