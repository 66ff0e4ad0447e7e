"""The prescriber's signing ceremony (21 CFR 1311.140).

(a)(1)-(2) the practitioner opens one patient's prescriptions and marks those
ready; (a)(3) while their information is displayed, the attestation is shown
and the two factors are asked: the hard token (something they have, holding
the key) and its PIN (something they know). Completing both signs; a failed
factor signs nothing. After signing the prescription is immutable: the
returned bytes are the ones to keep and transmit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.attestation import RX_SIGNING_ATTESTATION
from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.pharmacy import Pharmacy
from csos_desktop.domain.prescription import Prescription
from csos_desktop.domain.revocation import RevocationState, RevocationStatus
from csos_desktop.enrol.est_client import CaEndpoints
from csos_desktop.enrol.status import check_revocation
from csos_desktop.pki.chain import ChainStatus, validate_chain
from csos_desktop.services.interaction import Interaction
from csos_desktop.services.rx.newrx import SignedNewRx, sign_newrx
from csos_desktop.services.signing import SigningSession
from csos_desktop.services.signing.checks import NotReadyToSign
from csos_desktop.token.identity import SigningIdentity

__all__ = ["NotReadyToSign", "RxInteraction", "SignedPrescription", "SigningList", "sign_ready"]


class RxInteraction(Interaction, Protocol):
    """The ceremony also shows the review with the attestation before asking the factors."""

    def show_attestation(self, review: str) -> None:
        """Display *review* (prescriptions + attestation) while the factors are asked."""


@dataclass(frozen=True)
class SignedPrescription:
    """The exact bytes signed and the detached CMS signature (DER)."""

    prescription: Prescription
    document: bytes
    signature: bytes
    #: The same prescription as a signed SCRIPT NewRx to the pharmacy chosen for it.
    newrx: SignedNewRx | None = None

    @property
    def signature_digest(self) -> str:
        return hashlib.sha256(self.signature).hexdigest()


class SigningList:
    """One patient's prescriptions, of which the practitioner marks those ready to sign."""

    def __init__(self, prescriptions: Sequence[Prescription]) -> None:
        if not prescriptions:
            raise InputError("No prescription to sign.")
        patients = {(rx.patient.name, rx.patient.address) for rx in prescriptions}
        if len(patients) > 1:
            raise InputError(
                "A signing list holds the prescriptions of a single patient (21 CFR "
                "1311.140(a)(1)); sign each patient's prescriptions separately."
            )
        self.prescriptions = tuple(prescriptions)
        self._ready: set[str] = set()

    def mark_ready(self, rx_id: str, ready: bool = True) -> None:
        if rx_id not in {rx.rx_id for rx in self.prescriptions}:
            raise InputError(f"Prescription {rx_id} is not on this list.")
        (self._ready.add if ready else self._ready.discard)(rx_id)

    @property
    def ready(self) -> tuple[Prescription, ...]:
        return tuple(rx for rx in self.prescriptions if rx.rx_id in self._ready)

    def review(self) -> str:
        """The ready prescriptions as displayed for signing, then the attestation."""
        blocks = []
        for i, rx in enumerate(self.ready, 1):
            blocks.append(
                f"Prescription {i} of {len(self.ready)}\n  " + "\n  ".join(rx.review_lines())
            )
        return "\n\n".join([*blocks, RX_SIGNING_ATTESTATION])


def sign_ready(
    signing_list: SigningList,
    session: SigningSession,
    interaction: RxInteraction,
    pharmacies: Mapping[str, Pharmacy] | None = None,
) -> list[SignedPrescription]:
    """Run the ceremony for the ready prescriptions; returns them signed, or raises.

    *pharmacies* maps an rx id to the pharmacy the practitioner chose for it: that
    prescription is also signed as a NewRx to it, in the same login.
    """
    ready = signing_list.ready
    if not ready:
        raise NotReadyToSign("Mark at least one prescription as ready to sign.")
    session.check(ready)  # the pre-PIN stage, before the review is even shown
    interaction.show_attestation(signing_list.review())
    session.log_in(interaction)  # the second factor; the token holding the key is the first
    signed = []
    for rx in ready:
        document = canonical_bytes(rx.to_document())
        chosen = (pharmacies or {}).get(rx.rx_id)
        newrx = sign_newrx(session, rx, chosen) if chosen is not None else None
        signed.append(SignedPrescription(rx, document, session.sign(document), newrx))
    return signed


# -- is the practitioner's certificate still good? ----------------------------------------

#: How the signing side learns the revocation status of the certificate on the token.
RevocationCheck = Callable[[SigningIdentity, Sequence[bytes], datetime], RevocationStatus]

#: Revoked or untrusted refuses signing; unknown signs, is warned about and audited, as for
#: the holder's own certificate elsewhere (the pharmacy checks revocation again).
REFUSED_STATES = frozenset({RevocationState.REVOKED, RevocationState.UNTRUSTED})


def crl_revocation(
    trust_roots: Sequence[bytes], crls: Sequence[asn1_crl.CertificateList]
) -> RevocationCheck:
    """Offline check against CRL files the user gives (no network)."""
    roots = [asn1_x509.Certificate.load(d) for d in trust_roots]

    def check(identity: SigningIdentity, chain: Sequence[bytes], now: datetime) -> RevocationStatus:
        result = validate_chain(
            asn1_x509.Certificate.load(identity.certificate_der),
            trust_roots=roots,
            intermediates=[asn1_x509.Certificate.load(d) for d in chain],
            crls=crls,
            moment=now,
        )
        state = {
            ChainStatus.VALID: RevocationState.GOOD,
            ChainStatus.REVOKED: RevocationState.REVOKED,
            ChainStatus.UNTRUSTED: RevocationState.UNTRUSTED,
            ChainStatus.REVOCATION_UNKNOWN: RevocationState.UNKNOWN,
        }.get(result.status, RevocationState.NOT_CHECKED)
        if state is RevocationState.GOOD and not result.revocation_checked:
            state = RevocationState.UNKNOWN
        return RevocationStatus(
            state,
            result.message if state is not RevocationState.GOOD else "not revoked",
            result.revocation_reason,
            result.revocation_date,
            ("crl",),
        )

    return check


def online_revocation(
    endpoints: CaEndpoints | None, ca_bundle: Path | None, extra_chain: Sequence[bytes] = ()
) -> RevocationCheck:
    """Ask the CA (CRL distribution points, OCSP), soft-failing to UNKNOWN with the reason."""

    def check(identity: SigningIdentity, chain: Sequence[bytes], now: datetime) -> RevocationStatus:
        pool = list(dict.fromkeys([*chain, *extra_chain]))
        return check_revocation(
            identity.certificate_der, pool, endpoints=endpoints, ca_bundle=ca_bundle, now=now
        )

    return check


def enrolment_ca_revocation(extra_chain: Sequence[bytes] = ()) -> RevocationCheck:
    """``online_revocation`` at the CA recorded at enrolment, the default of the GUI and CLI.

    The chain stored at enrolment, then *extra_chain*, help build the path.
    """
    from csos_desktop import paths
    from csos_desktop.enrol.records import Records
    from csos_desktop.pki.certfile import load_certificates

    stored = paths.chain_file()
    pool = [*(load_certificates(stored) if stored.exists() else []), *extra_chain]
    record = Records().ca()
    return online_revocation(
        record.endpoints if record else None, record.bundle_path if record else None, pool
    )


def not_checked(reason: str) -> RevocationCheck:
    """No revocation check (``--offline``); recorded as such in the audit log."""

    def check(identity: SigningIdentity, chain: Sequence[bytes], now: datetime) -> RevocationStatus:
        return RevocationStatus(RevocationState.NOT_CHECKED, reason)

    return check
