"""Settings: distributor address, PKCS#11 driver, CA bundle; locked values shown read-only.

A value set by policy stays in the Tab order, in normal text colours, read-only, and
says "Set by your IT administrator" to assistive technology too (its description):
a disabled field was grey on grey (1.6:1), skipped by Tab and silent.

Values come from ``config.load_config`` with their source; saving goes through
``config.set_value``/``unset_value``, which refuse locked keys and bad values
with a message shown next to the field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.config import (
    ConfigValue,
    EffectiveConfig,
    Source,
    load_config,
    set_value,
    unset_value,
)
from csos_desktop.domain.errors import CsosError
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.services.tokens.status import installed_driver_paths

LOCKED_WORDS = "Set by your IT administrator"
SOURCE_WORDS = {
    Source.DEFAULT: "Default",
    Source.POLICY: "Machine default from your IT administrator; you may change it",
    Source.USER: "Your setting",
    Source.POLICY_LOCKED: LOCKED_WORDS,
}
#: (key, label, placeholder, browse filter or None)
FIELDS = (
    ("distributor_url", "Distributor address", "https://csos.distributor.example/api", None),
    (
        "pkcs11_module",
        "Token driver (PKCS#11)",
        "Detected automatically",
        "PKCS#11 drivers (*.so *.dylib *.dll);;All files (*)",
    ),
    (
        "ca_bundle",
        "CA bundle for the distributor",
        "The system's trusted certificates",
        "PEM certificates (*.pem *.crt);;All files (*)",
    ),
)


class LockableCombo(QComboBox):
    """An editable combo box that, when locked, shows its value but offers no other."""

    locked = False

    def showPopup(self) -> None:
        if not self.locked:
            super().showPopup()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        arrows = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)
        if self.locked and event.key() in arrows:
            event.ignore()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.locked:
            event.ignore()
            return
        super().wheelEvent(event)


class _Field:
    """One setting's editor, browse button, source line and error line."""

    def __init__(self, key: str, label: str, placeholder: str, browse: str | None) -> None:
        self.key = key
        self.locked = False
        if key == "pkcs11_module":
            combo = LockableCombo()
            combo.setEditable(True)
            for path in installed_driver_paths():
                combo.addItem(path)
            edit = combo.lineEdit()
            assert edit is not None
            self.combo: QComboBox | None = combo
            self.edit = edit
            self.widget: QWidget = combo
        else:
            self.combo = None
            self.edit = QLineEdit()
            self.widget = self.edit
        self.edit.setPlaceholderText(placeholder)
        self.widget.setAccessibleName(label)
        self.browse = QPushButton("Browse…") if browse else None
        self.filter = browse or ""
        if self.browse is not None:
            self.browse.setAccessibleName(f"Browse for {label.lower()}")
        self.source = QLabel()
        self.source.setTextFormat(Qt.TextFormat.RichText)
        self.source.setAccessibleDescription(f"{label}: where the value comes from")
        self.error = QLabel()
        self.error.setStyleSheet(f"color: {Tone.BAD.value}")
        self.error.setWordWrap(True)
        self.error.setAccessibleDescription(f"{label} problem")
        self.original = ""

    def show(self, value: ConfigValue) -> None:
        self.original = "" if value.value is None else str(value.value)
        self.edit.setText(self.original)
        self.locked = value.locked
        self.edit.setReadOnly(value.locked)
        if isinstance(self.combo, LockableCombo):
            self.combo.locked = value.locked
        self.widget.setAccessibleDescription(LOCKED_WORDS if value.locked else "")
        if self.browse is not None:
            self.browse.setEnabled(not value.locked)
        tone = Tone.NEUTRAL if not value.locked else Tone.WARN
        self.source.setText(f"{dot(tone)} {SOURCE_WORDS[value.source]}")
        self.error.setText("")

    def text(self) -> str:
        return self.edit.text().strip()


class SettingsScreen(QWidget):
    """Edit and save; `saved` tells the app the driver may have changed."""

    saved = Signal()

    def __init__(
        self,
        loader: Callable[[], EffectiveConfig] = load_config,
        setter: Callable[[str, str], ConfigValue] = set_value,
        unsetter: Callable[[str], ConfigValue] = unset_value,
    ) -> None:
        super().__init__()
        self._load, self._set, self._unset = loader, setter, unsetter
        layout = QVBoxLayout(self)
        title = QLabel("Settings")
        title.setObjectName("screenTitle")
        layout.addWidget(title)
        form = QFormLayout()
        self.fields: dict[str, _Field] = {}
        for key, label, placeholder, browse in FIELDS:
            f = _Field(key, label, placeholder, browse)
            row = QHBoxLayout()
            row.addWidget(f.widget, 1)
            if f.browse is not None:
                row.addWidget(f.browse)
                f.browse.clicked.connect(lambda _=False, f=f: self._browse(f))
            cell = QVBoxLayout()
            cell.setSpacing(1)
            cell.addLayout(row)
            cell.addWidget(f.source)
            cell.addWidget(f.error)
            form.addRow(f"{label}:", cell)
            self.fields[key] = f
        layout.addLayout(form)
        self.note = QLabel(
            "Distributor credentials are kept in the system keyring, never in "
            "these settings; the token PIN is never stored."
        )
        self.note.setWordWrap(True)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.RichText)
        self.problems.setAccessibleDescription("Settings problems")
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setAccessibleDescription("Settings status")
        self.save_button = QPushButton("&Save settings")
        self.save_button.setAccessibleName("Save settings")
        self.revert_button = QPushButton("Re&vert")
        self.revert_button.setAccessibleName("Revert changes")
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout.addWidget(self.note)
        layout.addWidget(self.problems)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.reload)
        self.reload()

    def reload(self) -> None:
        config = self._load()
        for key, f in self.fields.items():
            f.show(config.values[key])
        self.problems.setText("<br>".join(f"{dot(Tone.WARN)} {p}" for p in config.problems))
        self.status.setText("")

    def _browse(self, f: _Field) -> None:
        start = str(Path(f.text()).parent) if f.text() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Choose a file", start, f.filter)
        if path:
            f.edit.setText(path)

    def save(self) -> bool:
        """Store every changed, unlocked value; False if any was refused (said next to it)."""
        ok = True
        changed = 0
        for key, f in self.fields.items():
            if f.locked or f.text() == f.original:
                continue
            try:
                if f.text():
                    self._set(key, f.text())
                else:
                    self._unset(key)
                changed += 1
                f.original = f.text()
                f.error.setText("")
            except CsosError as exc:  # SettingLocked, SettingInvalid: said next to the field
                f.error.setText(exc.message)
                ok = False
        if ok:
            self.reload()
            self.status.setText(f"{dot(Tone.OK)} Saved." if changed else "Nothing changed.")
            if changed:
                self.saved.emit()
        else:
            self.status.setText(
                f"{dot(Tone.BAD)} Some values were not saved: see the messages under them."
            )
        return ok
