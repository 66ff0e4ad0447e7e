"""First run: Home's checklist until each step is done; no green distributor without one."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from csos_desktop.gui.main_window import MainWindow
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.first_run import FirstRunStep, checklist, read_setup_facts
from csos_desktop.services.orders import catalogue as catalogue_service
from csos_desktop.services.tokens.status import TokenStatus, read_token_status
from csos_desktop.store import open_store
from csos_desktop.store.db import default_path
from tests.conftest import Provisioned
from tests.gui.conftest import set_up_machine
from tests.gui.test_main_window import cert, token
from tests.registrant import record_registrant_at


def test_each_step_says_what_is_missing_and_how_to_fix_it() -> None:
    nothing = checklist(
        TokenStatus(None, None, (), "No PKCS#11 driver for a token was found."),
        trust_anchors=False,
        distributor=False,
        catalogue=False,
        registrant=False,
    )
    assert [i.done for i in nothing] == [False] * 6
    assert "No token driver found" in nothing[0].text and "OpenSC" in nothing[0].text
    assert ".p12" in nothing[1].text and "activation codes" in nothing[1].text
    assert "csos catalogue import product.txt package.txt" in nothing[4].text
    assert "csos poa registrant --name" in nothing[5].text and "1305.05" in nothing[5].text
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
        # Token and certificate are there; the trust anchors, the distributor and the
        # registrant are not.
        assert set(card.buttons) == {
            FirstRunStep.TRUST_ANCHORS,
            FirstRunStep.DISTRIBUTOR,
            FirstRunStep.REGISTRANT,
        }
        assert dot(Tone.OK) not in window.outbox_label.text()
        assert "not configured" in window.outbox_label.text()
        card.buttons[FirstRunStep.DISTRIBUTOR].click()
        assert window.stack.currentWidget() is window.settings


def test_a_fresh_install_without_a_catalogue_says_so_on_home(
    qtbot: QtBot, fresh_home: Path, rsa_token: Provisioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue_service, "_before_import", catalogue_service.no_catalogue)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show_status(read_token_status(rsa_token.hsm.module, rsa_token.label))
    window.home.show_setup_facts(read_setup_facts())
    card = window.home.checklist_card
    assert FirstRunStep.CATALOGUE in card.buttons
    assert any("csos catalogue import" in q.text() for q in card.rows.findChildren(QLabel))


def test_the_checklist_goes_once_every_step_is_done(
    qtbot: QtBot, fresh_home: Path, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    set_up_machine(test_ca)
    record_registrant_at(default_path(), rsa_token)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show_status(read_token_status(rsa_token.hsm.module, rsa_token.label))
    assert not window.home.checklist_card.isVisibleTo(window)


def test_the_registrant_step_opens_the_power_of_attorney_screen(
    qtbot: QtBot, fresh_home: Path, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    set_up_machine(test_ca)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show_status(read_token_status(rsa_token.hsm.module, rsa_token.label))
    window.home.show_setup_facts(read_setup_facts())
    card = window.home.checklist_card
    assert set(card.buttons) == {FirstRunStep.REGISTRANT}
    card.buttons[FirstRunStep.REGISTRANT].click()
    assert window.stack.currentWidget() is window.poa
