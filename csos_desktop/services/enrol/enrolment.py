"""Getting a CSOS certificate onto the token: online with the CA's one-time codes, or offline
(a request file, then the issued certificate), and cleaning up keys left by unfinished runs.

`csos enrol` and the GUI's enrolment job call these; the flow itself is ``enrol.flow``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from csos_desktop.domain.enrolment import KeyAlgorithm, Step
from csos_desktop.domain.token_state import TokenInfo
from csos_desktop.enrol import flow
from csos_desktop.enrol.est_client import EstClient, OneTimeCodes
from csos_desktop.enrol.flow import Enrolled
from csos_desktop.enrol.offline import export_request, import_certificate, read_certificate_file
from csos_desktop.enrol.records import Records
from csos_desktop.enrol.token_keys import PendingKey, delete_key_pair, pending_keys
from csos_desktop.services.interaction import Interaction, log_in
from csos_desktop.services.signing import TokenTarget
from csos_desktop.token.identity import token_session
from csos_desktop.token.session import TokenSession
from csos_desktop.token.slots import describe, refreshed

__all__ = [
    "Enrolled",
    "OneTimeCodes",
    "PendingKey",
    "TokenSession",
    "WrittenRequest",
    "check_codes",
    "enrol_on_token",
    "import_issued_certificate",
    "logged_in_session",
    "read_issued_certificate",
    "remove_unfinished_keys",
    "resumes_an_enrolment",
    "token_info",
    "unfinished_keys",
    "write_request",
]


def logged_in_session(target: TokenTarget, interaction: Interaction) -> TokenSession:
    """A read-write session on the target's token after one PIN entry; closed on failure.

    The caller closes it (``with``); the GUI keeps it across retries so a second attempt
    neither asks the PIN again nor makes a second key.
    """
    ts = token_session(target, rw=True)
    try:
        log_in(ts, interaction)
    except BaseException:
        ts.close()
        raise
    return ts


def token_info(ts: TokenSession) -> TokenInfo:
    """What the token reports now (label, PIN state) on an open session."""
    return describe(refreshed(ts.token))


def resumes_an_enrolment(reference_number: str) -> bool:
    """Whether an earlier run with this reference number left a key to finish with."""
    return Records().pending(reference_number.strip()) is not None


def check_codes(ca_url: str, ca_bundle: Path | None, codes: OneTimeCodes) -> None:
    """Ask the CA whether the codes are good, before any PIN (raises the CA's refusal).

    Its own connection: SoftHSM leaves OpenSSL errors on the thread that would break a TLS
    connection kept open across the login.
    """
    with EstClient(ca_url, ca_bundle=ca_bundle) as probe:
        probe.application(codes)


def enrol_on_token(
    ts: TokenSession,
    client: EstClient,
    codes: OneTimeCodes,
    *,
    algorithm: KeyAlgorithm,
    expected_dea: str | None,
    progress: Callable[[Step], None] | None = None,
) -> Enrolled:
    """The whole online enrolment on a logged-in read-write session; resumes a pending key."""
    return flow.enrol(
        ts, client, codes, algorithm=algorithm, expected_dea=expected_dea, progress=progress
    )


@dataclass(frozen=True)
class WrittenRequest:
    """A certificate request made on the token: its DER and the key it is for."""

    csr_der: bytes
    key_id: bytes
    key_label: str


def write_request(ts: TokenSession, name: str, algorithm: KeyAlgorithm) -> WrittenRequest:
    """Offline path: a key pair on the token and its certificate request (logged-in session)."""
    req = export_request(ts, name, algorithm=algorithm)
    return WrittenRequest(req.csr_der, req.key.key_id, req.key.label)


def read_issued_certificate(data: bytes) -> list[bytes]:
    """The certificates in the file the CA sent (PEM, DER or .p7b), read before any PIN."""
    return read_certificate_file(data)


def import_issued_certificate(
    ts: TokenSession, certs: Sequence[bytes], chain: Sequence[bytes], dea_number: str | None
) -> tuple[Enrolled, bool]:
    """Offline path: put the issued certificate on the token (logged-in session).

    Returns what was installed and whether the chain was checked (it was given a root).
    """
    return import_certificate(ts, list(certs), list(chain), dea_number=dea_number)


def unfinished_keys(ts: TokenSession) -> list[PendingKey]:
    """Key pairs left on the token by enrolments that did not finish."""
    return pending_keys(ts)


def remove_unfinished_keys(ts: TokenSession, keys: Sequence[PendingKey]) -> None:
    """Delete the key pairs and forget their pending enrolments (logged-in session)."""
    records = Records()
    for key in keys:
        delete_key_pair(ts, key.key_id)
        records.drop_pending(key.key_id)
