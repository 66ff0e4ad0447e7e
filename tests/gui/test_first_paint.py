"""The window's first paint loads only what the first screen needs.

Runs the real entry point, `csos-gui --exit-after-first-paint` (what benchmarks/gui_start.py
measures), in a fresh interpreter and looks at what it imported by the time the window was
painted.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from csos_desktop.gui.theme import ACCESSIBLE_TEXT_ROLE, set_rich_text
from csos_desktop.gui.widgets.card import Card
from tests.fresh_process import run_python

#: Never before the window shows: servers, plots, the network, and PKCS#11, which the
#: token thread loads on its first poll.
NOT_AT_FIRST_PAINT = (
    "matplotlib",
    "httpx",
    "sqlalchemy",
    "fastapi",
    "uvicorn",
    "pkcs11",
    "pyhanko_certvalidator",
    "numpy",
    # The certificate parser: the getting-started card reads the trust store after the paint.
    "asn1crypto",
)
#: Ours, not needed for Home: the other screens are built when first shown, and the
#: order model loads when an order is read, not to count them.
OURS_NOT_AT_FIRST_PAINT = (
    "csos_desktop.gui.screens.orders",
    "csos_desktop.gui.screens.receiving",
    "csos_desktop.gui.screens.certificates",
    "csos_desktop.gui.screens.activity",
    "csos_desktop.gui.screens.settings",
    "csos_desktop.gui.screens.prescriptions",
    "csos_desktop.gui.screens.poa",
    "csos_desktop.trust.anchors",
    "csos_desktop.domain.order",
)

_CHILD = """
import json, sys
from csos_desktop.gui.app import main
code = main(["--exit-after-first-paint"])
print("MODULES " + json.dumps(sorted(sys.modules)), flush=True)
import PySide6.QtCore
# PySide6 builds the Qt namespace's enums on first use (35 ms): not before the paint.
print("QT_NAMESPACE_BUILT " + json.dumps("Qt" in vars(PySide6.QtCore)), flush=True)
sys.exit(code)
"""


def test_first_paint_imports_no_server_network_plot_or_token_code(tmp_path: Path) -> None:
    done = run_python(_CHILD, tmp_path, QT_QPA_PLATFORM="offscreen")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "first paint"
    modules = set(json.loads(lines[1].removeprefix("MODULES ")))
    loaded = {m.split(".")[0] for m in modules}
    assert "PySide6" in loaded and "csos_desktop" in loaded
    assert not loaded & set(NOT_AT_FIRST_PAINT)
    assert "csos_desktop.gui.screens.home" in modules
    assert not modules & set(OURS_NOT_AT_FIRST_PAINT)
    assert lines[2] == "QT_NAMESPACE_BUILT false"


def test_the_role_number_is_qts_accessible_text_role() -> None:
    assert Qt.ItemDataRole(ACCESSIBLE_TEXT_ROLE) is Qt.ItemDataRole.AccessibleTextRole


def test_rich_text_is_read_as_html_even_without_a_leading_tag(qtbot: QtBot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    set_rich_text(label, "Smith &amp; Sons: 2 orders")  # plain text would show "&amp;"
    assert label.textFormat() is Qt.TextFormat.AutoText
    assert QtGuiNamespace.mightBeRichText(label.text())
    assert not QtGuiNamespace.mightBeRichText("Smith &amp; Sons: 2 orders")


def test_a_card_button_keeps_its_own_width_on_the_left(qtbot: QtBot) -> None:
    card = Card("Token")
    qtbot.addWidget(card)
    card.resize(600, 200)
    card.set_body("No token")
    card.set_action("Renew…")
    card.show()
    qtbot.waitExposed(card)
    button = card.button
    assert button.width() == button.sizeHint().width() < card.width() / 2
    assert button.x() == card.body.x()  # aligned with the text, not centred or stretched
