"""The demo's EPCS step, as a practice runs it: an administrator adds the prescriber, the
permission to sign is entered and approved by two people (the prescriber approving with
their own token), the prescription is queued, then signed on the token through the same
queue and ceremony as `csos rx sign`, routed to the demo pharmacy's mailbox on the
reference server as an NCPDP SCRIPT NewRx, and verified there on receipt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509

from csos_desktop.sandbox.rx_sample import sample_rx_input
from csos_desktop.services.interaction import Interaction
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.rx.access import Actor
from csos_desktop.services.rx.ceremony import RevocationCheck
from csos_desktop.services.rx.drafts import add_draft
from csos_desktop.services.rx.grant_approval import approve_grant_with_token
from csos_desktop.services.rx.grants import propose_grant
from csos_desktop.services.rx.network import choose_pharmacy, receive_from_server
from csos_desktop.services.rx.queue import sign_queued
from csos_desktop.services.rx.receive import PharmacyTrust, RevocationLookup
from csos_desktop.services.rx.users import add_user
from csos_desktop.services.signing import SigningIdentity, SigningPurpose, SigningSession
from csos_desktop.store.access import Role
from csos_desktop.sync.client import DistributorClient
from csos_desktop.token.session import TokenSession
from csos_desktop.trust.anchors import anchor_certificates

#: The demo pharmacy in the sandbox directory (sandbox/distributor/script_inbox.py).
DEMO_PHARMACY_NCPDP = "1234567"
ADMIN, PRESCRIBER = Actor("office-admin"), Actor("dr-smith")


class _Ceremony:
    """The demo practitioner: reads the review, attests, types the demo PIN."""

    def __init__(self, pin: Interaction) -> None:
        self._pin = pin

    def ask_pin(self, token: object, warning: str | None) -> str | None:
        return self._pin.ask_pin(token, warning)  # type: ignore[arg-type]

    def show_pin_pad_prompt(self, token: object) -> None:
        self._pin.show_pin_pad_prompt(token)  # type: ignore[arg-type]

    def notify(self, message: str) -> None:
        pass

    def show_attestation(self, review: str) -> None:
        pass


def newrx_step(
    *,
    ts: TokenSession,
    identity: SigningIdentity,
    chain: Sequence[bytes],
    client: DistributorClient,
    pin: Interaction,
    dea: str,
    check: RevocationCheck,
    revocation: RevocationLookup,
    send: Callable[[], object],
    home: Path,
    say: Callable[[str], None],
) -> None:
    now = datetime.now(UTC)
    pharmacy = choose_pharmacy(client, DEMO_PHARMACY_NCPDP)
    with open_store() as store:
        add_user(
            store, None, ADMIN.user_id, "Office Administrator", Role.ACCESS_ADMIN, None, now=now
        )
        add_user(
            store, ADMIN, PRESCRIBER.user_id, "Dr. Jane Smith", Role.PRACTITIONER, dea, now=now
        )
        grant = propose_grant(
            store,
            ADMIN,
            PRESCRIBER.user_id,
            certificate_der=identity.certificate_der,
            registration_expires=now.date() + timedelta(days=365),
            registration_verified=True,
            now=now,
        )
        approval = SigningSession(ts, identity, list(chain), SigningPurpose.GRANT_APPROVAL)
        approve_grant_with_token(store, PRESCRIBER, grant.grant_id, approval, pin, now=now)
        data = sample_rx_input(now.date().isoformat(), dea, ndc="00406-0552-62")
        add_draft(store, PRESCRIBER, data, now=now)
        session = SigningSession(ts, identity, list(chain), SigningPurpose.PRESCRIPTION)
        [done] = sign_queued(
            store,
            PRESCRIBER,
            "Maria Lopez",
            session,
            _Ceremony(pin),
            check,
            pharmacies=pharmacy,
        )
        rx = store.prescriptions.prescription(done.rx_id)
        newrx = store.script.sent_for(done.rx_id)
    assert newrx is not None
    (home / "newrx.xml").write_bytes(newrx.message)
    send()  # the outbox, as `csos sync` runs it, takes the NewRx to the pharmacy's mailbox
    trust = PharmacyTrust(
        anchor_certificates(), [asn1_x509.Certificate.load(d) for d in chain], revocation
    )
    with open_store() as store:
        [got] = receive_from_server(
            store, client, own_ncpdp_id=pharmacy.ncpdp_id, trust=trust, now=datetime.now(UTC)
        )
    verdict = got.verification.verdict.value.upper()
    reasons = "; ".join(f.code for f in got.verification.findings)
    say(
        f"[EPCS] Dr. Jane Smith's permission to sign was entered by the office administrator "
        f"and approved with her own token (permission #{grant.grant_id}, two people, "
        f"1311.125); a schedule II NewRx (NCPDP SCRIPT 2017071) for {rx.patient.name}, "
        f"{rx.drug.name} {rx.drug.strength}, was queued, signed on the token with its "
        f"DigitalSignature and recorded, routed to {pharmacy.name} (NCPDP "
        f"{pharmacy.ncpdp_id}); the pharmacy's check on receipt: {verdict}"
        f"{f' ({reasons})' if reasons else ''}; kept with its answer (message "
        f"{got.record.message_id}, {home.name}/newrx.xml)."
    )
