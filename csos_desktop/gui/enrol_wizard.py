"""The enrolment wizard: token → codes → key generation → retrieval → done.

Every token and network step runs on the token thread (``enrol_worker``). A
network error shows on the page it happened with a Retry button that resumes
the same enrolment: same login, same key, same codes.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from csos_desktop.enroll.errors import CaUnavailable, CaUnreachable, EnrolmentError
from csos_desktop.enroll.est_client import OneTimeCodes
from csos_desktop.enroll.flow import Enrolled, Step
from csos_desktop.enroll.records import Records
from csos_desktop.gui.enrol_worker import (
    ClientFactory,
    Enrolment,
    EnrolRequest,
    est_client,
    present_tokens,
)
from csos_desktop.gui.signing_summary import pin_warning
from csos_desktop.gui.signing_worker import PinBox, TokenTarget
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.token_worker import TokenWorker
from csos_desktop.token.errors import WrongPin
from csos_desktop.token.keys import KeyAlgorithm
from csos_desktop.token.slots import TokenInfo

KEY_STEPS = (Step.APPLICATION, Step.CA_CERTIFICATES, Step.KEY, Step.REQUEST)
RETRIEVAL_STEPS = (Step.SUBMIT, Step.CHECK, Step.INSTALL)
#: Worth a retry on the same enrolment; anything else needs the user to change something.
RETRYABLE = (CaUnreachable, CaUnavailable)


def _field(form: QFormLayout, label: str, widget: QWidget, name: str) -> None:
    widget.setAccessibleName(name)
    caption = QLabel(label)
    caption.setBuddy(widget)
    form.addRow(caption, widget)


def steps_html(steps: tuple[Step, ...], done: set[Step], current: Step | None) -> str:
    """A checklist in words: done, now, to do."""
    rows = []
    for s in steps:
        if s in done:
            rows.append(f"{dot(Tone.OK)} {s.value}: done")
        elif s is current:
            rows.append(f"{dot(Tone.WARN)} <b>{s.value}…</b>")
        else:
            rows.append(f"{dot(Tone.NEUTRAL)} {s.value}")
    return "<br>".join(rows)


class TokenPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("1. Token and certificate authority")
        self.setSubTitle("The key pair is made on this token and never leaves it.")
        form = QFormLayout(self)
        self.token = QComboBox()
        self.ca_url = QLineEdit()
        self.ca_url.setPlaceholderText("https://ca.example:8443")
        self.ca_bundle = QLineEdit()
        self.ca_bundle.setPlaceholderText("PEM root of the CA (leave empty for the system store)")
        self.algorithm = QComboBox()
        self.algorithm.addItem("RSA 2048", KeyAlgorithm.RSA2048)
        self.algorithm.addItem("ECDSA P-256", KeyAlgorithm.P256)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        _field(form, "&Token:", self.token, "Token")
        _field(form, "CA &address:", self.ca_url, "CA address")
        _field(form, "CA &bundle:", self.ca_bundle, "CA bundle")
        _field(form, "&Key type:", self.algorithm, "Key type")
        form.addRow(self.note)
        self.note.setAccessibleName("Token note")
        record = Records().ca()
        if record is not None:
            self.ca_url.setText(record.ca_url)
            self.ca_bundle.setText(record.ca_bundle or "")
        self.ca_url.textChanged.connect(self.completeChanged)
        self.token.currentIndexChanged.connect(self.completeChanged)
        self.tokens: list[TokenInfo] = []

    def show_tokens(self, tokens: list[TokenInfo]) -> None:
        self.tokens = tokens
        self.token.clear()
        for t in tokens:
            self.token.addItem(f"{t.label} ({t.manufacturer} {t.model}, serial {t.serial})")
        self.note.setText("" if tokens else f"{dot(Tone.BAD)} No token found: insert it.")
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return bool(self.tokens) and self.ca_url.text().strip().lower().startswith("https://")


class CodesPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("2. One-time codes")
        self.setSubTitle("The reference number and authorisation code from your CA's letter.")
        form = QFormLayout(self)
        self.reference = QLineEdit()
        self.code = QLineEdit()
        self.code.setEchoMode(QLineEdit.EchoMode.Password)
        self.dea = QLineEdit()
        self.dea.setPlaceholderText("Optional: checked against the CA's record")
        _field(form, "&Reference number:", self.reference, "Reference number")
        _field(form, "&Authorisation code:", self.code, "Authorisation code")
        _field(form, "Your &DEA number:", self.dea, "Your DEA number")
        for e in (self.reference, self.code):
            e.textChanged.connect(self.completeChanged)

    def isComplete(self) -> bool:
        return bool(self.reference.text().strip() and self.code.text().strip())


class WorkPage(QWizardPage):
    """Key generation or retrieval: a checklist, an error line and Retry."""

    def __init__(self, title: str, subtitle: str, steps: tuple[Step, ...]) -> None:
        super().__init__()
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.steps = steps
        layout = QVBoxLayout(self)
        self.checklist = QLabel()
        self.checklist.setTextFormat(Qt.TextFormat.RichText)
        self.checklist.setAccessibleName("Steps")
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.RichText)
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Problem")
        self.retry = QPushButton("&Retry")
        self.retry.setAccessibleName("Retry")
        self.retry.setVisible(False)
        layout.addWidget(self.checklist)
        layout.addWidget(self.error)
        layout.addWidget(self.retry, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self.complete = False

    def show_steps(self, done: set[Step], current: Step | None) -> None:
        self.checklist.setText(steps_html(self.steps, done, current))

    def isComplete(self) -> bool:
        return self.complete


class EnrolWizard(QWizard):
    """Runs one enrolment on the token thread; `enrolled` is set when the certificate is on it."""

    def __init__(
        self,
        worker: TokenWorker,
        parent: QWidget | None = None,
        *,
        client_factory: ClientFactory = est_client,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Enrol for a CSOS certificate")
        self.setAccessibleName("Enrolment wizard")
        self.resize(720, 520)
        self._worker = worker
        self._factory = client_factory
        self._enrolment: Enrolment | None = None
        self._done_steps: set[Step] = set()
        self.enrolled: Enrolled | None = None
        self.token_page = TokenPage()
        self.codes_page = CodesPage()
        self.key_page = WorkPage(
            "3. Key generation",
            "Enter the token PIN: the key pair is made on the token and the request signed there.",
            KEY_STEPS,
        )
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setAccessibleName("Token PIN")
        self.pin_note = QLabel()
        self.pin_note.setTextFormat(Qt.TextFormat.RichText)
        self.pin_note.setWordWrap(True)
        self.start = QPushButton("&Generate key and request the certificate")
        self.start.setAccessibleName("Generate key and request the certificate")
        box = self.key_page.layout()
        assert isinstance(box, QVBoxLayout)
        box.insertWidget(0, self.pin_note)
        box.insertWidget(1, self.pin)
        box.insertWidget(2, self.start)
        self.retrieval_page = WorkPage(
            "4. Retrieval",
            "The CA signs the request; the certificate is checked, then written to the token.",
            RETRIEVAL_STEPS,
        )
        self.done_page = QWizardPage()
        self.done_page.setTitle("5. Done")
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Enrolment result")
        QVBoxLayout(self.done_page).addWidget(self.summary)
        for page in (
            self.token_page,
            self.codes_page,
            self.key_page,
            self.retrieval_page,
            self.done_page,
        ):
            self.addPage(page)
        self.start.clicked.connect(self._log_in)
        self.pin.returnPressed.connect(self._log_in)
        self.key_page.retry.clicked.connect(self._run)
        self.retrieval_page.retry.clicked.connect(self._run)
        self.currentIdChanged.connect(self._page_shown)
        self.finished.connect(self._close_session)
        self.key_page.show_steps(set(), None)
        self.retrieval_page.show_steps(set(), None)
        worker.submit(
            self,
            lambda _p: present_tokens(worker.module, worker.configured),
            self.token_page.show_tokens,
            self._tokens_failed,
        )

    def _tokens_failed(self, error: Exception) -> None:
        self.token_page.note.setText(f"{dot(Tone.BAD)} {escape(str(error))}")

    def _page_shown(self, _id: int) -> None:
        if self.currentPage() is self.key_page:
            t = self.token_page.tokens[self.token_page.token.currentIndex()]
            warning = pin_warning(t.pin_state)
            self.pin_note.setText(
                f"{dot(warning[0])} {escape(warning[1])}"
                if warning
                else f"PIN of token '{escape(t.label)}':"
            )
            self.pin.setFocus()

    def request(self) -> EnrolRequest:
        t = self.token_page.tokens[self.token_page.token.currentIndex()]
        bundle = self.token_page.ca_bundle.text().strip()
        w = self._worker
        return EnrolRequest(
            TokenTarget(w.module, t.label, w.configured),
            self.token_page.ca_url.text().strip(),
            Path(bundle) if bundle else None,
            OneTimeCodes(
                self.codes_page.reference.text().strip(), self.codes_page.code.text().strip()
            ),
            self.token_page.algorithm.currentData(),
            self.codes_page.dea.text().strip() or None,
        )

    # -- the work ------------------------------------------------------------------------
    def _log_in(self) -> None:
        if self._enrolment is not None or not self.pin.text():
            return
        box = PinBox(self.pin.text())
        self.pin.clear()  # used once, right now
        self._enrolment = Enrolment(self.request(), self._factory)
        self.codes_page.code.clear()  # the request holds it until the wizard closes
        self.start.setEnabled(False)
        self.pin.setEnabled(False)
        enrolment = self._enrolment
        self._worker.submit(
            self, lambda p: enrolment.log_in(box, p), self._logged_in, self._login_failed
        )

    def _logged_in(self, _token: TokenInfo) -> None:
        self._run()

    def _login_failed(self, error: Exception) -> None:
        self._enrolment = None
        self.start.setEnabled(True)
        self.pin.setEnabled(True)
        self.key_page.error.setText(f"{dot(Tone.BAD)} {escape(str(error))}")
        if isinstance(error, WrongPin):
            self.pin.setFocus()

    def _run(self) -> None:
        enrolment = self._enrolment
        assert enrolment is not None
        for page in (self.key_page, self.retrieval_page):
            page.error.setText("")
            page.retry.setVisible(False)
        self._worker.submit(self, enrolment.run, self._enrolled, self._failed, self._step)

    def _step(self, step: Any) -> None:
        if not isinstance(step, Step):
            return
        steps = list(Step)
        self._done_steps = set(steps[: steps.index(step)])
        if step in RETRIEVAL_STEPS and self.currentPage() is self.key_page:
            self.key_page.complete = True
            self.key_page.completeChanged.emit()
            self.next()
        self.key_page.show_steps(self._done_steps, step)
        self.retrieval_page.show_steps(self._done_steps, step)

    def _failed(self, error: Exception) -> None:
        page = self.currentPage()
        assert isinstance(page, WorkPage)
        retry = isinstance(error, RETRYABLE) or (
            isinstance(error, EnrolmentError) and "try again" in str(error)
        )
        hint = " Press Retry: the same key and codes are used." if retry else ""
        page.error.setText(f"{dot(Tone.BAD)} {escape(str(error))}{escape(hint)}")
        page.retry.setVisible(retry)
        if retry:
            page.retry.setFocus()

    def _enrolled(self, done: Enrolled) -> None:
        self.enrolled = done
        self._done_steps = set(Step)
        self.retrieval_page.show_steps(self._done_steps, None)
        self.retrieval_page.complete = True
        self.retrieval_page.completeChanged.emit()
        info = done.info
        self.summary.setText(
            f"{dot(Tone.OK)} <b>Certificate installed</b> on the token.<br>"
            f"{escape(info.subject)}, DEA {escape(info.dea_number)}, schedules "
            f"{', '.join(sorted(s.value for s in info.schedules))}<br>valid until "
            f"{info.not_after:%Y-%m-%d}."
            + (" (An earlier attempt's key was reused.)" if done.resumed else "")
        )
        self.next()

    def _close_session(self) -> None:
        if self._enrolment is not None:
            enrolment, self._enrolment = self._enrolment, None
            # Owned by the application: the wizard may be gone when the token thread answers.
            app = QApplication.instance()
            assert app is not None
            self._worker.submit(app, enrolment.close, _ignore, _ignore)


def _ignore(_value: object) -> None:
    """Closing the session reports nothing."""
