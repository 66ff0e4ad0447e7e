"""The demo's EPCS step: a schedule II NewRx signed on the token, routed to the demo
pharmacy's mailbox on the reference server, and verified there on receipt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.prescription import parse_prescription_input
from csos_desktop.services.interaction import Interaction
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.rx.ceremony import SigningList, sign_ready
from csos_desktop.services.rx.network import choose_pharmacy, receive_from_server
from csos_desktop.services.rx.receive import PharmacyTrust, RevocationLookup
from csos_desktop.services.signing import SigningIdentity, SigningPurpose, SigningSession
from csos_desktop.sync.client import DistributorClient
from csos_desktop.token.session import TokenSession
from csos_desktop.trust.anchors import anchor_certificates

#: The demo pharmacy in the sandbox directory (sandbox/distributor/script_inbox.py).
DEMO_PHARMACY_NCPDP = "1234567"


def _input(dea: str, today: str) -> dict[str, object]:
    address = {"street": "200 Medical Plaza", "city": "Springfield", "state": "IL"}
    return {
        "schema": "csos-rx/1",
        "date_of_issue": today,
        "patient": {
            "name": "Maria Lopez",
            "address": {
                "street": "48 Elm Street",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62704",
            },
        },
        "drug": {
            "name": "Oxycodone Hydrochloride",
            "strength": "5 mg",
            "dosage_form": "tablet",
            "schedule": "2",
            "ndc": "00406-0552-62",
        },
        "quantity": 20,
        "directions": "1 tablet by mouth every 6 hours as needed for pain; max 4 per day",
        "refills": 0,
        "practitioner": {
            "name": "Dr. Jane Smith",
            "address": {**address, "postal_code": "62702"},
            "dea_number": dea,
        },
    }


class _Ceremony:
    """The demo practitioner: reads the review, types the demo PIN."""

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
    revocation: RevocationLookup,
    home: Path,
    say: Callable[[str], None],
) -> None:
    now = datetime.now(UTC)
    rx = parse_prescription_input(_input(dea, now.date().isoformat()), now=now)
    pharmacy = choose_pharmacy(client, DEMO_PHARMACY_NCPDP)
    session = SigningSession(ts, identity, list(chain), SigningPurpose.PRESCRIPTION)
    signing_list = SigningList([rx])
    signing_list.mark_ready(rx.rx_id)
    [done] = sign_ready(signing_list, session, _Ceremony(pin), {rx.rx_id: pharmacy})
    assert done.newrx is not None
    (home / "newrx.xml").write_bytes(done.newrx.message)
    client.send_newrx(pharmacy.ncpdp_id, rx.rx_id, done.newrx.message)
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
        f"[EPCS] Schedule II NewRx (NCPDP SCRIPT 2017071) for {rx.patient.name}, "
        f"{rx.drug.name} {rx.drug.strength}, signed on the token with its DigitalSignature, "
        f"routed to {pharmacy.name} (NCPDP {pharmacy.ncpdp_id}); the pharmacy's check on "
        f"receipt: {verdict}{f' ({reasons})' if reasons else ''}; kept with its answer "
        f"(message {got.record.message_id}, {home.name}/newrx.xml)."
    )
