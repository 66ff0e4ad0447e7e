"""The CSOS certificate after enrolment: what the token holds, renewal, revocation.

The GUI's certificate jobs and `csos enrol renew`, `csos cert show|revoke-request` call
these. Renewal and revocation requests are signed with the certificate's own key, in a
signing session opened for ``SigningPurpose.CERTIFICATE``; the CA is the one given or the
one recorded at enrolment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from csos_desktop import paths
from csos_desktop.domain.enrolment import KeyAlgorithm, Step
from csos_desktop.domain.revocation import RevocationStatus
from csos_desktop.enrol.errors import EnrolmentError
from csos_desktop.enrol.est_client import EstClient
from csos_desktop.enrol.flow import Enrolled
from csos_desktop.enrol.known_dea import KnownDea, known_dea
from csos_desktop.enrol.records import CaRecord, Records
from csos_desktop.enrol.renewal import renew
from csos_desktop.enrol.revocation import RevocationReceipt, request_revocation
from csos_desktop.enrol.status import check_revocation
from csos_desktop.services.signing import SigningIdentity, SigningSession, TokenTarget
from csos_desktop.token.certs import TokenCertificate, read_certificates
from csos_desktop.token.identity import chain_for, signing_identities, token_session
from csos_desktop.token.key_import import key_generated_on_token

#: Makes the EST client for a CA address and TLS bundle (tests give their own).
ClientFactory = Callable[[str, Path | None], EstClient]


def ca_client(url: str, bundle: Path | None) -> EstClient:
    """The EST client for the CA at *url*, trusting *bundle* for its TLS (else the system)."""
    return EstClient(url, ca_bundle=bundle)


def chosen_ca(ca_url: str | None, ca_bundle: Path | None) -> tuple[str | None, Path | None]:
    """The CA address given, else the one recorded at enrolment, and the TLS bundle to trust.

    The recorded bundle goes only with the recorded address.
    """
    record = Records().ca()
    url = ca_url or (record.ca_url if record else None)
    return url, ca_bundle or (record.bundle_path if record and not ca_url else None)


def recorded_ca(missing: str) -> CaRecord:
    """The CA recorded at enrolment; :class:`EnrolmentError` with *missing* when there is none."""
    record = Records().ca()
    if record is None:
        raise EnrolmentError(missing)
    return record


def renew_certificate(
    session: SigningSession,
    client: EstClient,
    *,
    algorithm: KeyAlgorithm | None = None,
    keep_old: bool = False,
    progress: Callable[[Step], None] | None = None,
) -> Enrolled:
    """A new key and certificate for the session's identity (logged-in, read-write session)."""
    return renew(
        session.ts,
        client,
        session.identity,
        session.chain,
        algorithm=algorithm,
        keep_old=keep_old,
        progress=progress,
    )


def request_certificate_revocation(
    session: SigningSession, client: EstClient, reason: str
) -> RevocationReceipt:
    """Ask the CA to revoke the session's certificate (logged-in session), 21 CFR 1311.30(e)."""
    return request_revocation(session.ts, client, session.identity, session.chain, reason)


def revocation_status(
    certificate_der: bytes, chain: Sequence[bytes], *, now: datetime
) -> RevocationStatus:
    """Ask the CRL/OCSP of the CA recorded at enrolment (network: never on the UI thread)."""
    record = Records().ca()
    return check_revocation(
        certificate_der,
        list(chain),
        endpoints=record.endpoints if record else None,
        ca_bundle=record.bundle_path if record else None,
        now=now,
    )


@dataclass(frozen=True)
class CertificatesOnToken:
    """The CSOS certificates on a token, read without a PIN."""

    token_label: str
    identities: tuple[SigningIdentity, ...]
    #: CKA_LOCAL of each identity's key pair (None: no public key object to ask).
    generated_on_token: dict[bytes, bool | None]
    token_certs: tuple[TokenCertificate, ...]

    def chain(self, identity: SigningIdentity) -> list[bytes]:
        """The CA certificates for *identity*: on the token, else the chain stored at enrolment."""
        return chain_for(
            identity,
            chain_file=None,
            token_certs=self.token_certs,
            stored_chain=paths.chain_file(),
        )


def certificates_on_token(target: TokenTarget) -> CertificatesOnToken:
    """Every CSOS certificate on the target token, with where its key was made."""
    with token_session(target) as ts:
        ts.open_public()
        token_certs = read_certificates(ts)
        identities = signing_identities(token_certs)
        origins = {i.key_id: key_generated_on_token(ts, i.key_id) for i in identities}
        return CertificatesOnToken(ts.info.label, tuple(identities), origins, tuple(token_certs))


def dea_known_for(identity: SigningIdentity) -> KnownDea | None:
    """The DEA number the app knows for the certificate (which carries only its hash)."""
    return known_dea(identity)
