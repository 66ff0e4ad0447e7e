"""Which certificate on the token signs, and with which chain.

The one place that opens a token, finds its usable signing identities
(certificate + key + chain) and builds the chain; ``services.signing`` builds
signing sessions on :func:`open_identity`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from csos_desktop.domain.enrolment import RENEWAL_WINDOW_DAYS as RENEWAL_WINDOW_DAYS
from csos_desktop.domain.errors import InputError, SessionRefused
from csos_desktop.domain.token_errors import KeyNotFound
from csos_desktop.pki.certfile import load_certificates
from csos_desktop.pki.profile import (
    CsosCertificateInfo,
    NotACsosCertificate,
    read_csos_profile,
    read_epcs_certificate,
)
from csos_desktop.token.access import open_token
from csos_desktop.token.certs import TokenCertificate, read_certificates
from csos_desktop.token.modules import DriverSetting
from csos_desktop.token.session import TokenSession

#: 21 CFR 1311.40: renew before expiry. The app warns from the day the DEA's registration
#: authority notifies subscribers (45 days ahead); see domain/expiry.py.


class CertificateNotUsable(SessionRefused):
    """The signing certificate is expired or not yet valid."""


@dataclass(frozen=True)
class SigningIdentity:
    """A CSOS certificate on the token and the CKA_ID of its private key."""

    key_id: bytes
    certificate_der: bytes
    info: CsosCertificateInfo
    label: str

    def days_left(self, now: datetime) -> int:
        return (self.info.not_after - now).days

    def check_usable(self, now: datetime) -> None:
        """Refuse to sign with a certificate outside its validity period."""
        if now > self.info.not_after:
            raise CertificateNotUsable(
                f"Your CSOS certificate expired on {self.info.not_after:%Y-%m-%d}; orders signed "
                "with it would be rejected. Renew it with your certificate authority."
            )
        if now < self.info.not_before:
            raise CertificateNotUsable(
                f"Your CSOS certificate is valid only from {self.info.not_before:%Y-%m-%d %H:%M} "
                "UTC. Check this computer's clock."
            )


def signing_identities(
    certs: Sequence[TokenCertificate], *, epcs: bool = False
) -> list[SigningIdentity]:
    """Signing certificates with a CKA_ID: CSOS ones, or for *epcs* also those without
    the DEA extensions (credential service providers, 21 CFR 1311.105). CA certificates
    and certificates without digitalSignature are never offered."""
    reader = read_epcs_certificate if epcs else read_csos_profile
    out = []
    for tc in certs:
        if not tc.key_id or tc.is_ca:
            continue
        try:
            info = reader(tc.certificate)
        except NotACsosCertificate:
            continue
        out.append(SigningIdentity(tc.key_id, tc.der, info, tc.label))
    return out


def choose_identity(
    identities: Sequence[SigningIdentity], cert_id: str | None = None
) -> SigningIdentity:
    """The only identity, or the one whose CKA_ID (hex) is *cert_id*."""
    if cert_id is not None:
        wanted = cert_id.lower().removeprefix("0x")
        for ident in identities:
            if ident.key_id.hex() == wanted:
                return ident
        raise KeyNotFound(f"No CSOS certificate with id {cert_id} is on the token.")
    if not identities:
        raise KeyNotFound(
            "No CSOS certificate is on this token. Enrol for one first, or insert the token "
            "that holds your certificate."
        )
    if len(identities) > 1:
        listed = "; ".join(
            f"{i.key_id.hex()} ({i.info.subject}, serialNumber {i.info.subject_serial})"
            for i in identities
        )
        raise InputError(
            f"Several CSOS certificates are on the token; choose one with --cert-id: {listed}"
        )
    return identities[0]


def chain_for(
    identity: SigningIdentity,
    *,
    chain_file: Path | None,
    token_certs: Sequence[TokenCertificate],
    stored_chain: Path | None,
) -> list[bytes]:
    """CA certificates to include: --chain, else those on the token, else the stored chain."""
    if chain_file is not None:
        return load_certificates(chain_file)
    on_token = [tc.der for tc in token_certs if tc.is_ca]
    if on_token:
        return on_token
    if stored_chain is not None and stored_chain.exists():
        return load_certificates(stored_chain)
    return []


@dataclass(frozen=True)
class TokenTarget:
    """Which driver, token and certificate to use (None: as detected or configured)."""

    module: str | None = None
    label: str | None = None
    configured: DriverSetting | None = None
    cert_id: str | None = None
    #: PEM file of CA certificates to include instead of those found (``--chain``).
    chain_file: Path | None = None


@dataclass(frozen=True)
class OpenIdentity:
    """An open token session (not logged in) with the identity chosen and its chain."""

    session: TokenSession
    identity: SigningIdentity
    chain: list[bytes]
    token_certs: tuple[TokenCertificate, ...]
    #: Every signing identity on the token (several locations: one per DEA registration).
    identities: tuple[SigningIdentity, ...] = ()
    stored_chain: Path | None = None
    chain_file: Path | None = None

    def chain_of(self, identity: SigningIdentity) -> list[bytes]:
        """The chain to include with *identity*'s signatures (see :func:`chain_for`)."""
        return chain_for(
            identity,
            chain_file=self.chain_file,
            token_certs=self.token_certs,
            stored_chain=self.stored_chain,
        )


def token_session(target: TokenTarget, *, rw: bool = False) -> TokenSession:
    """A session (not yet opened) on the target's token, found through its driver."""
    _, tok = open_token(target.module, target.label, target.configured)
    return TokenSession(tok, rw=rw)


@contextmanager
def open_identity(
    target: TokenTarget,
    *,
    stored_chain: Path | None,
    rw: bool = False,
    epcs: bool = False,
    by_purchaser: bool = False,
) -> Iterator[OpenIdentity]:
    """Open the token, choose the signing identity and build its chain, all before any PIN;
    *epcs* also offers certificates without the DEA extensions (prescriptions).

    *by_purchaser* (orders): several certificates are not refused here; the signing
    session chooses one per order by its purchaser (``services.signing.locations``), and
    ``identity`` is only the first of ``identities`` until then.
    """
    with token_session(target, rw=rw) as ts:
        ts.open_public()
        token_certs = read_certificates(ts)
        identities = signing_identities(token_certs, epcs=epcs)
        deferred = by_purchaser and bool(identities) and target.cert_id is None
        identity = identities[0] if deferred else choose_identity(identities, target.cert_id)
        opened = OpenIdentity(
            ts,
            identity,
            [],
            tuple(token_certs),
            tuple(identities),
            stored_chain,
            target.chain_file,
        )
        yield replace(opened, chain=opened.chain_of(identity))
