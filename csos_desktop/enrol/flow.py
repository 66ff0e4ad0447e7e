"""Enrolment: one-time codes → key pair on the token → CSR signed on it → CA → certificate on it.

Each step either completes or leaves state a retry can use:

- before a key exists (codes refused, CA unreachable or untrusted) nothing is left;
- once a key exists it is labelled ``csos-pending-<date>`` and remembered under
  the reference number, so running the enrolment again with the same codes
  reuses it, and the CA, seeing the same key, returns the certificate it may
  already have issued (its reply may have been lost);
- the certificate is checked (same key, CSOS profile with the DEA number and
  schedules applied for, chain to the CA) before anything is written; only then
  is it written and the key relabelled. ``csos enrol cleanup`` removes pending
  keys the user gives up on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509

from csos_desktop import paths
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.enrolment import Step as Step
from csos_desktop.domain.errors import InputError
from csos_desktop.enrol.errors import CaReplyInvalid, EnrolmentError, IssuedCertificateRejected
from csos_desktop.enrol.est_client import ApplicationData, EstClient, OneTimeCodes
from csos_desktop.enrol.records import CaRecord, PendingEnrolment, Records
from csos_desktop.enrol.token_keys import (
    ca_certificates_on_token,
    certificate_label,
    existing_key,
    pending_label,
    relabel,
)
from csos_desktop.pki.chain import ChainStatus, validate_chain
from csos_desktop.pki.csr import build_csr
from csos_desktop.pki.profile import CsosCertificateInfo, NotACsosCertificate, read_csos_profile
from csos_desktop.token.keys import GeneratedKey, KeyAlgorithm, generate_keypair, normalised_spki
from csos_desktop.token.provisioning import install_certificate
from csos_desktop.token.session import TokenSession
from csos_desktop.token.signer import TokenSigner

Progress = Callable[[Step], None]


@dataclass(frozen=True)
class Enrolled:
    """A certificate now on the token with its key."""

    key_id: bytes
    label: str
    certificate_der: bytes
    chain_der: tuple[bytes, ...]
    info: CsosCertificateInfo
    dea_number: str | None
    resumed: bool = False


def enrol(
    ts: TokenSession,
    client: EstClient,
    codes: OneTimeCodes,
    *,
    algorithm: KeyAlgorithm = KeyAlgorithm.RSA2048,
    expected_dea: str | None = None,
    records: Records | None = None,
    progress: Progress | None = None,
    clock: Clock = utc_now,
) -> Enrolled:
    """Run the whole enrolment on a logged-in read-write session."""
    records = records or Records()
    step = progress or (lambda _s: None)
    now = clock()
    ref = codes.reference_number.strip()
    pending = records.pending(ref)
    resumed = existing_key(ts, pending.key_id) if pending else None
    if resumed is not None and pending is not None and pending.application is not None:
        # The codes may already be spent on this key; the CA recognises it.
        application = pending.application
    else:
        step(Step.APPLICATION)
        application = client.application(codes)
    if expected_dea and expected_dea.strip().upper() != application.dea_number:
        raise InputError(
            f"The CA holds DEA number {application.dea_number} for these codes, "
            f"not {expected_dea.strip().upper()}. Nothing was created; check the "
            "codes or contact the CA."
        )
    step(Step.CA_CERTIFICATES)
    chain = client.cacerts()
    step(Step.KEY)
    key = resumed or generate_keypair(ts, algorithm, pending_label(now))
    records.save_pending(ref, PendingEnrolment(key.key_id, key.label, now, application))
    step(Step.REQUEST)
    csr = request_for(ts, key, application.name)
    step(Step.SUBMIT)
    issued = client.simpleenroll(csr, codes)
    step(Step.CHECK)
    cert_der = check_issued(issued, key, application, chain, now)
    step(Step.INSTALL)
    done = finish(
        ts, key, cert_der, chain, dea_number=application.dea_number, records=records, now=now
    )
    remember_ca(client, records)
    return Enrolled(
        done.key_id,
        done.label,
        done.certificate_der,
        done.chain_der,
        done.info,
        done.dea_number,
        resumed=resumed is not None,
    )


def request_for(ts: TokenSession, key: GeneratedKey, name: str) -> bytes:
    """A PKCS#10 for *key* naming the applicant, signed on the token and checked."""
    return signed_request(ts, key, {"country_name": "US", "common_name": name})


def signed_request(ts: TokenSession, key: GeneratedKey, subject: Mapping[str, str]) -> bytes:
    """A PKCS#10 for *key*, signed on the token and checked before it leaves."""
    csr = build_csr(TokenSigner(ts, key.key_id), key.public_key_info, dict(subject))
    if not x509.load_der_x509_csr(csr).is_signature_valid:
        raise EnrolmentError(
            "The token produced a certificate request whose signature does "
            "not verify. Remove and re-insert the token, then try again.",
            retryable=True,
        )
    return csr


@dataclass(frozen=True)
class KeyRequest:
    """A key pair generated on the token, with its checked certificate request."""

    key: GeneratedKey
    csr_der: bytes


def new_key_and_csr(
    ts: TokenSession, algorithm: KeyAlgorithm, subject: Mapping[str, str], label: str
) -> KeyRequest:
    """Generate a key pair on the token and a request signed by it (self-checked): the
    one way a key and its request are made (enrolment, the sandbox, tests, benchmarks)."""
    key = generate_keypair(ts, algorithm, label)
    return KeyRequest(key, signed_request(ts, key, subject))


def _is_root(der: bytes) -> bool:
    cert = asn1_x509.Certificate.load(der)
    return bool(cert.self_signed != "no")


def check_issued(
    issued: Sequence[bytes],
    key: GeneratedKey,
    application: ApplicationData,
    chain: Sequence[bytes],
    now: datetime,
    *,
    renewing: CsosCertificateInfo | None = None,
) -> bytes:
    """The issued certificate for *key*, once it is proven to be the one applied for.

    The DEA number (when the application names one) must match the certificate's
    hash; a renewal must keep the old certificate's hash (the CA keeps the subject
    serialNumber)."""
    wanted = normalised_spki(key.public_key_info)
    try:
        mine = [
            d
            for d in issued
            if normalised_spki(bytes(asn1_x509.Certificate.load(d).public_key.dump())) == wanted
        ]
    except ValueError as exc:
        raise CaReplyInvalid(
            "A certificate in the CA's reply cannot be read. Nothing was written to your token."
        ) from exc
    if not mine:
        raise IssuedCertificateRejected(
            "The CA returned a certificate for a different key than the one generated on your "
            "token. Nothing was written; the key is kept so the same codes can be retried. "
            "If it happens again, contact the CA."
        )
    der = mine[0]
    cert = asn1_x509.Certificate.load(der)
    try:
        info = read_csos_profile(cert)
    except NotACsosCertificate as exc:
        raise IssuedCertificateRejected(
            f"The CA returned a certificate that is not a CSOS "
            f"certificate ({exc}). Nothing was written; contact "
            "the CA."
        ) from exc
    problems = []
    if renewing is not None and info.dea_hash != renewing.dea_hash:
        problems.append("its DEA number hash differs from the certificate being renewed")
    if application.dea_number and not info.matches_dea(application.dea_number):
        problems.append(
            f"its DEA number hash is not that of {application.dea_number} with its subject "
            f"serialNumber {info.subject_serial}"
        )
    if info.schedules != application.schedules:
        got = ", ".join(sorted(s.value for s in info.schedules))
        want = ", ".join(sorted(s.value for s in application.schedules))
        problems.append(f"schedules {got} instead of {want}")
    if problems:
        raise IssuedCertificateRejected(
            "The certificate the CA returned does not match your "
            "application (" + "; ".join(problems) + "). Nothing "
            "was written; contact the CA."
        )
    roots = [asn1_x509.Certificate.load(d) for d in chain if _is_root(d)]
    if not roots:
        raise CaReplyInvalid("The CA sent no root certificate with its chain; contact the CA.")
    result = validate_chain(
        cert,
        trust_roots=roots,
        moment=now,
        intermediates=[asn1_x509.Certificate.load(d) for d in chain if not _is_root(d)],
    )
    if result.status is not ChainStatus.VALID:
        raise IssuedCertificateRejected(
            f"The certificate the CA returned does not check out "
            f"({result.message}). Nothing was written; contact "
            "the CA."
        )
    return der


def finish(
    ts: TokenSession,
    key: GeneratedKey,
    cert_der: bytes,
    chain: Sequence[bytes],
    *,
    dea_number: str | None,
    records: Records,
    now: datetime,
) -> Enrolled:
    """Write the certificate (and CA certificates not yet there), relabel, save the chain.

    *dea_number* has been checked against the certificate's hash; it is remembered,
    since the certificate cannot tell it again."""
    info = read_csos_profile(asn1_x509.Certificate.load(cert_der))
    label = certificate_label(dea_number or info.subject_serial or "certificate", now)
    present = ca_certificates_on_token(ts)
    # Intermediates go on the token (order signing includes them); the root is trusted
    # from the saved chain file, not re-sent with every order.
    new_cas = [d for d in chain if not _is_root(d) and d not in present]
    install_certificate(ts, key, cert_der, new_cas, label=label)
    relabel(ts, key.key_id, label)
    records.drop_pending(key.key_id)
    if dea_number:
        records.remember_dea(cert_der, dea_number)
    if any(_is_root(d) for d in chain):  # never replace a saved chain by one without a root
        save_chain(chain)
    return Enrolled(key.key_id, label, cert_der, tuple(chain), info, dea_number)


def save_chain(chain: Sequence[bytes]) -> None:
    """The CA chain as PEM where order signing and status checks look for it."""
    path = paths.chain_file()
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(b"".join(pem.armor("CERTIFICATE", d) for d in chain))
    tmp.replace(path)


def remember_ca(client: EstClient, records: Records) -> None:
    """Record the CA's address for renewal, revocation requests and status checks."""
    try:
        endpoints = client.endpoints()
    except EnrolmentError:
        endpoints = None  # a CA without the discovery document still works
    bundle = str(client.ca_bundle.resolve()) if client.ca_bundle else None
    records.save_ca(CaRecord(client.ca_url, bundle, endpoints))
