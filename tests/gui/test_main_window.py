"""The main window shell on a real SoftHSM2 token (pytest-qt, offscreen)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from csos_desktop.config import set_value
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.main_window import MainWindow, status_bar_texts
from csos_desktop.gui.screens.home import certificate_html, token_html
from csos_desktop.services.tokens.status import CertificateStatus, TokenStatus, read_token_status
from csos_desktop.token.slots import PinState, TokenInfo
from tests.conftest import Provisioned

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def cert(days_left: int) -> CertificateStatus:
    return CertificateStatus(
        "aa",
        "Main Street Pharmacy",
        "CA",
        1,
        "AB1234563",
        ("2", "3"),
        NOW - timedelta(days=300),
        NOW + timedelta(days=days_left),
        days_left,
    )


def token(pin: PinState = PinState.OK) -> TokenInfo:
    return TokenInfo(1, "reader", "CSOS", "Maker", "Model", "123", True, False, pin)


def test_status_bar_and_home_follow_a_real_token(
    qtbot: QtBot, rsa_token: Provisioned, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The certificate holds only a hash of the DEA number: the app knows it from settings.
    monkeypatch.setenv("CSOS_HOME", str(tmp_path))
    set_value("dea_number", "AB1234563")
    window = MainWindow()
    qtbot.addWidget(window)
    status = read_token_status(rsa_token.hsm.module, rsa_token.label)
    window.show_status(status)
    assert "csos-rsa" in window.token_label.text()
    assert "days left" in window.cert_label.text()
    assert "AB1234563" in window.home.cert_card.body.text()
    assert window.certificates.table.rowCount() == 1
    assert window.certificates.table.item(0, 1).text() == "AB1234563 (matches this certificate)"


def test_token_worker_reports_the_token_within_two_seconds(
    qtbot: QtBot, rsa_token: Provisioned
) -> None:
    worker = TokenWorker(rsa_token.hsm.module)
    with qtbot.waitSignal(worker.status_changed, timeout=2000) as blocker:
        worker.start()
    worker.stop()
    status = blocker.args[0]
    assert isinstance(status, TokenStatus) and status.present


def test_no_token_is_said_in_words() -> None:
    html = token_html(TokenStatus("/x.so", None, (), "No token inserted."))
    assert "No token" in html and "No token inserted." in html


@pytest.mark.parametrize(
    ("days", "words", "action"),
    [
        (200, "Valid until", None),
        (30, "Expires in <b>30 days</b>", "Renew…"),
        (-1, "Expired", "Renew…"),
    ],
)
def test_certificate_card_offers_renewal_from_30_days(
    days: int, words: str, action: str | None
) -> None:
    body, offered = certificate_html(TokenStatus("/x.so", token(), (cert(days),)))
    assert words in body
    assert offered == action


@pytest.mark.parametrize("pin", [PinState.COUNT_LOW, PinState.FINAL_TRY, PinState.LOCKED])
def test_pin_warnings_are_shown_before_any_pin_is_asked(pin: PinState) -> None:
    html = token_html(TokenStatus("/x.so", token(pin), ()))
    assert {
        "count-low": "few left",
        "final-try": "final try",
        "locked": "contact your token administrator",
    }[pin.value] in html


def test_status_bar_says_expired_in_words() -> None:
    _, text = status_bar_texts(TokenStatus("/x.so", token(), (cert(-3),)))
    assert "expired" in text


def test_every_screen_is_reachable_by_keyboard(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    for i, name in reversed(list(enumerate(window.screens))):
        qtbot.keyClick(window.nav, str(i + 1), modifier=Qt.KeyboardModifier.AltModifier)
        assert window.stack.currentWidget() is window.screens[name]


def test_screenshot_mode_writes_every_screen(rsa_token: Provisioned, tmp_path: Path) -> None:
    env = dict(
        os.environ,
        SOFTHSM2_CONF=str(rsa_token.hsm.conf),
        CSOS_PKCS11_MODULE=rsa_token.hsm.module,
        QT_QPA_PLATFORM="offscreen",
    )
    done = subprocess.run(
        [sys.executable, "-m", "csos_desktop.gui.app", "--screenshot", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shots = sorted(p.name for p in tmp_path.glob("*.png"))
    assert shots == [
        "01-home.png",
        "02-orders.png",
        "03-receiving.png",
        "04-certificates.png",
        "05-activity.png",
        "06-settings.png",
        "07-prescriptions.png",
        "08-power-of-attorney.png",
        "09-prescription-inbox.png",
    ]
    assert all(p.stat().st_size > 5000 for p in tmp_path.glob("*.png"))


def test_self_test_exits_zero(rsa_token: Provisioned) -> None:
    env = dict(os.environ, SOFTHSM2_CONF=str(rsa_token.hsm.conf), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "csos_desktop.gui.app", "--self-test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "self-test: main window shown" in done.stdout
