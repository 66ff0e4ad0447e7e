"""Renewal before expiry (21 CFR 1311.40): a new key and a request the current key vouches for.

Authentication: the CSR of the new key goes to EST ``simplereenroll`` with a
detached CMS signature over its DER, made by the *current* certificate's key
on the token (header ``CSOS-Renewal-Signature``). Not TLS client
authentication: Python's TLS stack (and so httpx) can present a client key
only from a file or memory, or through an OpenSSL provider configured outside
the application per vendor driver and OS. The key must not leave the token
(1311.30(d)), and the signed request is the same token operation orders use, so
it works on every driver the app already supports and through TLS-inspecting
proxies that break client authentication. The CA checks the signature, that the
certificate is its own, unexpired and unrevoked, and that the signing time is
within 10 minutes (replay).

The old certificate stays usable until the new one is written; by default its
key pair and certificate are then removed, so signing has one identity to use.
"""

from __future__ import annotations

from collections.abc import Sequence

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.enrolment import renewal_notice as renewal_notice
from csos_desktop.enrol.errors import EnrolmentError
from csos_desktop.enrol.est_client import ApplicationData, EstClient
from csos_desktop.enrol.flow import (
    Enrolled,
    Progress,
    Step,
    check_issued,
    finish,
    remember_ca,
    request_for,
)
from csos_desktop.enrol.known_dea import known_dea
from csos_desktop.enrol.records import PendingEnrolment, Records
from csos_desktop.enrol.token_keys import delete_key_pair, existing_key, pending_label
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.token.identity import SigningIdentity
from csos_desktop.token.keys import KeyAlgorithm, generate_keypair
from csos_desktop.token.session import TokenSession
from csos_desktop.token.signer import TokenSigner


def renew(
    ts: TokenSession,
    client: EstClient,
    identity: SigningIdentity,
    chain_der: Sequence[bytes],
    *,
    algorithm: KeyAlgorithm | None = None,
    keep_old: bool = False,
    records: Records | None = None,
    progress: Progress | None = None,
    clock: Clock = utc_now,
) -> Enrolled:
    """Renew *identity* on a logged-in read-write session."""
    records = records or Records()
    step = progress or (lambda _s: None)
    now = clock()
    if now >= identity.info.not_after:
        raise EnrolmentError(renewal_notice(identity.info.not_after, now) or "expired")
    old_signer = TokenSigner(ts, identity.key_id)  # also proves the old key is here
    known = known_dea(identity)
    dea = known.number if known is not None and known.matches else None
    application = ApplicationData(identity.info.subject, dea or "", identity.info.schedules)
    step(Step.CA_CERTIFICATES)
    chain = client.cacerts()
    step(Step.KEY)
    slot = f"renewal:{identity.info.serial_number}"
    pending = records.pending(slot)
    key = (existing_key(ts, pending.key_id) if pending else None) or generate_keypair(
        ts, algorithm or old_signer.algorithm, pending_label(now)
    )
    records.save_pending(slot, PendingEnrolment(key.key_id, key.label, now, application))
    step(Step.REQUEST)
    csr = request_for(ts, key, identity.info.subject)
    proof = CmsSigner(old_signer, identity.certificate_der, [*chain_der, *chain]).sign(csr, now)
    step(Step.SUBMIT)
    issued = client.simplereenroll(csr, proof)
    step(Step.CHECK)
    cert_der = check_issued(issued, key, application, chain, now, renewing=identity.info)
    step(Step.INSTALL)
    done = finish(ts, key, cert_der, chain, dea_number=dea, records=records, now=now)
    if not keep_old:
        delete_key_pair(ts, identity.key_id, certificates=True)
    remember_ca(client, records)
    return done
