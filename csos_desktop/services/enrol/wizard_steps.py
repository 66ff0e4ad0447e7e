"""The enrolment wizard's steps as a Qt-free model: what each page holds, when it may be
left, what the checklist shows, and what a failure offers (Retry or not).

The GUI's ``EnrolWizard`` is a view of this model; tests drive it without Qt. A
failure is *retryable* only when its type says so (``EnrolmentError.retryable``):
retrying resumes the same enrolment with the same key and the same codes, which is
pointless or harmful for codes that are wrong, used, expired or locked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from csos_desktop.domain.enrolment import KeyAlgorithm, Step
from csos_desktop.domain.token_errors import WrongPin
from csos_desktop.domain.token_state import PinSeverity, pin_wording
from csos_desktop.enrol.errors import EnrolmentError
from csos_desktop.enrol.est_client import OneTimeCodes
from csos_desktop.enrol.flow import Enrolled
from csos_desktop.enrol.records import CaRecord, Records
from csos_desktop.token.identity import TokenTarget
from csos_desktop.token.modules import DriverSetting
from csos_desktop.token.slots import TokenInfo

KEY_STEPS = (Step.APPLICATION, Step.CA_CERTIFICATES, Step.KEY, Step.REQUEST)
RETRIEVAL_STEPS = (Step.SUBMIT, Step.CHECK, Step.INSTALL)
RETRY_HINT = "Press Retry: the same key and codes are used."


@dataclass(frozen=True)
class EnrolRequest:
    """What the wizard collected; the authorisation code is never shown or logged."""

    target: TokenTarget
    ca_url: str
    ca_bundle: Path | None
    codes: OneTimeCodes
    algorithm: KeyAlgorithm = KeyAlgorithm.RSA2048
    expected_dea: str | None = None


class Page(Enum):
    TOKEN = "token"
    CODES = "codes"
    KEY = "key"
    RETRIEVAL = "retrieval"
    DONE = "done"


class StepState(Enum):
    DONE = "done"
    NOW = "now"
    TO_DO = "to do"


@dataclass(frozen=True)
class Problem:
    """A failure as the page shows it; ``retryable`` decides whether Retry is offered."""

    message: str
    retryable: bool
    #: The PIN was wrong: the PIN field is offered again (no Retry: a new login is needed).
    pin_again: bool = False

    @property
    def text(self) -> str:
        return f"{self.message} {RETRY_HINT}" if self.retryable else self.message


def is_retryable(error: BaseException) -> bool:
    """Only an enrolment error whose type (or instance) says so; never codes refused."""
    return isinstance(error, EnrolmentError) and error.retryable


@dataclass
class EnrolmentWizardModel:
    """One enrolment's pages and progress. Methods return what the view must change."""

    tokens: list[TokenInfo] = field(default_factory=list)
    token_index: int = 0
    ca_url: str = ""
    ca_bundle: str = ""
    algorithm: KeyAlgorithm = KeyAlgorithm.RSA2048
    reference: str = ""
    code: str = field(default="", repr=False)
    dea: str = ""
    page: Page = Page.TOKEN
    done_steps: set[Step] = field(default_factory=set)
    current: Step | None = None
    problem: Problem | None = None
    started: bool = False
    enrolled: Enrolled | None = None

    @classmethod
    def from_record(cls, record: CaRecord | None) -> EnrolmentWizardModel:
        """Pre-filled with the CA of an earlier enrolment on this computer, if any."""
        if record is None:
            return cls()
        return cls(ca_url=record.ca_url, ca_bundle=record.ca_bundle or "")

    @classmethod
    def for_this_computer(cls) -> EnrolmentWizardModel:
        """Pre-filled from the enrolment records on this computer (``from_record``)."""
        return cls.from_record(Records().ca())

    # -- pages ----------------------------------------------------------------------------
    @property
    def token(self) -> TokenInfo | None:
        return self.tokens[self.token_index] if 0 <= self.token_index < len(self.tokens) else None

    def can_leave(self, page: Page) -> bool:
        if page is Page.TOKEN:
            return self.token is not None and self.ca_url.strip().lower().startswith("https://")
        if page is Page.CODES:
            return bool(self.reference.strip() and self.code.strip())
        if page is Page.KEY:
            return bool(self.done_steps & set(RETRIEVAL_STEPS)) or self.current in RETRIEVAL_STEPS
        if page is Page.RETRIEVAL:
            return self.enrolled is not None
        return True

    def token_note(self) -> str:
        return "" if self.tokens else "No token found: insert it."

    def pin_note(self) -> tuple[PinSeverity, str]:
        """Above the PIN field: the token's PIN warning, or which token's PIN is asked."""
        t = self.token
        if t is None:
            return PinSeverity.BAD, "No token is chosen."
        words = pin_wording(t.pin_state)
        if words.advice is not None:
            return words.severity, words.advice
        return PinSeverity.OK, f"PIN of token '{t.label}':"

    def request(self, module: str | None, configured: DriverSetting | None) -> EnrolRequest:
        t = self.token
        assert t is not None, "can_leave(Page.TOKEN) first"
        bundle = self.ca_bundle.strip()
        return EnrolRequest(
            TokenTarget(module, t.label, configured),
            self.ca_url.strip(),
            Path(bundle) if bundle else None,
            OneTimeCodes(self.reference.strip(), self.code.strip()),
            self.algorithm,
            self.dea.strip() or None,
        )

    # -- the work ---------------------------------------------------------------------------
    def start(self) -> None:
        """The PIN was handed to the login; the code is now held by the request only."""
        self.started = True
        self.code = ""
        self.problem = None

    def login_failed(self, error: BaseException) -> Problem:
        """A failed login ends this attempt: the user types the PIN again (never Retry)."""
        self.started = False
        self.problem = Problem(str(error), False, pin_again=isinstance(error, WrongPin))
        return self.problem

    def retry_started(self) -> None:
        self.problem = None

    def step(self, step: Step) -> bool:
        """A step began; True when the view should move on to the retrieval page."""
        order = list(Step)
        self.done_steps = set(order[: order.index(step)])
        self.current = step
        if step in RETRIEVAL_STEPS and self.page is Page.KEY:
            self.page = Page.RETRIEVAL
            return True
        return False

    def failed(self, error: BaseException) -> Problem:
        self.problem = Problem(str(error), is_retryable(error))
        return self.problem

    def finished(self, done: Enrolled) -> None:
        self.enrolled = done
        self.done_steps = set(Step)
        self.current = None
        self.problem = None
        self.page = Page.DONE

    def checklist(self, steps: tuple[Step, ...]) -> list[tuple[Step, StepState]]:
        return [
            (
                s,
                StepState.DONE
                if s in self.done_steps
                else StepState.NOW
                if s is self.current
                else StepState.TO_DO,
            )
            for s in steps
        ]

    def summary(self) -> str:
        """The done page's sentence."""
        assert self.enrolled is not None
        info = self.enrolled.info
        return (
            f"Certificate installed on the token. {info.subject}, DEA "
            f"{self.enrolled.dea_number or 'not given'}, "
            f"schedules {', '.join(sorted(s.value for s in info.schedules))}, valid until "
            f"{info.not_after:%Y-%m-%d}."
            + (" (An earlier attempt's key was reused.)" if self.enrolled.resumed else "")
        )
