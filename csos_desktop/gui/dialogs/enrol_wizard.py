"""The enrolment wizard: token → codes → key generation → retrieval → done.

A view of ``services.enrol.wizard_steps.EnrolmentWizardModel``, which holds the page
flow and decides what a failure offers. Every token and network step runs on
the token thread (``gui.jobs.enrol``). An error whose type is retryable (the
network, the CA's server) shows a Retry button that resumes the same enrolment:
same login, same key, same codes. Codes refused are never retried.
"""

from __future__ import annotations

from html import escape
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

from csos_desktop.domain.enrolment import KeyAlgorithm, Step
from csos_desktop.domain.token_state import TokenInfo
from csos_desktop.gui.jobs.enrol import Enrolment, est_client, present_tokens
from csos_desktop.gui.jobs.signing import PinBox
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.theme import PIN_TONES, Tone, dot
from csos_desktop.services.enrol.certificates import ClientFactory
from csos_desktop.services.enrol.enrolment import Enrolled
from csos_desktop.services.enrol.wizard_steps import (
    KEY_STEPS,
    RETRIEVAL_STEPS,
    EnrolmentWizardModel,
    EnrolRequest,
    Page,
    StepState,
)


def _field(form: QFormLayout, label: str, widget: QWidget, name: str) -> None:
    widget.setAccessibleName(name)
    caption = QLabel(label)
    caption.setBuddy(widget)
    form.addRow(caption, widget)


def steps_html(rows: list[tuple[Step, StepState]]) -> str:
    """A checklist in words: done, now, to do."""
    out = []
    for s, state in rows:
        if state is StepState.DONE:
            out.append(f"{dot(Tone.OK)} {s.value}: done")
        elif state is StepState.NOW:
            out.append(f"{dot(Tone.WARN)} <b>{s.value}…</b>")
        else:
            out.append(f"{dot(Tone.NEUTRAL)} {s.value}")
    return "<br>".join(out)


class TokenPage(QWizardPage):
    def __init__(self, model: EnrolmentWizardModel) -> None:
        super().__init__()
        self.model = model
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
        _field(form, "CA b&undle:", self.ca_bundle, "CA bundle")
        _field(form, "&Key type:", self.algorithm, "Key type")
        form.addRow(self.note)
        self.note.setAccessibleDescription("Token note")
        self.ca_url.setText(model.ca_url)
        self.ca_bundle.setText(model.ca_bundle)
        for edit in (self.ca_url, self.ca_bundle):
            edit.textChanged.connect(self._changed)
        self.token.currentIndexChanged.connect(self._changed)
        self.algorithm.currentIndexChanged.connect(self._changed)

    @property
    def tokens(self) -> list[TokenInfo]:
        return self.model.tokens

    def _changed(self) -> None:
        m = self.model
        m.ca_url, m.ca_bundle = self.ca_url.text(), self.ca_bundle.text()
        m.token_index = self.token.currentIndex()
        m.algorithm = self.algorithm.currentData() or KeyAlgorithm.RSA2048
        self.completeChanged.emit()

    def show_tokens(self, tokens: list[TokenInfo]) -> None:
        self.model.tokens = tokens
        self.token.clear()
        for t in tokens:
            self.token.addItem(f"{t.label} ({t.manufacturer} {t.model}, serial {t.serial})")
        note = self.model.token_note()
        self.note.setText(f"{dot(Tone.BAD)} {escape(note)}" if note else "")
        self._changed()

    def isComplete(self) -> bool:
        return self.model.can_leave(Page.TOKEN)


class CodesPage(QWizardPage):
    def __init__(self, model: EnrolmentWizardModel) -> None:
        super().__init__()
        self.model = model
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
        for e in (self.reference, self.code, self.dea):
            e.textChanged.connect(self._changed)

    def _changed(self) -> None:
        m = self.model
        m.reference, m.code, m.dea = self.reference.text(), self.code.text(), self.dea.text()
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.model.can_leave(Page.CODES)


class WorkPage(QWizardPage):
    """Key generation or retrieval: a checklist, an error line and Retry."""

    def __init__(
        self,
        model: EnrolmentWizardModel,
        page: Page,
        title: str,
        subtitle: str,
        steps: tuple[Step, ...],
    ) -> None:
        super().__init__()
        self.model = model
        self.page = page
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.steps = steps
        layout = QVBoxLayout(self)
        self.checklist = QLabel()
        self.checklist.setTextFormat(Qt.TextFormat.RichText)
        self.checklist.setAccessibleDescription("Steps")
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.RichText)
        self.error.setWordWrap(True)
        self.error.setAccessibleDescription("Problem")
        self.retry = QPushButton("&Retry")
        self.retry.setAccessibleName("Retry")
        self.retry.setVisible(False)
        layout.addWidget(self.checklist)
        layout.addWidget(self.error)
        layout.addWidget(self.retry, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

    def show_steps(self) -> None:
        self.checklist.setText(steps_html(self.model.checklist(self.steps)))

    def isComplete(self) -> bool:
        return self.model.can_leave(self.page)


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
        self.model = EnrolmentWizardModel.for_this_computer()
        self.token_page = TokenPage(self.model)
        self.codes_page = CodesPage(self.model)
        self.key_page = WorkPage(
            self.model,
            Page.KEY,
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
            self.model,
            Page.RETRIEVAL,
            "4. Retrieval",
            "The CA signs the request; the certificate is checked, then written to the token.",
            RETRIEVAL_STEPS,
        )
        self.done_page = QWizardPage()
        self.done_page.setTitle("5. Done")
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleDescription("Enrolment result")
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
        self.key_page.show_steps()
        self.retrieval_page.show_steps()
        worker.submit(
            self,
            lambda _p: present_tokens(worker.module, worker.configured),
            self.token_page.show_tokens,
            self._tokens_failed,
        )

    def _tokens_failed(self, error: Exception) -> None:
        self.token_page.note.setText(f"{dot(Tone.BAD)} {escape(str(error))}")

    def _page_shown(self, _id: int) -> None:
        page = self.currentPage()
        if isinstance(page, WorkPage):
            self.model.page = page.page
        if page is self.key_page:
            severity, text = self.model.pin_note()
            self.pin_note.setText(f"{dot(PIN_TONES[severity])} {escape(text)}")
            self.pin.setFocus()

    def request(self) -> EnrolRequest:
        return self.model.request(self._worker.module, self._worker.configured)

    # -- the work ------------------------------------------------------------------------
    def _log_in(self) -> None:
        if self._enrolment is not None or not self.pin.text():
            return
        box = PinBox(self.pin.text())
        self.pin.clear()  # used once, right now
        self._enrolment = Enrolment(self.request(), self._factory)
        self.model.start()
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
        problem = self.model.login_failed(error)
        self.start.setEnabled(True)
        self.pin.setEnabled(True)
        self.key_page.error.setText(f"{dot(Tone.BAD)} {escape(problem.text)}")
        if problem.pin_again:
            self.pin.setFocus()

    def _run(self) -> None:
        enrolment = self._enrolment
        assert enrolment is not None
        self.model.retry_started()
        for page in (self.key_page, self.retrieval_page):
            page.error.setText("")
            page.retry.setVisible(False)
        self._worker.submit(self, enrolment.run, self._enrolled, self._failed, self._step)

    def _step(self, step: Any) -> None:
        if not isinstance(step, Step):
            return
        if self.model.step(step):
            self.key_page.completeChanged.emit()
            self.next()
        self.key_page.show_steps()
        self.retrieval_page.show_steps()

    def _failed(self, error: Exception) -> None:
        page = self.currentPage()
        assert isinstance(page, WorkPage)
        problem = self.model.failed(error)
        page.error.setText(f"{dot(Tone.BAD)} {escape(problem.text)}")
        page.retry.setVisible(problem.retryable)
        if problem.retryable:
            page.retry.setFocus()

    @property
    def enrolled(self) -> Enrolled | None:
        return self.model.enrolled

    def _enrolled(self, done: Enrolled) -> None:
        self.model.finished(done)
        self.retrieval_page.show_steps()
        self.retrieval_page.completeChanged.emit()
        self.summary.setText(f"{dot(Tone.OK)} {escape(self.model.summary())}")
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
