"""Token → Change PIN…, and Certificates → Move a certificate file onto the token….

Both show the token's PIN state (count low, final try, locked) before any PIN
is typed, and run the token call on the token thread (TokenWorker.submit).
The fields holding PINs and passwords are cleared as soon as the job is sent.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.token_state import PinState, TokenInfo, pin_wording
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.services.tokens.key_import import (
    KEEP_COPY_WARNING,
    MoveOutcome,
    move_p12_to_token,
)
from csos_desktop.services.tokens.pins import (
    ManagedToken,
    change_user_pin,
    min_pin_length,
    token_to_manage,
)


def pin_state_html(info: TokenInfo | None) -> str:
    """The retry counter in words, shown before every PIN entry."""
    if info is None:
        return f"{dot(Tone.BAD)} No token inserted."
    kind = f" ({escape(info.kind_text)})" if info.software else ""
    if info.pin_state is PinState.LOCKED:
        return (
            f"{dot(Tone.BAD)} Token '{escape(info.label)}'{kind}: the PIN is <b>locked</b>. "
            "Your token administrator unblocks it (`csos token unblock`)."
        )
    warning = pin_wording(info.pin_state).advice
    tone = Tone.WARN if warning else Tone.OK
    words = escape(warning) if warning else "PIN state: ok."
    return f"{dot(tone)} Token '{escape(info.label)}'{kind}: {words}"


#: The action button's text (with its mnemonic) per dialog title.
GO_TEXT = {"Change PIN…": "&Change PIN", "Move a certificate file onto the token…": "&Move"}


def _secret(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    return field


class _TokenDialog(QDialog):
    """A dialog that runs one job on the token thread and shows its result."""

    def __init__(self, worker: TokenWorker, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._worker = worker
        status = worker.last_status
        self.token = status.token if status else None
        self.state = QLabel(pin_state_html(self.token))
        self.state.setTextFormat(Qt.TextFormat.RichText)
        self.state.setWordWrap(True)
        self.state.setAccessibleDescription("Token PIN state")
        self.form = QFormLayout()
        self.go = QPushButton(GO_TEXT.get(title, title.rstrip("…")))
        self.go.setDefault(True)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        self.outcome = QLabel()
        self.outcome.setTextFormat(Qt.TextFormat.RichText)
        self.outcome.setWordWrap(True)
        self.outcome.setAccessibleDescription(f"{title} result")
        layout = QVBoxLayout(self)
        layout.addWidget(self.state)
        layout.addLayout(self.form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.go)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        layout.addWidget(self.outcome)
        self.go.clicked.connect(self._start)
        locked = self.token is None or self.token.pin_state is PinState.LOCKED
        self.go.setEnabled(not locked)

    def _token(self) -> ManagedToken:
        """On the token thread: the token the dialog was opened for, looked up again."""
        return self._driver_and_token()[1]

    def _driver_and_token(self) -> tuple[str, ManagedToken]:
        """The driver's path too (a check in a new process loads it again)."""
        label = self.token.label if self.token else None
        path, token, _ = token_to_manage(self._worker.module, label, self._worker.configured)
        return path, token

    def _start(self) -> None:
        raise NotImplementedError

    def _run(self, job: Any, *, with_progress: bool = False) -> None:
        """Run *job* on the token thread; *with_progress*: it takes a callback for messages."""
        self.go.setEnabled(False)
        self.outcome.setText("Working on the token…")
        if with_progress:
            self._worker.submit(self, job, self._done, self._failed, self._progress)
        else:
            self._worker.submit(self, lambda _p: job(), self._done, self._failed)

    def _progress(self, message: object) -> None:
        self.outcome.setText(escape(str(message)))

    def _done(self, outcome: object) -> None:
        raise NotImplementedError

    def _failed(self, error: Exception) -> None:
        message = error.message if isinstance(error, CsosError) else str(error)
        self.outcome.setText(f"{dot(Tone.BAD)} {escape(message)}")
        self.go.setEnabled(True)


class ChangePinDialog(_TokenDialog):
    """Current PIN once (never retried), new PIN twice."""

    def __init__(self, worker: TokenWorker, parent: QWidget | None = None) -> None:
        super().__init__(worker, "Change PIN…", parent)
        self.old = _secret("Current PIN")
        self.new = _secret("New PIN")
        self.repeat = _secret("New PIN again")
        shortest = min_pin_length()
        self.hint = QLabel(f"The new PIN has at least {shortest} characters.")
        self.hint.setWordWrap(True)
        self.new.setAccessibleDescription(f"At least {shortest} characters")
        for label, field in (
            ("C&urrent PIN:", self.old),
            ("&New PIN:", self.new),
            ("New PIN a&gain:", self.repeat),
        ):
            self.form.addRow(label, field)
        self.form.addRow(self.hint)
        if self.token is not None and self.token.protected_auth_path:
            self.go.setEnabled(False)
            self.outcome.setText("Change the PIN with the PIN-pad reader's own function.")
        else:
            self.old.setFocus()  # the first thing typed is the current PIN

    def _start(self) -> None:
        old, new, repeat = self.old.text(), self.new.text(), self.repeat.text()
        for field in (self.old, self.new, self.repeat):
            field.clear()
        self._run(lambda: change_user_pin(self._token(), old, new, repeat))

    def _done(self, outcome: object) -> None:
        assert isinstance(outcome, TokenInfo)
        self.outcome.setText(
            f"{dot(Tone.OK)} The PIN of token '{escape(outcome.label)}' was changed."
        )


class MoveP12Dialog(_TokenDialog):
    """The .p12/.pfx file, its password, the token PIN; delete the file afterwards (default)."""

    def __init__(self, worker: TokenWorker, parent: QWidget | None = None) -> None:
        super().__init__(worker, "Move a certificate file onto the token…", parent)
        self.path = QLineEdit()
        self.path.setAccessibleName("Certificate file")
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.password = _secret("File password")
        self.pin = _secret("Token PIN")
        self.delete = QCheckBox("&Overwrite and delete the file once the key is on the token")
        self.delete.setChecked(True)
        self.delete.setAccessibleName("Delete the file afterwards")
        self.form.addRow("Certificate &file (.p12, .pfx):", row)
        self.form.addRow("File pass&word:", self.password)
        pad = self.token is not None and self.token.protected_auth_path
        if not pad:
            self.form.addRow("Token &PIN:", self.pin)
        self.path.setFocus()
        self.form.addRow(self.delete)

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Certificate file", "", "Certificate files (*.p12 *.pfx)"
        )
        if name:
            self.path.setText(name)

    def _start(self) -> None:
        file = Path(self.path.text().strip())
        try:
            data = file.read_bytes()
        except OSError as exc:
            self.outcome.setText(f"{dot(Tone.BAD)} Cannot read {escape(str(file))}: {exc.strerror}")
            return
        pad = self.token is not None and self.token.protected_auth_path
        pin = None if pad else self.pin.text()
        password = self.password.text()
        self.pin.clear()
        self.password.clear()
        delete = self.delete.isChecked()

        def job(progress: Any) -> MoveOutcome:
            module, token = self._driver_and_token()
            return move_p12_to_token(
                token, pin, data, password, file, delete_file=delete, module=module, notify=progress
            )

        self._run(job, with_progress=True)

    def _done(self, outcome: object) -> None:
        assert isinstance(outcome, MoveOutcome)
        label = self.token.label if self.token else ""
        lines = [f"{dot(Tone.OK)} {escape(outcome.summary(label))}"]
        if not outcome.file_deleted:
            lines.append(
                f"{dot(Tone.WARN)} {escape(KEEP_COPY_WARNING.format(name=self.path.text()))}"
            )
        if outcome.audit_problem:
            lines.append(f"{dot(Tone.WARN)} {escape(outcome.audit_problem)}")
        self.outcome.setText("<br>".join(lines))
