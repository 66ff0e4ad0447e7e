"""The token's part of the two-person signing permissions (21 CFR 1311.125), on the token thread.

As `csos rx grant propose|approve|revoke-approve` do: a proposal names the certificate on
the practitioner's token (read without a PIN); the second person approves a grant, or
executes an entered revocation, with their own token and PIN through
``services.rx.grant_approval``. The approval job is a signing job, so the signing
dialog asks for the PIN, hands it over once and clears it.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from enum import StrEnum
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
    TokenTarget,
)
from csos_desktop.gui.jobs.token_thread import Progress
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.rx import queries as rx_queries
from csos_desktop.services.rx.access import Actor
from csos_desktop.services.rx.grant_approval import (
    approve_grant_with_token,
    execute_revocation_with_token,
)
from csos_desktop.services.signing import SigningPurpose, SigningSession, signing_session
from csos_desktop.services.tokens.status import CertificateStatus


class SecondStep(StrEnum):
    """What the second person executes."""

    GRANT = "grant"
    REVOKE = "revoke"


def token_certificate(target: TokenTarget, clock: Clock = utc_now) -> bytes:
    """The certificate a prescription would be signed with on this token (no PIN)."""
    with signing_session(target, SigningPurpose.PRESCRIPTION, clock=clock) as session:
        return session.identity.certificate_der


class GrantApprovalJob:
    """The second person's two factors over one permission or its entered revocation."""

    def __init__(
        self,
        store_path: Path,
        actor: Actor,
        grant_id: int,
        step: SecondStep,
        target: TokenTarget,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._path = store_path
        self.actor = actor
        self.grant_id = grant_id
        self.step = step
        self._target = target
        self._clock = clock
        verb = "Approve" if step is SecondStep.GRANT else "Execute the revocation of"
        self.title = f"{verb} signing permission #{grant_id}"

    def _session(self) -> AbstractContextManager[SigningSession]:
        return signing_session(self._target, SigningPurpose.GRANT_APPROVAL, clock=self._clock)

    def preview(self, progress: Progress) -> Preview:
        """What is approved, by whom, with which certificate; no PIN yet."""
        now = self._clock()
        with open_store(self._path) as store, self._session() as session:
            grant = rx_queries.permission(store, self.grant_id)
            token = session.token_info()
            cert = CertificateStatus.of(session.identity, now)
        what = (
            f"permission for <b>{escape(grant.user_id)}</b> (DEA {escape(grant.dea_number)}) "
            "to sign controlled-substance prescriptions"
        )
        if self.step is SecondStep.GRANT:
            head = f"You approve the {what}, proposed by {escape(grant.proposed_by)}."
        else:
            head = (
                f"You execute the revocation of the {what}, entered by "
                f"{escape(grant.revoke_entered_by or '?')} "
                f"(reason: {escape(grant.revoke_reason or '')})."
            )
        html = (
            f"<p>{head}</p><p>Certificate SHA-256 named by the permission: "
            f"<code>{escape(grant.certificate_sha256 or 'none')}</code></p>"
            f"<p>As the second person, a DEA registrant, you confirm it with your own token "
            f"and PIN; your signed approval is kept in the audit log (21 CFR 1311.125(c)). "
            f"Acting as {escape(self.actor.user_id)}.</p>"
        )
        return Preview(token, cert, (), (), noun="approval", description_html=html)

    def sign(self, pin: PinBox, cancel: threading.Event, progress: Progress) -> Outcome:
        execute = (
            approve_grant_with_token
            if self.step is SecondStep.GRANT
            else execute_revocation_with_token
        )
        label = f"Permission #{self.grant_id}"
        with open_store(self._path) as store, self._session() as session:
            try:
                grant = execute(
                    store,
                    self.actor,
                    self.grant_id,
                    session,
                    GuiInteraction(pin, progress),
                    now=self._clock(),
                )
            except TokenError:
                raise  # the dialog explains PIN and token problems itself
            except CsosError as exc:
                return Outcome((), (Refusal(label, exc.message),))
        return Outcome((f"{label} of {grant.user_id}: {grant.state.value}",), ())
