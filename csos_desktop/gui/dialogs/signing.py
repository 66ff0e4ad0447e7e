"""The signing dialog: what is signed, with which token and certificate, the PIN, the result.

The job runs on the token thread; this dialog only shows and asks. The PIN
field is cleared the moment Sign is pressed, before the job is sent.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from enum import Enum
from html import escape
from itertools import pairwise
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.token_errors import NoToken, PinLocked, TokenRemoved, WrongPin
from csos_desktop.domain.token_state import PinSeverity, pin_wording
from csos_desktop.gui.dialogs.signing_summary import (
    outcome_html,
    pin_warning,
    preview_html,
    signer_html,
)
from csos_desktop.gui.jobs.signing import (
    ChoosesCertificate,
    Notice,
    Outcome,
    PinBox,
    Preview,
    SigningJob,
    Step,
)
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.justification_list import JustificationList
from csos_desktop.services.som.gate import FlaggedOrder
from csos_desktop.services.tokens.status import TokenStatus


class Phase(Enum):
    LOADING = "loading"
    READY = "ready"
    SIGNING = "signing"
    DONE = "done"
    BLOCKED = "blocked"  # nothing can be signed (refused, locked, no token)


class SigningDialog(QDialog):
    """Preview → PIN → progress → per-item result; Cancel stops between orders."""

    signed = Signal(object)  # Outcome, once the job has finished

    def __init__(self, job: SigningJob, worker: TokenWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._job = job
        self._worker = worker
        self._cancel = threading.Event()
        self._preview: Preview | None = None
        self.outcome: Outcome | None = None
        self._error_to_repeat = ""
        self.phase = Phase.LOADING
        self.setWindowTitle(job.title)
        self.setAccessibleName(job.title)
        self.resize(820, 640)
        layout = QVBoxLayout(self)

        self.summary = QTextBrowser()
        self.summary.setAccessibleName("What you are signing")
        self.summary.setOpenLinks(False)
        self.signer = QLabel()
        self.signer.setTextFormat(Qt.TextFormat.RichText)
        self.signer.setAccessibleDescription("Token and certificate")
        self.signer.setWordWrap(True)
        # Several certificates can sign a purchaser's orders: the pharmacist picks one.
        self.pickers = QWidget()
        self.pickers.setAccessibleName("Certificate to sign with")
        self.picker_form = QFormLayout(self.pickers)
        self.picker_form.setContentsMargins(0, 0, 0, 0)
        self.picker_boxes: dict[str, QComboBox] = {}
        self.pin_warning = QLabel()
        self.pin_warning.setTextFormat(Qt.TextFormat.RichText)
        self.pin_warning.setWordWrap(True)
        self.pin_warning.setAccessibleDescription("PIN warning")
        self.pin_label = QLabel("Token &PIN:")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setAccessibleName("Token PIN")
        self.pin.setAccessibleDescription("Typed PIN is sent to the token once and cleared")
        self.pin_label.setBuddy(self.pin)
        # A flagged order (SOM, 21 CFR 1301.74(b)) is signed only with its own written reason.
        self.justifications = JustificationList()
        self.justify_button = QPushButton("Check &justifications")
        self.justify_button.setAccessibleName("Check justifications")
        self.justify_button.setAutoDefault(False)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription("Signing status")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Signing progress")
        self.progress.setVisible(False)
        self.sign_button = QPushButton("&Sign")
        self.sign_button.setAccessibleName("Sign")
        self.sign_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel")
        # Enter must never reach Stop: while signing, Sign is disabled and an auto-default
        # Stop would take the Enter that started the batch and stop it.
        self.cancel_button.setAutoDefault(False)

        layout.addWidget(self.summary, 1)
        layout.addWidget(self.signer)
        layout.addWidget(self.pickers)
        layout.addWidget(self.pin_warning)
        layout.addWidget(self.justifications)
        justify_row = QHBoxLayout()
        justify_row.addStretch(1)
        justify_row.addWidget(self.justify_button)
        layout.addLayout(justify_row)
        self._show_justification(())
        pin_row = QHBoxLayout()
        pin_row.addWidget(self.pin_label)
        pin_row.addWidget(self.pin, 1)
        layout.addLayout(pin_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.sign_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.setTabOrder(self.summary, self.pin)
        self.setTabOrder(self.pin, self.sign_button)
        self.setTabOrder(self.sign_button, self.cancel_button)

        self.sign_button.clicked.connect(self.sign)
        self.justify_button.clicked.connect(self.check_justifications)
        self.cancel_button.clicked.connect(self._cancel_clicked)
        # Enter in the PIN field presses the default button (Sign): no second handler.
        worker.status_changed.connect(self._token_status)
        self._load()

    # -- preview ---------------------------------------------------------------------
    def _load(self) -> None:
        self._set_phase(Phase.LOADING)
        self.status.setText("Reading the token and checking what can be signed…")
        self._worker.submit(self, self._job.preview, self._previewed, self._failed)

    def _previewed(self, preview: Preview) -> None:
        self._preview = preview
        self.summary.setHtml(preview_html(preview))
        self.signer.setText(signer_html(preview))
        self._show_pickers(preview)
        warning = pin_warning(preview.token.pin_state)
        self.pin_warning.setText(f"{dot(warning[0])} {escape(warning[1])}" if warning else "")
        self.pin_warning.setVisible(warning is not None)
        self._show_justification(preview.flagged)
        pad = preview.token.protected_auth_path
        self.pin.setVisible(not pad)
        self.pin_label.setVisible(not pad)
        blocked = (
            preview.signable == 0
            or pin_wording(preview.token.pin_state).severity is PinSeverity.BLOCKED
        )
        if blocked:
            self._set_phase(Phase.BLOCKED)
            self.status.setText(f"{dot(Tone.BAD)} Nothing can be signed: see above.")
            return
        self._set_phase(Phase.READY)
        self.status.setText(
            "Press Sign, then enter your PIN on the reader's keypad."
            if pad
            else f"Enter the PIN of token '{escape(preview.token.label)}' and press Sign."
        )
        (self.sign_button if pad else self.pin).setFocus()

    def _show_pickers(self, preview: Preview) -> None:
        """One drop-down per purchaser DEA number with more than one usable certificate."""
        while self.picker_form.rowCount():
            self.picker_form.removeRow(0)
        self.picker_boxes = {}
        for picker in preview.pickers:
            if not picker.needs_choice:
                continue
            box = QComboBox()
            box.setAccessibleName(f"Certificate for DEA {picker.dea}")
            for c in picker.candidates:
                box.addItem(c.description, c.key_id)
            box.setCurrentIndex(box.findData(picker.chosen))
            box.currentIndexChanged.connect(
                lambda _i, dea=picker.dea, b=box: self.choose(dea, str(b.currentData()))
            )
            self.picker_form.addRow(f"Certificate for DEA {picker.dea}:", box)
            self.picker_boxes[picker.dea] = box
        self.pickers.setVisible(bool(self.picker_boxes))

    def choose(self, dea: str, key_id: str) -> None:
        """A certificate picked for purchaser *dea*: remembered, and the checks run again."""
        if isinstance(self._job, ChoosesCertificate) and self.phase is Phase.READY:
            self._job.choose(dea, key_id)
            self._load()

    def _show_justification(self, flagged: Sequence[FlaggedOrder]) -> None:
        self.justifications.show_orders(flagged)
        self.justify_button.setVisible(bool(flagged))
        # Rows are made after the dialog: Tab goes through them, then the check, then the PIN.
        fields = list(self.justifications.fields.values())
        chain = [self.summary, *fields, self.justify_button, self.pin]
        for before, after in pairwise(chain):
            self.setTabOrder(before, after)
        waiting = [self.justifications.fields[f.order_id] for f in flagged if not f.justification]
        if waiting:
            waiting[0].setFocus()

    def _justifications_changed(self) -> bool:
        # What the last check saw: the text given, or the editor's offered again.
        checked = {
            f.order_id: f.offered.strip()
            for f in (self._preview.flagged if self._preview else ())
            if f.offered and f.offered.strip()
        }
        return self.justifications.texts() != checked

    def check_justifications(self) -> None:
        """Hand the job each row's reason and check again before the PIN (nothing is
        recorded until the order is signed)."""
        if not hasattr(self._job, "som_justifications"):
            return
        self._job.som_justifications = self.justifications.texts()
        self._load()

    # -- signing ---------------------------------------------------------------------
    def sign(self) -> None:
        if self.phase is not Phase.READY or self._preview is None:
            return
        pad = self._preview.token.protected_auth_path
        # The widget's text is cleared first, whatever happens next.
        typed = None if pad else (self.pin.text() or None)
        self.pin.clear()
        if self._justifications_changed():
            # What is signed must be what was checked: check the rows as they are now.
            self.check_justifications()
            self.status.setText(
                f"{dot(Tone.WARN)} A justification changed: it was checked again; enter the "
                "PIN and press Sign."
            )
            return
        if not pad and typed is None:
            self.status.setText(f"{dot(Tone.WARN)} Type the token's PIN first.")
            self.pin.setFocus()
            return
        box = PinBox(typed)
        del typed
        self._start(box)

    def _start(self, box: PinBox) -> None:
        assert self._preview is not None
        self._set_phase(Phase.SIGNING)
        self._cancel.clear()
        self.progress.setRange(0, max(1, self._preview.signable))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setText("Logging in to the token…")
        job, cancel = self._job, self._cancel
        self._worker.submit(
            self,
            lambda progress: job.sign(box, cancel, progress),
            self._finished,
            self._failed,
            self._progress,
        )

    def _progress(self, event: Any) -> None:
        if isinstance(event, Step):
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.index)
            noun = self._preview.noun if self._preview else "order"
            self.status.setText(
                f"Signing {noun} {event.index + 1} of {event.total}: {escape(event.label)}…"
            )
        elif isinstance(event, Notice):
            tone = Tone.NEUTRAL if event.pin_pad else Tone.WARN
            self.status.setText(f"{dot(tone)} <b>{escape(event.text)}</b>")

    def _finished(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.progress.setValue(
            self.progress.maximum() if not outcome.unsigned else len(outcome.signed)
        )
        shown = preview_html(self._preview, signed=True) if self._preview else ""
        self.summary.setHtml(outcome_html(outcome) + "<hr>" + shown)
        self.pin_warning.setVisible(False)  # a good login reset the token's wrong-PIN count
        self.status.setText(
            f"{dot(Tone.OK)} All signed."
            if not outcome.unsigned
            else f"{dot(Tone.WARN)} {len(outcome.signed)} signed, {len(outcome.unsigned)} not "
            "signed: the reasons are listed above."
        )
        self._set_phase(Phase.DONE)
        self.signed.emit(outcome)

    def _failed(self, error: Exception) -> None:
        message = getattr(error, "message", str(error))
        self.progress.setVisible(False)
        if isinstance(error, WrongPin):
            self.status.setText(f"{dot(Tone.BAD)} {escape(message)}")
            self._load_after_error(message)
        elif isinstance(error, PinLocked):
            self._block(message)
        elif isinstance(error, TokenRemoved | NoToken):
            self._block(message + " The dialog continues when the token is back.")
        else:
            self._block(message)

    def _load_after_error(self, message: str) -> None:
        # Re-read the PIN flags so the warning above the field says how many tries are left.
        # (Bound methods only: a closure holding the dialog would outlive it in the relay.)
        self._error_to_repeat = message
        self._set_phase(Phase.LOADING)
        self._worker.submit(self, self._job.preview, self._reloaded, self._failed)

    def _reloaded(self, preview: Preview) -> None:
        self._previewed(preview)
        if self.phase is Phase.READY and self._error_to_repeat:
            self.status.setText(f"{dot(Tone.BAD)} {escape(self._error_to_repeat)}")
        self._error_to_repeat = ""

    def _block(self, message: str) -> None:
        self._set_phase(Phase.BLOCKED)
        self.status.setText(f"{dot(Tone.BAD)} {escape(message)}")

    # -- token and buttons -----------------------------------------------------------
    def _token_status(self, status: TokenStatus) -> None:
        if self.phase is Phase.READY and not status.present:
            self._block("The token was removed. Insert it again to sign.")
            self.pin.clear()
        elif self.phase is Phase.BLOCKED and status.present and self.outcome is None:
            self._load()

    def _cancel_clicked(self) -> None:
        if self.phase is Phase.SIGNING:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.status.setText("Stopping after the order being signed…")
        else:
            self.reject()

    def _set_phase(self, phase: Phase) -> None:
        self.phase = phase
        ready = phase is Phase.READY
        self.sign_button.setEnabled(ready)
        self.pin.setEnabled(ready)
        for w in (self.justifications, self.justify_button):
            w.setEnabled(phase in (Phase.READY, Phase.BLOCKED))
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText(
            "Stop"
            if phase is Phase.SIGNING
            else "Close"
            if phase in (Phase.DONE, Phase.BLOCKED)
            else "Cancel"
        )
        self.cancel_button.setAccessibleName(self.cancel_button.text())
        if phase is Phase.DONE:
            self.sign_button.setVisible(False)
            self.cancel_button.setDefault(True)
            self.cancel_button.setFocus()

    def closeEvent(self, event: QCloseEvent) -> None:
        # The job must report back to this dialog: closing while signing means "stop".
        if self.phase is Phase.SIGNING:
            self._cancel_clicked()
            event.ignore()
            return
        super().closeEvent(event)

    def reject(self) -> None:
        if self.phase is Phase.SIGNING:
            self._cancel_clicked()
            return
        super().reject()
