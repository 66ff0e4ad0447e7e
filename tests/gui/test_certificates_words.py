"""Certificates in words: when renewal opens, which certificate signs, reasons not codes."""

from __future__ import annotations

import re
from pathlib import Path

from pytestqt.qtbot import QtBot

from csos_desktop.domain.enrolment import HOLDER_REASONS, RENEWAL_WINDOW_DAYS
from csos_desktop.gui.screens.certificates import COLUMNS, CertificatesScreen
from csos_desktop.services.tokens.status import TokenStatus
from tests.gui.test_main_window import cert, token

DOCS = Path(__file__).resolve().parents[2] / "docs" / "gui.md"


def test_the_manual_states_the_renewal_window_the_code_uses() -> None:
    said = re.findall(r"Renew…\* from (\d+) days before expiry", DOCS.read_text("utf-8"))
    assert said == [str(RENEWAL_WINDOW_DAYS)]


def test_renew_says_when_it_opens_and_the_table_says_which_certificate_signs(
    qtbot: QtBot,
) -> None:
    screen = CertificatesScreen()
    qtbot.addWidget(screen)
    screen.show()
    screen.show_status(TokenStatus("/x.so", token(), (cert(200),)))
    assert not screen.renew_button.isEnabled()
    assert "Renew… opens on" in screen.renew_button.accessibleDescription()
    assert f"{RENEWAL_WINDOW_DAYS} days before" in screen.notice.text()
    signs = screen.table.item(0, COLUMNS.index("Signs")).text()
    assert signs == "Yes: signs orders"
    # Reasons in words; the RFC 5280 code is what the request carries.
    texts = [screen.reason.itemText(i) for i in range(screen.reason.count())]
    codes = [screen.reason.itemData(i) for i in range(screen.reason.count())]
    assert codes == list(HOLDER_REASONS)
    assert not set(texts) & set(HOLDER_REASONS)
    screen.show_status(TokenStatus("/x.so", token(), (cert(30),)))
    assert screen.renew_button.isEnabled() and "Renew…" in screen.notice.text()
