"""Review, attest and sign one patient's prescriptions (21 CFR 1311.140) from the GUI.

The job runs on the token thread like the order signing job and follows the
CLI's `csos rx sign-queued`: ``preview`` opens the signing list (permission,
certificate, revocation; refusals are audited) and shows each prescription's
review lines; ``sign`` runs ``services.rx.queue.sign_queued`` with the PIN
handed over once. The dialog is the order signing dialog with the attestation
shown verbatim next to the review while token and PIN are asked, and the sign
button labelled as signing (1311.140(b)). The revocation check may use the
network, so it runs on a thread of its own, never on the token thread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from csos_desktop.domain.attestation import CITATION, RX_SIGNING_ATTESTATION, SIGN_BUTTON_LABEL
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.pharmacy import Pharmacy
from csos_desktop.domain.prescription import Prescription
from csos_desktop.domain.token_errors import TokenError
from csos_desktop.gui.dialogs.signing import SigningDialog
from csos_desktop.gui.jobs.signing import (
    GuiInteraction,
    Outcome,
    PinBox,
    Preview,
    Refusal,
    Step,
    TokenTarget,
)
from csos_desktop.gui.jobs.token_thread import Progress, TokenWorker
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.rx.access import Actor
from csos_desktop.services.rx.ceremony import RevocationCheck
from csos_desktop.services.signing import (
    SigningIdentity,
    SigningPurpose,
    SigningSession,
    signing_session,
)
from csos_desktop.services.tokens.status import CertificateStatus

if TYPE_CHECKING:  # the revocation checker (httpx, certvalidator) loads when a check runs
    from csos_desktop.domain.revocation import RevocationStatus


def default_revocation() -> RevocationCheck:
    """Online (CRL/OCSP at the enrolment CA), soft-failing to "unknown", as the CLI's default."""
    from csos_desktop.services.rx.ceremony import enrolment_ca_revocation

    return enrolment_ca_revocation()


def _off_token_thread(
    check: RevocationCheck, identity: SigningIdentity, chain: Sequence[bytes], now: datetime
) -> RevocationStatus:
    # SoftHSM2 leaves OpenSSL errors on the token thread that break TLS there: the check
    # (which may fetch a CRL or ask OCSP) runs on a thread of its own.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="revocation") as pool:
        return pool.submit(check, identity, chain, now).result()


def review_html(prescriptions: Sequence[Prescription], user_line: str) -> str:
    """Each ready prescription's review lines (1311.120(b)(9)), as displayed for signing."""
    blocks = [f"<p><b>{escape(user_line)}</b></p>"]
    for i, rx in enumerate(prescriptions, 1):
        lines = "<br>".join(escape(line) for line in rx.review_lines())
        blocks.append(
            f"<h3>Prescription {i} of {len(prescriptions)}</h3>"
            f"<p style='font-family: monospace'>{lines}</p>"
        )
    return "".join(blocks)


class RxInteraction(GuiInteraction):
    """The ceremony's interaction: the review it shows must be the one the dialog showed."""

    def __init__(self, pin: PinBox, progress: Progress, reviewed: str) -> None:
        super().__init__(pin, progress)
        self._reviewed = reviewed

    def show_attestation(self, review: str) -> None:
        if review != self._reviewed:
            raise CsosError(
                "The prescriptions changed since they were displayed; nothing "
                "was signed. Close this window and review them again."
            )


class RxSigningJob:
    """One patient's ready prescriptions, signed by the acting practitioner."""

    title = "Review and sign prescriptions"

    def __init__(
        self,
        store_path: Path,
        actor: Actor,
        patient_key: str,
        rx_ids: Sequence[str],
        target: TokenTarget,
        revocation: RevocationCheck,
        *,
        clock: Clock = utc_now,
        pharmacy: Pharmacy | None = None,
        dea: str | None = None,
    ) -> None:
        self._path = store_path
        #: The registration the drafts wait under (a practitioner may hold several).
        self.dea = dea
        #: The patient's pharmacy from the network's directory: also signed as a NewRx to it.
        self.pharmacy = pharmacy
        self.actor = actor
        self._patient = patient_key
        self._ids = tuple(rx_ids)
        self._target = target
        self._revocation = revocation
        self._clock = clock
        self._status: RevocationStatus | None = None
        self.review = ""  # the text the ceremony displays, attestation included

    def _fixed(
        self, identity: SigningIdentity, chain: Sequence[bytes], now: datetime
    ) -> RevocationStatus:
        assert self._status is not None
        return self._status

    def _session(self) -> AbstractContextManager[SigningSession]:
        return signing_session(self._target, SigningPurpose.PRESCRIPTION, clock=self._clock)

    def preview(self, progress: Progress) -> Preview:
        """Permission, certificate and revocation checked, the review built; no PIN yet."""
        from csos_desktop.services.rx.queue import hard_token_first, open_signing_list

        now = self._clock()
        with open_store(self._path) as store, self._session() as session:
            # As the CLI: a token that may never sign EPCS here is refused before anything.
            hard_token_first(session, now)
            ident, chain = session.identity, session.chain
            self._status = _off_token_thread(self._revocation, ident, chain, now)
            opened = open_signing_list(
                store,
                self.actor,
                self._patient,
                ident,
                chain,
                self._fixed,
                now=now,
                rx_ids=self._ids,
                dea=self.dea,
            )
            token = session.token_info()
            cert = CertificateStatus.of(ident, now, opened.patient.practitioner_dea)
        ready = opened.signing_list.ready
        self.review = opened.signing_list.review()
        user = opened.user
        status = opened.revocation
        line = (
            f"Signing as {user.full_name} ({user.user_id}), DEA {opened.patient.practitioner_dea}; "
            f"certificate revocation: {status.state.value} ({status.message})"
        )
        if self.pharmacy is not None:
            p = self.pharmacy
            line += f"; sent as NCPDP SCRIPT NewRx to {p.name} (NCPDP {p.ncpdp_id})"
        return Preview(
            token, cert, (), (), noun="prescription", description_html=review_html(ready, line)
        )

    def sign(self, pin: PinBox, cancel: threading.Event, progress: Progress) -> Outcome:
        from csos_desktop.services.rx.queue import sign_queued

        with open_store(self._path) as store, self._session() as session:
            progress(Step(0, 1, "prescriptions for this patient"))
            try:
                signed = sign_queued(
                    store,
                    self.actor,
                    self._patient,
                    session,
                    RxInteraction(pin, progress, self.review),
                    self._fixed,
                    rx_ids=self._ids,
                    clock=self._clock,
                    pharmacies=self.pharmacy,
                    dea=self.dea,
                )
            except TokenError:
                raise  # the dialog explains PIN and token problems itself
            except CsosError as exc:
                return Outcome((), (Refusal("Prescriptions", exc.message),))
        return Outcome(
            tuple(f"prescription {s.rx_id[:8]} (queued for the pharmacy)" for s in signed), ()
        )


class RxSigningDialog(SigningDialog):
    """The signing dialog with the attestation and a sign button that says it signs."""

    def __init__(
        self, job: RxSigningJob, worker: TokenWorker, parent: QWidget | None = None
    ) -> None:
        super().__init__(job, worker, parent)
        self.sign_button.setText(SIGN_BUTTON_LABEL)
        self.sign_button.setAccessibleName(SIGN_BUTTON_LABEL)
        self.summary.setAccessibleName("Prescriptions you are signing")
        self.attestation = QLabel(RX_SIGNING_ATTESTATION)
        self.attestation.setTextFormat(Qt.TextFormat.PlainText)
        self.attestation.setWordWrap(True)
        self.attestation.setObjectName("attestation")
        self.attestation.setAccessibleDescription("Attestation")
        self.attestation.setAccessibleDescription(CITATION)
        self.citation = QLabel(f"({CITATION})")
        self.citation.setAccessibleDescription("Attestation rule")
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, self.attestation)
        layout.insertWidget(2, self.citation)


def open_rx_dialog(parent: QWidget, job: RxSigningJob, worker: TokenWorker) -> RxSigningDialog:
    """Show the dialog window-modal (the event loop keeps running) and return it."""
    dialog = RxSigningDialog(job, worker, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.show()
    return dialog
