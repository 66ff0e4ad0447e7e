"""Power of attorney: the registrant records themself, grants and revokes (21 CFR 1305.05).

Grant and revoke are signed on the registrant's token through the signing
dialog; the attorney-in-fact accepts a grant on their own token (Accept
(attorney)), and only then signs orders. After a revocation the screen says
that the CSOS CA must be told within 6 hours (1311.45), writes the request, and
records when it was sent.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.poa import ca_notice_due
from csos_desktop.fileio import write_atomically
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.row_menu import RowMenu
from csos_desktop.services.orders import poa
from csos_desktop.services.pharmacy_store import PoaRecord, open_store

if TYPE_CHECKING:
    from csos_desktop.gui.dialogs.signing import SigningDialog
    from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
    from csos_desktop.gui.jobs.signing import SigningJob, TokenTarget
    from csos_desktop.services.pharmacy_store import OpenStore

COLUMNS = ("Attorney-in-fact", "Granted", "Status", "CSOS CA told", "Id")


class PoaScreen(QWidget):
    """The registry for the registrant: who may sign orders, and the signed paperwork."""

    def __init__(
        self, store: OpenStore | None, launcher: SigningLauncher | None, problem: str | None = None
    ) -> None:
        super().__init__()
        self._store, self._launcher = store, launcher
        self.dialog: SigningDialog | None = None
        self._owner = QObject()
        layout = QVBoxLayout(self)
        title = QLabel("Power of attorney")
        title.setObjectName("screenTitle")
        layout.addWidget(title)
        self.registrant = QLabel()
        self.registrant.setAccessibleDescription("Registrant")
        self.registrant.setWordWrap(True)
        layout.addWidget(self.registrant)
        reg_row = QHBoxLayout()
        self.registrant_name = QLineEdit()
        self.registrant_name.setAccessibleName("Registrant's full name")
        self.registrant_name.setPlaceholderText("Full name of who signed the registration")
        self.registrant_dea = QLineEdit()
        self.registrant_dea.setAccessibleName("Registration's DEA number")
        self.registrant_dea.setPlaceholderText("DEA number (default: as enrolled)")
        self.registrant_button = QPushButton("Record me as the &registrant")
        self.registrant_button.setAccessibleName("Record me as the registrant")
        reg_row.addWidget(self.registrant_name, 1)
        reg_row.addWidget(self.registrant_dea)
        reg_row.addWidget(self.registrant_button)
        layout.addLayout(reg_row)

        self.table = QTableWidget(0, len(COLUMNS))

        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Powers of attorney")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        # Whole words in every column ("NOT YET — due by …" was cut).
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table, 1)

        # Two forms: granting a new power, and revoking the one selected above.
        grant_box = QGroupBox("Grant a power of attorney")
        form = QFormLayout(grant_box)
        self.holder = QLineEdit()
        self.holder.setAccessibleName("Attorney's full name")
        self.holder_cert = QLineEdit()
        self.holder_cert.setAccessibleName("Attorney's certificate file")
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.setAccessibleName("Browse for the attorney's certificate file")
        cert_row = QHBoxLayout()
        cert_row.addWidget(self.holder_cert, 1)
        cert_row.addWidget(self.browse_button)
        self.address = QLineEdit()
        self.address.setAccessibleName("Registrant's address")
        self.place = QLineEdit()
        self.place.setAccessibleName("Place of signing the grant")
        form.addRow("&Attorney-in-fact:", self.holder)
        holder_label = QLabel("Their &certificate (PEM/DER file):")
        holder_label.setBuddy(self.holder_cert)
        form.addRow(holder_label, cert_row)
        form.addRow("Registrant's a&ddress:", self.address)
        form.addRow("&Place of signing:", self.place)
        self.grant_button = QPushButton("&Grant (sign)…")
        # 1305.05(c): the attorney affirms the grant under their own signature, on their token.
        self.accept_button = QPushButton("Accept (attorne&y)…")
        grant_buttons = QHBoxLayout()
        grant_buttons.addWidget(self.grant_button)
        grant_buttons.addWidget(self.accept_button)
        grant_buttons.addStretch(1)
        form.addRow(grant_buttons)
        revoke_box = QGroupBox("Revoke the power of attorney selected above")
        revoke_form = QFormLayout(revoke_box)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason for revoking")
        self.revoke_place = QLineEdit()
        self.revoke_place.setAccessibleName("Place of signing the revocation")
        revoke_form.addRow("Reason to rev&oke:", self.reason)
        revoke_form.addRow("Place of s&igning:", self.revoke_place)
        self.revoke_button = QPushButton("Re&voke selected (sign)…")
        self.save_request_button = QPushButton("&Save CA request…")
        self.notified_button = QPushButton("CA &was told")
        buttons = QHBoxLayout()
        for b in (
            self.grant_button,
            self.accept_button,
            self.revoke_button,
            self.save_request_button,
            self.notified_button,
        ):
            b.setAccessibleName(b.text().replace("&", "").rstrip("…"))
        for b in (self.revoke_button, self.save_request_button, self.notified_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        revoke_form.addRow(buttons)
        forms = QHBoxLayout()
        forms.addWidget(grant_box, 1)
        forms.addWidget(revoke_box, 1)
        layout.addLayout(forms)
        self.confirm_box: QMessageBox | None = None
        row_actions = (self.accept_button, self.revoke_button)
        self.row_menu = RowMenu(
            self.table, (*row_actions, self.save_request_button, self.notified_button)
        )
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription("Power of attorney status")
        layout.addWidget(self.status)
        if store is None:
            self.registrant.setText(problem or "The order store could not be opened.")
            for w in (
                self.registrant_button,
                self.grant_button,
                self.accept_button,
                self.revoke_button,
            ):
                w.setEnabled(False)
            return
        self.registrant_button.clicked.connect(self.confirm_registrant)
        self.browse_button.clicked.connect(self._browse)
        self.grant_button.clicked.connect(self.grant)
        self.accept_button.clicked.connect(self.accept_selected)
        self.revoke_button.clicked.connect(self.revoke_selected)
        self.save_request_button.clicked.connect(self._save_request_clicked)
        self.notified_button.clicked.connect(self.mark_notified)
        self.reload()

    # -- reading -----------------------------------------------------------------------
    def reload(self) -> None:
        if self._store is None:
            return
        listing = poa.poa_listing(self._store)
        regs = listing.registrants
        self.registrant.setText(
            "; ".join(f"Registrant of DEA {r.dea_number}: <b>{r.name}</b>" for r in regs)
            or "No registrant recorded: until one is, any CSOS certificate for the DEA number "
            "signs its orders. The person who signed the registration records themself here."
        )
        grants = list(listing.grants)
        self.table.setRowCount(len(grants))
        for row, g in enumerate(grants):
            values = (g.holder_name, g.granted_on, *self._state(g), g.poa_id)
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self._grants = grants

    @staticmethod
    def _state(g: PoaRecord) -> tuple[str, str]:
        if g.current:
            return ("current", "") if g.accepted else ("PENDING ACCEPTANCE by the attorney", "")
        revoked = datetime.fromisoformat(str(g.revoked_at).replace("Z", "+00:00"))
        due = ca_notice_due(revoked)
        told = g.ca_notified_at or f"NOT YET — due by {due:%Y-%m-%d %H:%M} UTC"
        return f"revoked {g.revoked_at}", told

    def selected(self) -> PoaRecord | None:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return self._grants[rows[0]] if len(rows) == 1 else None

    # -- acting ------------------------------------------------------------------------
    def confirm_registrant(self) -> None:
        """The registrant decides who signs orders: asked once more before it is recorded."""
        name = " ".join(self.registrant_name.text().split())
        if not name:
            self.status.setText(f"{dot(Tone.WARN)} Type your full name first.")
            self.registrant_name.setFocus()
            return
        dea = self.registrant_dea.text().strip() or "the DEA number on your certificate"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Record the registrant?",
            f"Record {name} as the registrant of {dea}? From then on, only certificates "
            "this person grants a power of attorney to sign orders for it.",
            parent=self,
        )
        record = box.addButton("&Record registrant", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        record.clicked.connect(self.record_registrant)
        self.confirm_box = box
        box.open()

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self,
            "The attorney's certificate",
            "",
            "Certificates (*.pem *.crt *.cer *.der);;All files (*)",
        )
        if name:
            self.holder_cert.setText(name)

    def record_registrant(self) -> None:
        """Read the certificate on the token (no PIN) and record its holder as registrant."""
        if self._store is None or not self._ready():
            return
        assert self._launcher is not None and self._launcher.worker is not None
        name, path, target = self.registrant_name.text(), self._store.path, self._launcher.target()
        dea = self.registrant_dea.text().strip() or None

        def record(_progress: object) -> str:
            from csos_desktop.services.signing import SigningPurpose, signing_session

            with open_store(path) as store, signing_session(target, SigningPurpose.ORDER) as s:
                return poa.record_registrant(store, s.identity, name, dea_number=dea).name

        self._launcher.worker.submit(self._owner, record, self._recorded, self._failed)

    def _recorded(self, name: object) -> None:
        self.reload()
        self.status.setText(f"{dot(Tone.OK)} {name} is recorded as the registrant.")

    def grant(self) -> SigningDialog | None:
        from csos_desktop.gui.jobs.notices import PoaGrantJob

        if self._store is None or not self._ready():
            return None
        try:
            from csos_desktop.pki.certfile import load_certificates  # not at first paint

            certs = load_certificates(Path(self.holder_cert.text().strip()))
        except CsosError as exc:
            self._failed(exc)
            return None
        job = PoaGrantJob(
            self._store.path,
            self._target(),
            holder_name=self.holder.text(),
            holder_certificates=certs,
            address=self.address.text(),
            place=self.place.text(),
        )
        return self._open(job)

    def accept_selected(self) -> SigningDialog | None:
        """The attorney-in-fact, with their own token in the reader, signs the acceptance."""
        from csos_desktop.gui.jobs.notices import PoaAcceptJob

        g = self.selected()
        if self._store is None or g is None:
            self.status.setText(f"{dot(Tone.WARN)} Select the power of attorney to accept.")
            return None
        if not self._ready():
            return None
        return self._open(PoaAcceptJob(self._store.path, self._target(), g.poa_id))

    def revoke_selected(self) -> SigningDialog | None:
        from csos_desktop.gui.jobs.notices import PoaRevokeJob

        g = self.selected()
        if self._store is None or g is None:
            self.status.setText(f"{dot(Tone.WARN)} Select the power of attorney to revoke.")
            return None
        if not self._ready():
            return None
        job = PoaRevokeJob(
            self._store.path,
            self._target(),
            g.poa_id,
            self.reason.text(),
            self.revoke_place.text(),
        )
        return self._open(job)

    def save_ca_request(self, path: Path) -> None:
        g = self.selected()
        if self._store is None or g is None:
            self.status.setText(f"{dot(Tone.WARN)} Select the revoked power of attorney.")
            return
        try:
            write_atomically(path, poa.ca_notice(self._store, g.poa_id))
        except CsosError as exc:
            self._failed(exc)
            return
        self.status.setText(
            f"{dot(Tone.WARN)} Request written to {path}: send it to the CSOS CA now, then "
            "press 'CA was told'."
        )

    def _save_request_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save the request for the CSOS CA")
        if name:
            self.save_ca_request(Path(name))

    def mark_notified(self) -> None:
        g = self.selected()
        if self._store is None or g is None:
            self.status.setText(f"{dot(Tone.WARN)} Select the revoked power of attorney.")
            return
        try:
            rec = poa.mark_ca_notified(self._store, g.poa_id)
        except CsosError as exc:
            self._failed(exc)
            return
        self.reload()
        self.status.setText(f"{dot(Tone.OK)} CA notice for {rec.holder_name} recorded.")

    # -- helpers -----------------------------------------------------------------------
    def _ready(self) -> bool:
        why_not = self._launcher.unavailable() if self._launcher else "Signing is not available."
        if why_not:
            self.status.setText(f"{dot(Tone.BAD)} {why_not}")
        return why_not is None

    def _target(self) -> TokenTarget:
        assert self._launcher is not None
        return self._launcher.target()

    def _open(self, job: SigningJob) -> SigningDialog:
        assert self._launcher is not None
        self.dialog = self._launcher.open(self, job)
        self.dialog.signed.connect(self._signed)
        return self.dialog

    def _signed(self, outcome: object) -> None:
        if getattr(outcome, "signed", None):  # a form signed is cleared for the next one
            for field in (self.holder, self.holder_cert, self.reason):
                field.clear()
        self.reload()
        revoked = [g for g in self._grants if not g.current and g.ca_notified_at is None]
        if revoked:
            self.status.setText(
                f"{dot(Tone.BAD)} Tell the CSOS Certification Authority within 6 hours that "
                f"the authority of {', '.join(g.holder_name for g in revoked)} ended "
                "(21 CFR 1311.45): select it, Save CA request…, send it, then CA was told."
            )

    def _failed(self, error: object) -> None:
        message = getattr(error, "message", str(error))
        self.status.setText(f"{dot(Tone.BAD)} {message}")
