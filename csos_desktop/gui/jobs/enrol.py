"""Certificate work on the token thread: enrolment, renewal, the revocation request.

An :class:`Enrolment` keeps its logged-in session between attempts, so a retry
after a network error neither asks the PIN again nor makes a second key: the
flow (``enrol.flow.enrol``) finds the pending key it made and reuses it.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from csos_desktop.domain.revocation import RevocationStatus
from csos_desktop.domain.token_state import TokenInfo
from csos_desktop.gui.jobs.signing import (
    GuiInteraction,
    Outcome,
    PinBox,
    Preview,
    TokenTarget,
)
from csos_desktop.gui.jobs.token_thread import Progress
from csos_desktop.services.context import DriverSetting
from csos_desktop.services.enrol.certificates import (
    ClientFactory,
    ca_client,
    recorded_ca,
    renew_certificate,
    request_certificate_revocation,
)
from csos_desktop.services.enrol.certificates import revocation_status as ca_revocation_status
from csos_desktop.services.enrol.enrolment import (
    Enrolled,
    TokenSession,
    enrol_on_token,
    logged_in_session,
    token_info,
)
from csos_desktop.services.enrol.wizard_steps import EnrolRequest
from csos_desktop.services.signing import SigningPurpose, SigningSession, signing_session
from csos_desktop.services.tokens.status import CertificateStatus, list_present_tokens

#: The EST client factory jobs use unless a test gives its own.
est_client = ca_client


def present_tokens(module: str | None, configured: DriverSetting | None) -> list[TokenInfo]:
    """Every token the driver sees (the wizard's first page lets the user pick one)."""
    return list(list_present_tokens(module, configured).tokens)


class Enrolment:
    """One enrolment; every method runs on the token thread."""

    def __init__(self, request: EnrolRequest, client_factory: ClientFactory = est_client) -> None:
        self._request = request
        self._factory = client_factory
        self._ts: TokenSession | None = None
        self.attempts = 0

    def log_in(self, pin: PinBox, progress: Progress) -> TokenInfo:
        """Open the token read-write and log in once (the PIN box is emptied)."""
        ts = logged_in_session(self._request.target, GuiInteraction(pin, progress))
        self._ts = ts
        return token_info(ts)

    def run(self, progress: Progress) -> Enrolled:
        """The whole flow; call again after a network error to resume where it stopped."""
        assert self._ts is not None, "log_in first"
        self.attempts += 1
        r = self._request
        with self._factory(r.ca_url, r.ca_bundle) as client:
            return enrol_on_token(
                self._ts,
                client,
                r.codes,
                algorithm=r.algorithm,
                expected_dea=r.expected_dea,
                progress=progress,
            )

    def close(self, _progress: Progress) -> None:
        if self._ts is not None:
            self._ts.close()
            self._ts = None


def _certificate_session(
    target: TokenTarget, *, rw: bool = False
) -> AbstractContextManager[SigningSession]:
    """Renewal and revocation requests are signed with the certificate's own key."""
    return signing_session(target, SigningPurpose.CERTIFICATE, rw=rw)


def _certificate_preview(target: TokenTarget, action: str, details_html: str) -> Preview:
    """What a renewal or revocation request will be signed with, before the PIN."""
    with _certificate_session(target) as session:
        c = CertificateStatus.of(session.identity, datetime.now(UTC))
        token = session.token_info()
    html = (
        f"<h3>{escape(action)}</h3><p>Certificate: {escape(c.subject)}, DEA "
        f"{escape(c.dea_label)}, schedules {', '.join(c.schedules)}, serial "
        f"{c.serial_number}, valid until {c.not_after:%Y-%m-%d}.</p>"
    )
    return Preview(token, c, (), (), description_html=html + details_html)


_NO_CA_TO_RENEW = (
    "No CA is recorded from an earlier enrolment on this computer;"
    " renew with `csos enrol renew --ca-url URL`."
)


class RenewalJob:
    """Renew before expiry: a new key on the token, the request vouched for by the current one."""

    title = "Renew certificate"

    def __init__(self, target: TokenTarget, client_factory: ClientFactory = est_client) -> None:
        self._target = target
        self._factory = client_factory

    def preview(self, progress: Progress) -> Preview:
        record = recorded_ca(_NO_CA_TO_RENEW)
        return _certificate_preview(
            self._target,
            "Renew this certificate",
            f"<p>A new key pair is made on the token and sent for signing to "
            f"{escape(record.ca_url)}. The old certificate stays usable until the new one is "
            "written, then it is removed.</p>",
        )

    def sign(self, pin: PinBox, cancel: threading.Event, progress: Progress) -> Outcome:
        record = recorded_ca(_NO_CA_TO_RENEW)
        with (
            _certificate_session(self._target, rw=True) as session,
            self._factory(record.ca_url, record.bundle_path) as client,
        ):
            session.log_in(GuiInteraction(pin, progress))
            done = renew_certificate(session, client, progress=progress)
        return Outcome((f"Certificate renewed, valid until {done.info.not_after:%Y-%m-%d}",), ())


class RevocationJob:
    """Ask the CA to revoke the certificate (21 CFR 1311.30(e)), signed with its own key."""

    title = "Request revocation"

    def __init__(
        self, target: TokenTarget, reason: str, client_factory: ClientFactory = est_client
    ) -> None:
        self._target = target
        self._reason = reason
        self._factory = client_factory

    def preview(self, progress: Progress) -> Preview:
        return _certificate_preview(
            self._target,
            "Ask the CA to revoke this certificate",
            f"<p>Reason: <b>{escape(self._reason)}</b>. Once revoked, orders signed with it are "
            "rejected; this cannot be undone.</p>",
        )

    def sign(self, pin: PinBox, cancel: threading.Event, progress: Progress) -> Outcome:
        record = recorded_ca("No CA is recorded on this computer: call your CA to revoke.")
        with (
            _certificate_session(self._target) as session,
            self._factory(record.ca_url, record.bundle_path) as client,
        ):
            session.log_in(GuiInteraction(pin, progress))
            receipt = request_certificate_revocation(session, client, self._reason)
        return Outcome(
            (
                f"Revocation of serial {receipt.serial_number} acknowledged by the CA "
                f"at {receipt.revoked_at}",
            ),
            (),
        )


@dataclass(frozen=True)
class CertificateMaterial:
    certificate_der: bytes
    chain_der: tuple[bytes, ...]


def certificate_material(target: TokenTarget, _progress: Progress) -> CertificateMaterial:
    """Token thread: the certificate and chain to check (no PIN)."""
    with _certificate_session(target) as session:
        return CertificateMaterial(session.identity.certificate_der, tuple(session.chain))


def revocation_status(material: CertificateMaterial) -> RevocationStatus:
    """Pool thread: ask the CA's CRL/OCSP (network; never on the UI or token thread)."""
    return ca_revocation_status(material.certificate_der, material.chain_der, now=datetime.now(UTC))
