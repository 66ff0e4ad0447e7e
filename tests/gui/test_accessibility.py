"""Every screen and dialog, audited as a screen-reader and keyboard user meets them.

Fails on an unnamed interactive control, a label whose accessible name hides its text, a
table that keeps Tab inside, a mnemonic used twice in one window, a window larger than
1024x768, and a status colour (or selected row) under 4.5:1 against its background.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from csos_desktop.gui import theme
from csos_desktop.gui.dialogs.enrol_wizard import EnrolWizard
from csos_desktop.gui.dialogs.lost_token import LostTokenDialog
from csos_desktop.gui.dialogs.order_actions import NoticeForm
from csos_desktop.gui.dialogs.order_editor import OrderEditor
from csos_desktop.gui.dialogs.signing import Phase, SigningDialog
from csos_desktop.gui.dialogs.token import ChangePinDialog, MoveP12Dialog
from csos_desktop.gui.jobs.signing import OrderBatch, TokenTarget
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.main_window import MainWindow
from csos_desktop.store import Store, open_store
from tests.gui.a11y import CHECKS, audit
from tests.gui.conftest import add_drafts


@pytest.fixture()
def store(tmp_path: Path, fresh_home: Path) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db") as store:
        yield store


def _styled(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply(app)


def _findings(where: str, widget: QWidget) -> list[str]:
    QApplication.processEvents()
    return [f"{where}: {kind}: {f}" for kind, found in audit(widget).items() for f in found]


def _main_window_findings(qtbot: QtBot, window: MainWindow) -> list[str]:
    window.show()
    qtbot.waitExposed(window)
    found = []
    for name in window.screens:
        window.show_screen(name)
        found += _findings(name, window)
    return found


def test_every_screen_passes_the_audit(
    qtbot: QtBot, store: Store, token_worker: TokenWorker, target: TokenTarget
) -> None:
    _styled(qtbot)
    ids = add_drafts(store, 3)
    # One delivered order, so Receiving shows its lines and their count fields.
    store.conn.execute("UPDATE orders SET state = 'shipped' WHERE order_id = ?", (ids[0],))
    window = MainWindow(store=store, token=token_worker)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: token_worker.last_status is not None, timeout=10_000)
    window.show_status(token_worker.last_status)  # type: ignore[arg-type]
    found = _main_window_findings(qtbot, window)
    assert ids
    assert not found, "\n".join(found)


def test_every_dialog_passes_the_audit(
    qtbot: QtBot, store: Store, token_worker: TokenWorker, target: TokenTarget
) -> None:
    _styled(qtbot)
    ids = add_drafts(store, 2)
    qtbot.waitUntil(lambda: token_worker.last_status is not None, timeout=10_000)
    signing = SigningDialog(OrderBatch(store.path, ids[:1], target), token_worker)
    owner = QWidget()
    qtbot.addWidget(owner)
    dialogs: dict[str, QWidget] = {
        "order editor": OrderEditor(store, signer_name="Main Street Pharmacy"),
        "signing": signing,
        "change PIN": ChangePinDialog(token_worker),
        "move certificate file": MoveP12Dialog(token_worker),
        "lost token": LostTokenDialog(store),
        "enrolment": EnrolWizard(token_worker),
        "cancel order": NoticeForm(
            owner, "Cancel order", "Why?", lambda _r, _l: None, with_lines=True
        ),
    }
    found = []
    for name, dialog in dialogs.items():
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        if dialog is signing:
            qtbot.waitUntil(lambda: signing.phase is not Phase.LOADING, timeout=10_000)
        found += _findings(name, dialog)
    assert not found, "\n".join(found)


def test_the_audit_catches_what_it_is_meant_to(qtbot: QtBot) -> None:
    """The checks themselves: each one finds its defect in a deliberately bad window."""
    from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTableWidget, QVBoxLayout

    bad = QWidget()
    qtbot.addWidget(bad)
    layout = QVBoxLayout(bad)
    layout.addWidget(QLineEdit())  # no name, no label
    hidden = QLabel("Ready to sign")
    hidden.setAccessibleName("Status")
    layout.addWidget(hidden)
    layout.addWidget(QTableWidget(1, 1))  # Tab moves between cells by default
    layout.addWidget(QPushButton("&New"))
    layout.addWidget(QPushButton("&Next"))
    warn = QLabel('<span style="color:#ffcc00">warning</span>')
    layout.addWidget(warn)
    bad.resize(1100, 300)
    bad.show()
    found = audit(bad)
    assert set(CHECKS) == {k for k, v in found.items() if v}, found


def test_help_has_the_manual_the_keyboard_guide_and_writes_a_support_bundle(
    qtbot: QtBot, store: Store, tmp_path: Path
) -> None:
    import zipfile

    window = MainWindow(store=store)
    qtbot.addWidget(window)
    texts = [a.text() for a in window.help.menu.actions() if a.text()]
    assert texts == [
        "User &manual",
        "&Keyboard and screen reader",
        "Save a &support bundle…",
        "&About CSOS Desktop",
    ]
    out = tmp_path / "support.zip"
    window.help.write_bundle(out)
    qtbot.waitUntil(lambda: window.help.last_bundle == out, timeout=30_000)
    assert "csos-support/doctor.json" in zipfile.ZipFile(out).namelist()
    assert window.help.message is not None and "no PINs" in window.help.message.text()


def test_every_list_with_row_actions_offers_them_in_a_context_menu(
    qtbot: QtBot, store: Store
) -> None:
    from PySide6.QtCore import Qt

    window = MainWindow(store=store)
    qtbot.addWidget(window)
    for screen in (
        window.orders,
        window.receiving,
        window.certificates,
        window.activity,
        window.poa,
    ):
        menu = screen.row_menu  # type: ignore[attr-defined]
        view = menu.parent()
        assert view.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu
        assert [a.text() for a in menu.menu().actions()], type(screen).__name__


_SCALED = """
import json
from PySide6.QtWidgets import QApplication
from csos_desktop.gui import theme
from csos_desktop.gui.dialogs.order_editor import OrderEditor
from csos_desktop.gui.main_window import MainWindow
from csos_desktop.store import open_store
from tests.gui.a11y import too_large

app = QApplication([])
theme.apply(app)
free = app.primaryScreen().availableGeometry()
store = open_store()
window = MainWindow(store=store)
window.show()
found = []
for name in window.screens:
    window.show_screen(name)
    app.processEvents()
    found += too_large(window, free.width(), free.height())
editor = OrderEditor(store)
editor.show()
app.processEvents()
found += too_large(editor, free.width(), free.height())
print(json.dumps({"free": [free.width(), free.height()], "found": found}))
"""


def test_windows_fit_a_1024x768_screen_at_one_and_a_half_times_scaling(tmp_path: Path) -> None:
    """At 1.5x a 1536x1152 panel is 1024x768 logical pixels: every window fits it."""
    import json

    from tests.fresh_process import run_python

    config = tmp_path / "screen.json"
    screen = {"name": "s", "x": 0, "y": 0, "width": 1536, "height": 1152}
    config.write_text(json.dumps({"screens": [screen]}))
    done = run_python(
        _SCALED,
        tmp_path,
        QT_QPA_PLATFORM=f"offscreen:configfile={config}",
        QT_SCALE_FACTOR="1.5",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["free"] == [1024, 768]
    assert result["found"] == []
