"""Prepare or edit a prescription draft: the `csos rx draft add|update` of the window.

The form only gathers the ``csos-rx/1`` input; the preparing services check it
(1306.05 content, 1306.12 refills, who may prepare for whom) and record it with its
audit entry. Their refusals are shown as they come: each problem under its heading in
the form's words, a refusal of access as its sentence. Quantity and refills are typed,
never stepped by an arrow key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.clock import utc_now
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.order_rules import DocumentInvalid
from csos_desktop.domain.schedule import Schedule
from csos_desktop.gui.theme import Tone
from csos_desktop.gui.widgets.fit import fit_to_screen
from csos_desktop.services.pharmacy_store import Role, RxRecord, RxUser
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx import queries as rx_queries
from csos_desktop.services.rx.access import Actor
from csos_desktop.services.rx.history import EditableDraft, editable_draft, practice_address

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore

#: The schedules a prescription may name (schedule I cannot be prescribed).
SCHEDULES = tuple(s for s in Schedule if s is not Schedule.I)
_ADDRESS = (("street", "Street"), ("city", "City"), ("state", "State"), ("postal_code", "ZIP"))
_IN_ADDRESS = [(f"address.{k}", w) for k, w in _ADDRESS]
#: Field path (as the services name it in a problem) -> the form's words for it.
FIELD_WORDS = {
    "patient.name": "Patient name",
    **{f"patient.address.{k}": f"Patient {w.lower()}" for k, w in _ADDRESS},
    "drug.name": "Drug",
    "drug.strength": "Strength",
    "drug.dosage_form": "Dosage form",
    "drug.ndc": "NDC",
    "drug.schedule": "Schedule",
    "quantity": "Quantity",
    "directions": "Directions",
    "refills": "Refills",
    "do_not_fill_before": "Do not fill before",
    "date_of_issue": "Date of issue",
    "practitioner.name": "Prescriber",
    "practitioner.dea_number": "Prescriber's DEA number",
    **{f"practitioner.address.{k}": f"Practice {w.lower()}" for k, w in _ADDRESS},
}


def problem_lines(exc: DocumentInvalid) -> list[str]:
    """Each problem as '<field in the form's words>: <why>'."""
    return [f"{FIELD_WORDS.get(p.field, p.field)}: {p.message}" for p in exc.problems]


def _whole_number(text: str) -> object:
    # Digits go as a number; anything else goes as typed, for the services to name.
    return int(text) if text.isdigit() else text


class RxDraftDialog(QDialog):
    """The form; *Save* calls ``add_draft`` (new) or ``update_draft`` (editing)."""

    def __init__(
        self,
        store: OpenStore,
        actor: Actor,
        practitioners: Sequence[RxUser],
        editing: EditableDraft | None = None,
        parent: QWidget | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(parent)
        self._store, self._actor, self._editing, self._clock = store, actor, editing, clock
        self._practitioners = list(practitioners)
        # Each practitioner's current DEA registrations (1311.120(b)(7)): one is chosen.
        self._registrations = {
            u.user_id: rx_queries.registrations(store, u.user_id) for u in self._practitioners
        }
        self.record: RxRecord | None = None
        title = "Edit prescription draft" if editing else "New prescription"
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.edits: dict[str, QLineEdit] = {}
        layout = QVBoxLayout(self)
        patient = self._group("Patient", "patient", [("name", "&Name"), *_IN_ADDRESS])
        drug = self._group(
            "Drug",
            "drug",
            [("name", "Dr&ug"), ("strength", "Strength"), ("dosage_form", "Dosage form")],
        )
        drug_form = drug.layout()
        assert isinstance(drug_form, QFormLayout)
        self.ndc = self._edit("drug.ndc", "NDC (optional, 11 digits)")
        drug_form.addRow("NDC (optional):", self.ndc)
        self.schedule = QComboBox()
        self.schedule.setAccessibleName("Schedule")
        for s in SCHEDULES:
            self.schedule.addItem(s.label, s.value)
        drug_form.addRow("Schedule:", self.schedule)
        self.quantity = self._edit("quantity", "Quantity")
        self.quantity.setValidator(QIntValidator(1, 99999, self.quantity))
        drug_form.addRow("&Quantity:", self.quantity)
        self.directions = self._edit("directions", "Directions")
        drug_form.addRow("D&irections:", self.directions)
        self.refills = self._edit("refills", "Refills")
        self.refills.setText("0")
        drug_form.addRow("Refills:", self.refills)
        self.not_before = self._edit("do_not_fill_before", "Do not fill before")
        self.not_before.setPlaceholderText("YYYY-MM-DD (schedule II series only)")
        drug_form.addRow("Do not fill before:", self.not_before)
        prescriber = self._group("Prescriber", "practitioner", _IN_ADDRESS, "Practice ")
        prescriber_form = prescriber.layout()
        assert isinstance(prescriber_form, QFormLayout)
        self.prescriber = QComboBox()
        self.prescriber.setAccessibleName("Prescriber")
        for u in self._practitioners:
            regs = self._registrations[u.user_id]
            held = (
                f"DEA {regs[0].dea_number}" if len(regs) == 1 else f"{len(regs)} DEA registrations"
            )
            self.prescriber.addItem(f"{u.full_name} ({held})", u.user_id)
        prescriber_form.insertRow(0, "Prescri&ber:", self.prescriber)
        # Shown only for a practitioner with several registrations, and then with none
        # selected: the person preparing selects it (21 CFR 1311.120(b)(7)).
        self.registration = QComboBox()
        self.registration.setAccessibleName("DEA registration")
        self.registration.setPlaceholderText("Select the registration")
        prescriber_form.insertRow(1, "DEA re&gistration:", self.registration)
        self._prescriber_form = prescriber_form
        columns = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(patient)
        left.addWidget(prescriber)
        columns.addLayout(left)
        columns.addWidget(drug)
        layout.addLayout(columns)
        self.errors = QLabel()
        self.errors.setWordWrap(True)
        self.errors.setTextFormat(Qt.TextFormat.PlainText)
        self.errors.setStyleSheet(f"color: {Tone.BAD.value}")
        self.errors.setAccessibleDescription("Why the prescription was not saved")
        self.errors.setVisible(False)
        layout.addWidget(self.errors)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setAccessibleName("Save the draft")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.prescriber.currentIndexChanged.connect(self._prescriber_chosen)
        self.registration.currentIndexChanged.connect(self._registration_chosen)
        self._list_registrations()
        if editing is not None:
            self._fill(editing.data)
        else:
            self._prescriber_chosen()
        fit_to_screen(self, 900, 560)

    def _edit(self, path: str, name: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setAccessibleName(name)
        self.edits[path] = edit
        return edit

    def _group(
        self, title: str, prefix: str, fields: Sequence[tuple[str, str]], words: str = ""
    ) -> QGroupBox:
        box = QGroupBox(title)
        form = QFormLayout(box)
        for key, label in fields:
            name = f"{words or title + ' '}{label.replace('&', '').lower()}"
            form.addRow(f"{label}:", self._edit(f"{prefix}.{key}", name.capitalize()))
        return box

    # -- reading and writing the form -------------------------------------------------
    def _text(self, path: str) -> str:
        return self.edits[path].text().strip()

    def _address(self, prefix: str) -> dict[str, object]:
        return {k: self._text(f"{prefix}.address.{k}") for k, _w in _ADDRESS}

    def values(self) -> dict[str, object]:
        """The ``csos-rx/1`` input the form holds."""
        i = self.prescriber.currentIndex()
        who = self._practitioners[i] if 0 <= i < len(self._practitioners) else None
        drug: dict[str, object] = {
            "name": self._text("drug.name"),
            "strength": self._text("drug.strength"),
            "dosage_form": self._text("drug.dosage_form"),
            "schedule": self.schedule.currentData(),
        }
        if self._text("drug.ndc"):
            drug["ndc"] = self._text("drug.ndc")
        issued = (
            self._editing.data.get("date_of_issue")
            if self._editing
            else local_date(self._clock()).isoformat()
        )
        practitioner: dict[str, object] = {
            "name": who.full_name if who else "",
            "address": self._address("practitioner"),
        }
        chosen = self.registration.currentData()
        if chosen:  # none selected: the preparing service lists the choices
            practitioner["dea_number"] = chosen
        data: dict[str, object] = {
            "schema": "csos-rx/1",
            "date_of_issue": issued,
            "patient": {"name": self._text("patient.name"), "address": self._address("patient")},
            "drug": drug,
            "quantity": _whole_number(self._text("quantity")),
            "directions": self._text("directions"),
            "refills": _whole_number(self._text("refills")),
            "practitioner": practitioner,
        }
        if self._text("do_not_fill_before"):
            data["do_not_fill_before"] = self._text("do_not_fill_before")
        return data

    def _fill(self, data: Mapping[str, object]) -> None:
        def put(prefix: str, value: object) -> None:
            if isinstance(value, Mapping):
                for k, v in value.items():
                    put(f"{prefix}.{k}" if prefix else str(k), v)
            elif prefix in self.edits:
                self.edits[prefix].setText(str(value))

        put("", data)
        drug = data.get("drug")
        if isinstance(drug, Mapping):
            self.schedule.setCurrentIndex(max(0, self.schedule.findData(drug.get("schedule"))))
        practitioner = data.get("practitioner")
        dea = practitioner.get("dea_number") if isinstance(practitioner, Mapping) else None
        for i, u in enumerate(self._practitioners):
            if any(r.dea_number == dea for r in self._registrations[u.user_id]):
                self.prescriber.blockSignals(True)
                self.prescriber.setCurrentIndex(i)
                self.prescriber.blockSignals(False)
                self._list_registrations()
                self.registration.blockSignals(True)
                self.registration.setCurrentIndex(self.registration.findData(dea))
                self.registration.blockSignals(False)

    def _chosen_practitioner(self) -> RxUser | None:
        i = self.prescriber.currentIndex()
        return self._practitioners[i] if 0 <= i < len(self._practitioners) else None

    def _list_registrations(self) -> None:
        """The chooser lists the prescriber's registrations; with one, it is taken."""
        who = self._chosen_practitioner()
        regs = self._registrations[who.user_id] if who else ()
        self.registration.blockSignals(True)
        self.registration.clear()
        for r in regs:
            self.registration.addItem(r.label(), r.dea_number)
        self.registration.setCurrentIndex(0 if len(regs) == 1 else -1)
        self.registration.blockSignals(False)
        self._prescriber_form.setRowVisible(self.registration, len(regs) > 1)

    def _prescriber_chosen(self) -> None:
        self._list_registrations()
        if self._editing is None:  # another prescriber: not the last one's practice
            self._put_practice_address({})
        self._registration_chosen()

    def _registration_chosen(self) -> None:
        """A new prescription starts from the practice address on the registration's last one
        (what was typed stays when there is none)."""
        dea = self.registration.currentData()
        address = practice_address(self._store, dea) if dea else None
        if self._editing is None and address:
            self._put_practice_address(address)

    def _put_practice_address(self, address: Mapping[str, object]) -> None:
        for k, _w in _ADDRESS:
            self.edits[f"practitioner.address.{k}"].setText(str(address.get(k, "")))

    # -- saving ---------------------------------------------------------------------------
    def save(self) -> None:
        """Through the preparing services; on a refusal the form stays open with the reason."""
        now = self._clock()
        try:
            if self._editing is None:
                who = self._chosen_practitioner()
                self.record = rx_drafts.add_draft(
                    self._store,
                    self._actor,
                    self.values(),
                    now=now,
                    practitioner=who.user_id if who else None,
                )
            else:
                self.record = rx_drafts.update_draft(
                    self._store,
                    self._actor,
                    self._editing.rx_id,
                    self.values(),
                    now=now,
                    expected_sha256=self._editing.sha256,
                )
        except DocumentInvalid as exc:
            lines = problem_lines(exc)
            self._refused(lines, {p.field: ln for p, ln in zip(exc.problems, lines, strict=True)})
            return
        except CsosError as exc:
            self._refused([exc.message], {})
            return
        self.accept()

    def _refused(self, lines: list[str], by_field: Mapping[str, str]) -> None:
        self.errors.setText("\n".join(["The prescription was not saved:", *lines]))
        self.errors.setVisible(True)
        for path, edit in self.edits.items():
            edit.setToolTip(by_field.get(path, ""))
        first = next((self.edits[f] for f in by_field if f in self.edits), None)
        if first is not None:
            first.setFocus()


def open_draft_form(
    parent: QWidget, store: OpenStore, actor: Actor, users: Sequence[RxUser], rx_id: str | None
) -> RxDraftDialog:
    """The form for a new draft, or for draft *rx_id* as stored now, shown window-modal.

    Raises CsosError when *rx_id* cannot be edited (signed, void, unknown).
    """
    editing = editable_draft(store, rx_id) if rx_id else None
    practitioners = [u for u in users if u.role is Role.PRACTITIONER]
    dialog = RxDraftDialog(store, actor, practitioners, editing, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.show()
    return dialog
