"""The pharmacy signs a received prescription that carried only the signing indicator
(21 CFR 1311.210(c)): a signing job for the token thread, like the receipt and order jobs.
The work is ``services.rx.receive.sign_received``."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from html import escape
from pathlib import Path

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.token_errors import TokenError
from csos_desktop.gui.jobs.signing import (
    GuiInteraction,
    Outcome,
    PinBox,
    Preview,
    Refusal,
    Step,
    TokenTarget,
)
from csos_desktop.gui.jobs.token_thread import Progress
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.rx.receive import received_message, review_of, sign_received
from csos_desktop.services.signing import SigningPurpose, SigningSession, signing_session
from csos_desktop.services.tokens.status import CertificateStatus


class ReceivedSigningJob:
    """One received record, signed by the pharmacist over its exact bytes."""

    title = "Sign the received prescription (21 CFR 1311.210(c))"

    def __init__(
        self, store_path: Path, message_id: int, target: TokenTarget, *, clock: Clock = utc_now
    ) -> None:
        self._path = store_path
        self.message_id = message_id
        self._target = target
        self._clock = clock

    def _session(self) -> AbstractContextManager[SigningSession]:
        return signing_session(self._target, SigningPurpose.ARCHIVE_MANIFEST, clock=self._clock)

    def preview(self, progress: Progress) -> Preview:
        with open_store(self._path) as store, self._session() as session:
            record = received_message(store, self.message_id)
            token = session.token_info()
            cert = CertificateStatus.of(session.identity, self._clock())
        lines = "<br>".join(escape(line) for line in review_of(record))
        html = (
            "<p><b>Received with the signing indicator only: the pharmacy signs the record "
            f"as received (message {record.message_id}).</b></p>"
            f"<p style='font-family: monospace'>{lines}</p>"
        )
        return Preview(token, cert, (), (), noun="received prescription", description_html=html)

    def sign(self, pin: PinBox, cancel: threading.Event, progress: Progress) -> Outcome:
        with open_store(self._path) as store, self._session() as session:
            progress(Step(0, 1, "the received prescription"))
            try:
                sign_received(
                    store,
                    self.message_id,
                    session,
                    GuiInteraction(pin, progress),
                    now=self._clock(),
                )
            except TokenError:
                raise  # the dialog explains PIN and token problems itself
            except CsosError as exc:
                return Outcome((), (Refusal("Received prescription", exc.message),))
        return Outcome((f"received prescription {self.message_id}",), ())
