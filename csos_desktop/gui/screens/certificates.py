"""Certificates: every CSOS certificate on the inserted token, with its details."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.jobs.pool import run_job
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.row_menu import RowMenu
from csos_desktop.services.tokens.status import CertificateStatus, TokenStatus

if TYPE_CHECKING:
    from csos_desktop.domain.revocation import RevocationStatus
    from csos_desktop.gui.dialogs.enrol_wizard import EnrolWizard
    from csos_desktop.gui.dialogs.signing import SigningDialog
    from csos_desktop.gui.jobs.signing import SigningJob

COLUMNS = (
    "Subject",
    "DEA number",
    "Location",
    "Schedules",
    "Valid from",
    "Valid until",
    "Days left",
    "Status",
    "Signs",
    "Id",
)

#: RFC 5280 reason codes a holder may give, in words (the code is what is sent).
REASON_WORDS = {
    "keyCompromise": "The token or its key was lost, stolen or exposed",
    "affiliationChanged": "I no longer sign for this registrant",
    "superseded": "Replaced by a new certificate",
    "cessationOfOperation": "The pharmacy or registration has closed",
    "unspecified": "Another reason",
}
#: A check's answer written for the command line, said as the desktop user acts on it.
CLI_WORDS = {
    "give the CA's root with --trust": "ask your IT administrator to add the CA's root "
    "certificate to the trust store",
}


def signs_words(cert: CertificateStatus, signer: CertificateStatus | None) -> str:
    """Which certificate the app signs with: the one expiring last for each location."""
    if signer is None:
        return ""
    if cert.key_id == signer.key_id:
        return "Yes: signs orders"
    if cert.location != signer.location:
        return f"Yes: signs {cert.location}'s orders"
    return "No: a newer certificate signs"


def renewal_opens(cert: CertificateStatus) -> str:
    """When Renew… becomes available, in words (RENEWAL_WINDOW_DAYS before expiry)."""
    from datetime import timedelta

    from csos_desktop.domain.enrolment import RENEWAL_WINDOW_DAYS

    opens = cert.not_after - timedelta(days=RENEWAL_WINDOW_DAYS)
    return (
        f"Renew… opens on {opens:%Y-%m-%d}, {RENEWAL_WINDOW_DAYS} days before the "
        f"certificate expires ({cert.not_after:%Y-%m-%d})."
    )


def state_words(cert: CertificateStatus) -> str:
    if cert.expired:
        return "Expired"
    if cert.renewal_due:
        return "Renew now"
    return "Valid"


class CertificatesScreen(QWidget):
    """The certificates on the token; enrol, renew, request revocation, check revocation."""

    def __init__(self, worker: TokenWorker | None = None) -> None:
        super().__init__()
        self._worker = worker
        self._launcher = SigningLauncher(worker)
        self._status: TokenStatus | None = None
        self.wizard: EnrolWizard | None = None
        self.dialog: SigningDialog | None = None
        layout = QVBoxLayout(self)
        title = QLabel("Certificates")
        title.setObjectName("screenTitle")
        self.note = QLabel()
        self.note.setAccessibleDescription("Certificates summary")
        self.notice = QLabel()
        self.notice.setTextFormat(Qt.TextFormat.RichText)
        self.notice.setWordWrap(True)
        self.notice.setAccessibleDescription("Renewal notice")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Certificates on the token")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.enrol_button = QPushButton("&Enrol…")
        self.renew_button = QPushButton("Re&new…")
        self.check_button = QPushButton("&Check revocation")
        self.reason = QComboBox()  # filled when first shown: enrol.* pulls in httpx (~0.2 s)
        self.reason.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.revoke_button = QPushButton("Request re&vocation…")
        self.move_button = QPushButton("&Move a certificate file onto the token…")
        self.pin_button = QPushButton("Change &PIN…")
        for w, name in (
            (self.enrol_button, "Enrol for a certificate"),
            (self.renew_button, "Renew the certificate"),
            (self.check_button, "Check revocation status"),
            (self.reason, "Revocation reason"),
            (self.revoke_button, "Request revocation"),
            (self.move_button, "Move a certificate file onto the token"),
            (self.pin_button, "Change the token PIN"),
        ):
            w.setAccessibleName(name)
        row = QHBoxLayout()
        for w in (
            self.enrol_button,
            self.move_button,
            self.renew_button,
            self.check_button,
            self.pin_button,
        ):
            row.addWidget(w)
        row.addStretch(1)
        revoke_row = QHBoxLayout()
        reason_label = QLabel("Revocation &reason:")
        reason_label.setBuddy(self.reason)
        revoke_row.addWidget(reason_label)
        revoke_row.addWidget(self.reason)
        revoke_row.addWidget(self.revoke_button)
        revoke_row.addStretch(1)
        self.result = QLabel()
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.result.setWordWrap(True)
        self.result.setAccessibleDescription("Certificate action result")
        layout.addWidget(title)
        layout.addWidget(self.note)
        layout.addWidget(self.notice)
        layout.addLayout(row)
        layout.addLayout(revoke_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.result)
        self.enrol_button.clicked.connect(self.enrol)
        self.renew_button.clicked.connect(self.renew)
        self.check_button.clicked.connect(self.check_revocation)
        self.revoke_button.clicked.connect(self.request_revocation)
        self.move_button.clicked.connect(self.move_file)
        self.pin_button.clicked.connect(self.change_pin)
        self.token_dialog: QDialog | None = None
        self.row_menu = RowMenu(
            self.table, (self.renew_button, self.check_button, self.revoke_button)
        )
        self._enable()

    def _enable(self) -> None:
        has_token = bool(self._status and self._status.present)
        cert = self._status.certificate if self._status else None
        self.enrol_button.setEnabled(has_token)
        self.move_button.setEnabled(has_token and self._worker is not None)
        self.pin_button.setEnabled(has_token and self._worker is not None)
        due = bool(has_token and cert and cert.renewal_due and not cert.expired)
        self.renew_button.setEnabled(due)
        when = renewal_opens(cert) if cert is not None and not due and not cert.expired else ""
        self.renew_button.setToolTip(when)
        self.renew_button.setAccessibleDescription(when)
        for w in (self.check_button, self.reason, self.revoke_button):
            w.setEnabled(bool(has_token and cert))

    def show_status(self, status: TokenStatus) -> None:
        self._status = status
        certs = status.certificates
        label = status.token.label if status.token else None
        self.note.setText(
            f"Token '{label}': {len(certs)} CSOS certificate(s)."
            if label
            else (status.problem or "No token inserted.")
        )
        cert = status.certificate
        notice = None
        if cert is not None and cert.renewal_due:
            from csos_desktop.domain.enrolment import renewal_notice

            notice = renewal_notice(cert.not_after, datetime.now(UTC))
        if notice:
            tone = Tone.BAD if cert and cert.expired else Tone.WARN
            words = notice.replace("with `csos enrol renew`", "with Renew…")
            self.notice.setText(f"{dot(tone)} {words}")
        else:
            self.notice.setText(escape(renewal_opens(cert)) if cert is not None else "")
        self.table.setRowCount(len(certs))
        for row, c in enumerate(certs):
            values = (
                c.subject,
                c.dea_label,
                c.location,
                ", ".join(c.schedules),
                f"{c.not_before:%Y-%m-%d}",
                f"{c.not_after:%Y-%m-%d}",
                str(c.days_left),
                state_words(c),
                signs_words(c, cert),
                c.key_id,
            )
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self._enable()

    def showEvent(self, event: QShowEvent) -> None:
        if not self.reason.count():
            from csos_desktop.domain.enrolment import HOLDER_REASONS

            for code in HOLDER_REASONS:
                self.reason.addItem(REASON_WORDS.get(code, code), code)
        super().showEvent(event)

    def primary_action(self) -> None:
        """What the Home card's button means: renew when due, else enrol."""
        if self.renew_button.isEnabled():
            self.renew()
        elif self.enrol_button.isEnabled():
            self.enrol()

    def enrol(self) -> EnrolWizard | None:
        from csos_desktop.gui.dialogs.enrol_wizard import EnrolWizard

        if self._worker is None:
            self.result.setText(f"{dot(Tone.BAD)} Enrolment is not available in this mode.")
            return None
        self.wizard = EnrolWizard(self._worker, self)
        self.wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.wizard.show()
        return self.wizard

    def move_file(self) -> QDialog | None:
        from csos_desktop.gui.dialogs.token import MoveP12Dialog

        return self._token_dialog(MoveP12Dialog)

    def change_pin(self) -> QDialog | None:
        from csos_desktop.gui.dialogs.token import ChangePinDialog

        return self._token_dialog(ChangePinDialog)

    def _token_dialog(self, kind: Callable[[TokenWorker, QWidget], QDialog]) -> QDialog | None:
        if self._worker is None:
            return None
        self.token_dialog = kind(self._worker, self)
        self.token_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.token_dialog.show()
        return self.token_dialog

    def _signing(self, job: SigningJob) -> SigningDialog | None:
        why_not = self._launcher.unavailable()
        if why_not:
            self.result.setText(f"{dot(Tone.BAD)} {why_not}")
            return None
        self.dialog = self._launcher.open(self, job)
        return self.dialog

    def renew(self) -> SigningDialog | None:
        from csos_desktop.gui.jobs.enrol import RenewalJob

        return self._signing(RenewalJob(self._launcher.target()))

    def request_revocation(self) -> SigningDialog | None:
        from csos_desktop.gui.jobs.enrol import RevocationJob

        code = str(self.reason.currentData() or self.reason.currentText())
        return self._signing(RevocationJob(self._launcher.target(), code))

    def check_revocation(self) -> None:
        """Read the certificate on the token thread, then ask the CA from the pool."""
        from csos_desktop.gui.jobs.enrol import certificate_material

        if self._worker is None:
            return
        self.check_button.setEnabled(False)
        self.result.setText("Asking the CA whether the certificate is revoked…")
        target = self._launcher.target()
        self._worker.submit(
            self, lambda _p: certificate_material(target, _p), self._material, self._check_failed
        )

    def _material(self, material: object) -> None:
        from csos_desktop.gui.jobs.enrol import CertificateMaterial, revocation_status

        assert isinstance(material, CertificateMaterial)
        run_job(
            self,
            lambda: revocation_status(material),
            self._checked,
            lambda message: self._check_failed(Exception(message)),
        )

    def _checked(self, status: RevocationStatus) -> None:
        from csos_desktop.domain.revocation import RevocationState

        tone = {RevocationState.GOOD: Tone.OK, RevocationState.REVOKED: Tone.BAD}.get(
            status.state, Tone.WARN
        )
        message = status.message
        for cli, words in CLI_WORDS.items():
            message = message.replace(cli, words)
        self.result.setText(
            f"{dot(tone)} Revocation status: <b>{status.state.value}</b> — {escape(message)}"
        )
        self.check_button.setEnabled(True)

    def _check_failed(self, error: Exception) -> None:
        self.result.setText(f"{dot(Tone.BAD)} {error}")
        self.check_button.setEnabled(True)
