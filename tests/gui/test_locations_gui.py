"""Two locations' certificates on one token in the GUI: Home and Certificates list both,
the signing dialog signs each order with its location's certificate, offers a picker when
two certificates fit one purchaser and remembers the choice per DEA number."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from csos_desktop.config.effective import set_value
from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.dialogs.signing import Phase, SigningDialog
from csos_desktop.gui.jobs.signing import OrderBatch, TokenTarget
from csos_desktop.gui.jobs.token_thread import TokenThread, TokenWorker
from csos_desktop.gui.screens.certificates import COLUMNS, CertificatesScreen
from csos_desktop.gui.screens.home import HomeScreen
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing.picker import remembered_choices
from csos_desktop.services.tokens.status import TokenStatus
from csos_desktop.store import open_store
from tests.conftest import TEST_PIN, trust_sandbox_root
from tests.integration.locations import (
    Location,
    LocationsToken,
    extra_certificate,
    order_for,
)
from tests.registrant import identity_of, record_identity, record_location_registrants


@pytest.fixture()
def home(tmp_path: Path, test_ca: TestCa, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own: the `dea_number` setting names the main location."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CSOS_HOME", str(home))
    trust_sandbox_root(test_ca, home)
    set_value("dea_number", "AB1234563")
    return home


def start_worker(tok: LocationsToken) -> tuple[TokenWorker, TokenThread]:
    worker = TokenWorker(tok.hsm.module, label=tok.label)
    thread = TokenThread(worker)
    thread.start()
    return worker, thread


@pytest.fixture()
def worker(two_locations: LocationsToken, home: Path) -> Iterator[TokenWorker]:
    worker, thread = start_worker(two_locations)
    yield worker
    thread.stop()


def status_of(qtbot: QtBot, worker: TokenWorker, n: int) -> TokenStatus:
    qtbot.waitUntil(
        lambda: worker.last_status is not None and len(worker.last_status.certificates) == n,
        timeout=20_000,
    )
    assert worker.last_status is not None
    return worker.last_status


def test_home_and_certificates_list_every_location(
    qtbot: QtBot, worker: TokenWorker, two_locations: LocationsToken
) -> None:
    status = status_of(qtbot, worker, 2)
    screen = CertificatesScreen(worker)
    qtbot.addWidget(screen)
    screen.show_status(status)
    screen.resize(1300, 420)
    screen.show()
    rows = {
        screen.table.item(r, COLUMNS.index("Id")).text(): [
            screen.table.item(r, c).text() for c in range(len(COLUMNS))
        ]
        for r in range(screen.table.rowCount())
    }
    main = rows[two_locations.main.key_id.hex()]
    north = rows[two_locations.north.key_id.hex()]
    assert main[COLUMNS.index("Location")] == "Main Street Pharmacy, Springfield"
    assert north[COLUMNS.index("Location")] == "Northside Pharmacy, Peoria"
    assert main[COLUMNS.index("DEA number")] == "AB1234563 (matches this certificate)"
    assert north[COLUMNS.index("DEA number")].startswith("hash only")
    assert north[COLUMNS.index("Schedules")] == "1, 2, 2N, 3, 3N, 4, 5"
    assert main[COLUMNS.index("Status")] == "Valid"
    screen.grab().save("/tmp/locations.png")

    home = HomeScreen()
    qtbot.addWidget(home)
    home.show_status(status)
    text = home.cert_card.body.text()
    for words in ("Main Street Pharmacy, Springfield", "Northside Pharmacy, Peoria", "hash only"):
        assert words in text
    assert text.count("Valid until") == 2


def drafts(store_path: Path, *locations: Location) -> list[str]:
    with open_store(store_path) as store:
        data = []
        for loc in locations:
            item = order_for(loc, "")
            del item["order_number"]
            data.append(item)
        return [r.order_id for r in svc.import_orders(store, data, source="test")]


def open_dialog(
    qtbot: QtBot, store_path: Path, ids: list[str], worker: TokenWorker, tok: LocationsToken
) -> SigningDialog:
    with open_store(store_path) as store:  # schedule II orders (1305.05)
        record_location_registrants(store, tok)
    # The status bar's certificate is passed as today; orders choose by purchaser anyway.
    target = TokenTarget(tok.hsm.module, tok.label, cert_id=tok.north.key_id.hex())
    dialog = SigningDialog(OrderBatch(store_path, ids, target), worker)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=20_000)
    return dialog


def test_signing_dialog_picker_and_remembered_choice(
    qtbot: QtBot, two_locations: LocationsToken, test_ca: TestCa, home: Path, tmp_path: Path
) -> None:
    main, north = two_locations.main, two_locations.north
    store_path = tmp_path / "csos.db"
    with extra_certificate(two_locations, test_ca, main.dea) as renewed:
        with open_store(store_path) as store:  # the registrant's renewed certificate too
            record_identity(
                store, identity_of(renewed.key_id, renewed.certificate_der), dea=main.dea
            )
        worker, thread = start_worker(two_locations)  # after the new objects: one module state
        try:
            status_of(qtbot, worker, 3)
            ids = drafts(store_path, main, north)
            dialog = open_dialog(qtbot, store_path, ids, worker, two_locations)
            # Two certificates fit Main Street: a picker, preselecting the one expiring last.
            box = dialog.picker_boxes[main.dea]
            assert dialog.pickers.isVisible() and list(dialog.picker_boxes) == [main.dea]
            assert box.count() == 2 and box.currentData() == renewed.key_id.hex()
            assert "Each order is signed with its location's certificate" in dialog.signer.text()
            assert "Northside Pharmacy, Peoria" in dialog.signer.text()
            dialog.resize(900, 700)
            dialog.grab().save("/tmp/locations-dialog.png")

            box.setCurrentIndex(box.findData(main.key_id.hex()))  # the pharmacist picks
            qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=20_000)
            assert remembered_choices()[main.dea] == main.key_id.hex()
            qtbot.keyClicks(dialog.pin, TEST_PIN)
            dialog.sign_button.click()
            qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=20_000)
            assert dialog.outcome is not None and len(dialog.outcome.signed) == 2
            with open_store(store_path) as store:
                for order_id, loc in zip(ids, (main, north), strict=True):
                    assert store.orders.get(order_id).state is OrderState.SIGNED
                    blob = store.signed.get(order_id)
                    sha = hashlib.sha256(loc.certificate_der).hexdigest()
                    assert blob.certificate_sha256 == sha
            dialog.close()

            # Next time the remembered certificate is preselected for Main Street.
            again = open_dialog(qtbot, store_path, drafts(store_path, main), worker, two_locations)
            assert again.picker_boxes[main.dea].currentData() == main.key_id.hex()
            again.close()
        finally:
            thread.stop()
