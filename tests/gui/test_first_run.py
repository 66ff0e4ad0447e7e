"""First run: Home's checklist until each step is done; no green distributor without one."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from csos_desktop.gui.main_window import MainWindow
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.first_run import FirstRunStep, checklist
from csos_desktop.services.tokens.status import TokenStatus, read_token_status
from csos_desktop.store import open_store
from tests.conftest import Provisioned
from tests.gui.conftest import set_up_machine
from tests.gui.test_main_window import cert, token


def test_each_step_says_what_is_missing_and_how_to_fix_it() -> None:
    nothing = checklist(
        TokenStatus(None, None, (), "No PKCS#11 driver for a token was found."),
        trust_anchors=False,
        distributor=False,
    )
    assert [i.done for i in nothing] == [False] * 4
    assert "No token driver found" in nothing[0].text and "OpenSC" in nothing[0].text
    assert ".p12" in nothing[1].text
    no_token = checklist(TokenStatus("/x.so", None, ()), trust_anchors=True, distributor=True)
    assert "insert your USB token" in no_token[0].text
    done = checklist(
        TokenStatus("/x.so", token(), (cert(200),)), trust_anchors=True, distributor=True
    )
    assert all(i.done for i in done)


def test_a_fresh_install_shows_the_checklist_and_no_green_distributor(
    qtbot: QtBot, fresh_home: Path, rsa_token: Provisioned
) -> None:
    with open_store(fresh_home / "csos.db") as store:
        window = MainWindow(store=store)
        qtbot.addWidget(window)
        window.show_status(read_token_status(rsa_token.hsm.module, rsa_token.label))
        card = window.home.checklist_card
        assert card.isVisibleTo(window)
        # Token and certificate are there; the trust anchors and the distributor are not.
        assert set(card.buttons) == {FirstRunStep.TRUST_ANCHORS, FirstRunStep.DISTRIBUTOR}
        assert dot(Tone.OK) not in window.outbox_label.text()
        assert "not configured" in window.outbox_label.text()
        card.buttons[FirstRunStep.DISTRIBUTOR].click()
        assert window.stack.currentWidget() is window.settings


def test_the_checklist_goes_once_every_step_is_done(
    qtbot: QtBot, fresh_home: Path, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    set_up_machine(test_ca)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show_status(read_token_status(rsa_token.hsm.module, rsa_token.label))
    assert not window.home.checklist_card.isVisibleTo(window)
