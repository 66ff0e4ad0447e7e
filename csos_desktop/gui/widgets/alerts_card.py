"""Home's card of audit alerts (21 CFR 1311.150(b), 1311.215(b)): shown until acknowledged."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
)

from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.card import Card

if TYPE_CHECKING:  # Home is built before the first paint; the records' code loads later
    from csos_desktop.services.rx.records import AlertsView

#: Qt.ItemDataRole.UserRole: where each list item keeps its alert's id.
_ALERT_ID = 256


class AlertsCard(Card):
    """The unacknowledged alerts, and *Acknowledge* as a chosen EPCS user.

    Hidden while there is nothing to acknowledge (most pharmacies never prescribe).
    """

    acknowledge = Signal(int, str)  # alert id, user id

    def __init__(self) -> None:
        super().__init__("Audit alerts to acknowledge")
        self.list = QListWidget()
        self.list.setAccessibleName("Unacknowledged audit alerts")
        self.list.setWordWrap(True)
        self.user = QComboBox()
        self.user.setAccessibleName("Acknowledge as")
        row = QHBoxLayout()
        row.addWidget(QLabel("Acknowledge as:"))
        row.addWidget(self.user, 1)
        layout = self.layout()
        assert isinstance(layout, QBoxLayout)
        layout.insertWidget(2, self.list)  # after the title and the body, before the button
        layout.insertLayout(3, row)
        self.set_action("Acknowledge")
        self.button.setAccessibleName("Acknowledge the selected alert")
        self.button.clicked.connect(self._acknowledge)
        self.setVisible(False)

    def show_alerts(self, view: AlertsView) -> None:
        self.list.clear()
        for alert in view.alerts:
            item = QListWidgetItem(f"#{alert.alert_id} {alert.at} — {alert.message}")
            item.setData(_ALERT_ID, alert.alert_id)
            self.list.addItem(item)
        if view.alerts:
            self.list.setCurrentRow(0)
        chosen = self.user.currentText()
        self.user.clear()
        self.user.addItems(list(view.users))
        if chosen in view.users:
            self.user.setCurrentText(chosen)
        count = len(view.alerts)
        who = (
            "Choose who you are and acknowledge each one once it has been looked into."
            if view.users
            else "Add an EPCS user (`csos rx user add`) to acknowledge them."
        )
        self.set_body(
            f"{dot(Tone.BAD)} <b>{count} alert(s)</b> from the daily audit analysis "
            f"(21 CFR 1311.150(b)): possible security incidents. {escape(who)}"
        )
        self.button.setEnabled(bool(view.users))
        self.setVisible(bool(count))

    def show_problem(self, message: str) -> None:
        self.set_body(f"{dot(Tone.BAD)} The audit alerts could not be read: {escape(message)}")
        self.setVisible(True)

    def _acknowledge(self) -> None:
        item = self.list.currentItem()
        if item is None or not self.user.currentText():
            return
        self.acknowledge.emit(int(item.data(_ALERT_ID)), self.user.currentText())
