"""Prescription inbox (pharmacy): NewRx messages received, verified on receipt and kept.

Thin: receiving, verifying, keeping and answering are ``services.rx.receive`` and
``services.rx.network``; this screen lists what the store holds and shows the selected
prescription for dispensing with its verdict. Receiving from the network checks
revocation online, so it runs while a busy cursor shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.errors import CsosError
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.services.rx.receive import (
    PharmacyTrust,
    default_trust,
    reasons_of,
    receive,
    received_message,
    received_messages,
    review_of,
)

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore

if TYPE_CHECKING:  # the signing stack loads when a signing starts
    from csos_desktop.gui.dialogs.signing import SigningDialog

MESSAGE_ID = Qt.ItemDataRole.UserRole
VERDICT_WORDS = {
    "verified": "Verified on receipt",
    "not-verified": "NOT verified - do not dispense as sent",
    "indicator-only": "Indicator only - pharmacy to sign",
}
COLUMNS = ("Message", "Received", "From", "Prescription", "Verdict", "Reasons")


class RxInboxScreen(QWidget):
    """The pharmacy's inbox of e-prescriptions."""

    def __init__(
        self,
        store: OpenStore | None,
        problem: str | None = None,
        launcher: SigningLauncher | None = None,
        trust: PharmacyTrust | None = None,
    ) -> None:
        super().__init__()
        self._store = store
        self._launcher = launcher
        self.dialog: SigningDialog | None = None
        self._trust = trust  # None: the configured anchors and fetched CRLs, when needed
        layout = QVBoxLayout(self)
        title = QLabel("<h2>Prescription inbox</h2>")
        layout.addWidget(title)
        row = QHBoxLayout()
        row.addWidget(QLabel("This pharmacy's NCPDP ID:"))
        self.ncpdp_id = QLineEdit()
        self.ncpdp_id.setAccessibleName("This pharmacy's NCPDP ID")
        self.ncpdp_id.setMaxLength(7)
        row.addWidget(self.ncpdp_id)
        self.files_button = QPushButton("Receive from files…")
        self.files_button.setAccessibleName("Receive prescriptions from files")
        self.files_button.clicked.connect(self._choose_files)
        self.fetch_button = QPushButton("Fetch from network")
        self.fetch_button.setAccessibleName("Fetch prescriptions from the network")
        self.fetch_button.clicked.connect(self.fetch)
        self.sign_button = QPushButton("Sign &record…")
        self.sign_button.setAccessibleName("Sign the received record as the pharmacy")
        self.sign_button.setEnabled(False)
        self.sign_button.clicked.connect(self.sign_selected)
        row.addWidget(self.files_button)
        row.addWidget(self.fetch_button)
        row.addWidget(self.sign_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.message = QLabel(problem or "")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.table = QTreeWidget()
        self.table.setAccessibleName("Received prescriptions")
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.currentItemChanged.connect(self._show_selected)
        layout.addWidget(self.table, 2)
        self.detail = QLabel()
        self.detail.setAccessibleName("Prescription for dispensing")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.detail.setWordWrap(True)
        layout.addWidget(self.detail, 1)
        enabled = store is not None
        self.files_button.setEnabled(enabled)
        self.fetch_button.setEnabled(enabled)
        self.reload()

    def reload(self) -> None:
        self.table.clear()
        if self._store is None:
            return
        for m in received_messages(self._store):
            codes = ", ".join(code for code, _ in reasons_of(m))
            item = QTreeWidgetItem(
                [
                    str(m.message_id),
                    m.at.strftime("%Y-%m-%d %H:%M UTC"),
                    m.source,
                    m.rx_id or "-",
                    VERDICT_WORDS.get(m.verdict or "", m.verdict or ""),
                    codes,
                ]
            )
            item.setData(0, MESSAGE_ID, m.message_id)
            self.table.addTopLevelItem(item)
        first = self.table.topLevelItem(0)
        if first is not None:
            self.table.setCurrentItem(first)

    def _own(self) -> str | None:
        own = self.ncpdp_id.text().strip()
        if len(own) != 7 or not own.isdigit():
            self.message.setText("Enter this pharmacy's 7-digit NCPDP ID first.")
            return None
        return own

    def _trust_in_force(self) -> PharmacyTrust:
        return self._trust if self._trust is not None else default_trust()

    def _choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "NewRx messages", "", "XML (*.xml);;All (*)")
        self.receive_files([Path(n) for n in names])

    def receive_files(self, files: Sequence[Path]) -> None:
        own = self._own()
        if own is None or self._store is None or not files:
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            trust = self._trust_in_force()
            for f in files:
                receive(
                    self._store,
                    f.read_bytes(),
                    own_ncpdp_id=own,
                    source=f.name,
                    trust=trust,
                    now=datetime.now(UTC),
                )
            self.message.setText(f"{len(files)} message(s) received and kept.")
        except (CsosError, OSError) as exc:
            self.message.setText(str(exc))
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.reload()

    def fetch(self) -> None:
        own = self._own()
        if own is None or self._store is None:
            return
        from csos_desktop.services.rx.network import network_client, receive_from_server

        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            with network_client() as client:
                got = receive_from_server(
                    self._store,
                    client,
                    own_ncpdp_id=own,
                    trust=self._trust_in_force(),
                    now=datetime.now(UTC),
                )
            self.message.setText(f"{len(got)} new message(s) from the network.")
        except CsosError as exc:
            self.message.setText(str(exc))
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.reload()

    def sign_selected(self) -> None:
        """1311.210(c): the pharmacist signs a record that came with the indicator only."""
        item = self.table.currentItem()
        if item is None or self._store is None or self._launcher is None:
            return
        why = self._launcher.unavailable()
        if why is not None:
            self.message.setText(why)
            return
        from csos_desktop.gui.jobs.received_signing import ReceivedSigningJob

        job = ReceivedSigningJob(
            self._store.path, int(item.data(0, MESSAGE_ID)), self._launcher.target()
        )
        self.dialog = self._launcher.open(self, job)
        self.dialog.signed.connect(self._after_sign)

    def _after_sign(self, outcome: object) -> None:
        self.reload()

    def _show_selected(self, item: QTreeWidgetItem | None, _: object = None) -> None:
        if item is None or self._store is None:
            self.detail.setText("")
            self.sign_button.setEnabled(False)
            return
        record = received_message(self._store, int(item.data(0, MESSAGE_ID)))
        self.sign_button.setEnabled(
            self._launcher is not None
            and record.verdict == "indicator-only"
            and record.pharmacy_signature is None
        )
        verdict = VERDICT_WORDS.get(record.verdict or "", record.verdict or "")
        reasons = [f"{code}: {text}" for code, text in reasons_of(record)]
        signed = (
            [f"Signed by the pharmacy at {record.pharmacy_signed_at:%Y-%m-%d %H:%M} UTC"]
            if record.pharmacy_signed_at
            else []
        )
        self.detail.setText("\n".join([verdict, *signed, *review_of(record), *reasons]))
