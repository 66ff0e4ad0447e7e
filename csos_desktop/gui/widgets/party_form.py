"""Name, address and DEA number of a purchaser or supplier, with a message under each field."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from csos_desktop.gui.theme import Tone

#: Field path inside a party (as ``OrderInvalid.problems`` names it) → label.
FIELDS = (
    ("name", "Name"),
    ("address.street", "Street"),
    ("address.city", "City"),
    ("address.state", "State"),
    ("address.postal_code", "ZIP code"),
    ("dea_number", "DEA number"),
)


class PartyForm(QGroupBox):
    """One party's fields; `changed` fires on every edit."""

    changed = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setAccessibleName(title)
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        # A field's problem shows once the user has been in it (or asked to save): an
        # empty form opens without a column of red messages.
        self.touched: set[str] = set()
        self.reveal_all = False
        self._problems: Mapping[str, str] = {}
        form = QFormLayout(self)
        for path, label in FIELDS:
            edit = QLineEdit()
            edit.setAccessibleName(f"{title} {label.lower()}")
            error = QLabel()
            error.setStyleSheet(f"color: {Tone.BAD.value}")
            error.setWordWrap(True)
            error.setAccessibleDescription(f"{title} {label.lower()} problem")
            error.setVisible(False)
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(1)
            box.addWidget(edit)
            box.addWidget(error)
            form.addRow(f"{label}:", cell)
            edit.editingFinished.connect(lambda p=path: self._touch(p))
            edit.textEdited.connect(lambda _t, p=path: self.touched.add(p))
            edit.textChanged.connect(self.changed)
            self.edits[path] = edit
            self.errors[path] = error

    def values(self) -> dict[str, object]:
        """The party in the order input form (``parse_order_input``)."""
        text = {path: edit.text().strip() for path, edit in self.edits.items()}
        return {
            "name": text["name"],
            "address": {
                k: text[f"address.{k}"] for k in ("street", "city", "state", "postal_code")
            },
            "dea_number": text["dea_number"],
        }

    def set_values(self, party: Mapping[str, object]) -> None:
        address = party.get("address")
        flat: dict[str, object] = {
            "name": party.get("name", ""),
            "dea_number": party.get("dea_number", ""),
        }
        if isinstance(address, Mapping):
            flat.update({f"address.{k}": v for k, v in address.items()})
        for path, edit in self.edits.items():
            edit.setText(str(flat.get(path) or ""))
        # Filled in from a stored party: its problems are worth showing at once.
        self.touched.update(path for path in self.edits if flat.get(path))

    def show_errors(self, problems: Mapping[str, str]) -> None:
        """Messages keyed by field path inside the party; fields not named are cleared.

        Only the fields touched (or all, once `reveal_all`) show theirs.
        """
        self._problems = dict(problems)
        for path, label in self.errors.items():
            shown = path in self.touched or self.reveal_all
            message = problems.get(path) if shown else None
            label.setText(message or "")
            label.setVisible(bool(message))
            self.edits[path].setToolTip(message or "")

    def first_error(self) -> QLineEdit | None:
        return next((self.edits[p] for p in self.errors if self._problems.get(p)), None)

    def show_all_errors(self) -> None:
        self.reveal_all = True
        self.show_errors(self._problems)

    def _touch(self, path: str) -> None:
        if path not in self.touched:
            self.touched.add(path)
            self.show_errors(self._problems)
