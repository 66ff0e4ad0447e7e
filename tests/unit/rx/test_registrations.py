"""A practitioner with several DEA registrations (21 CFR 1311.120(b)(7), 1311.135(b)):
an access administrator records each, audited; the permission records which were
verified (1311.125(b)); each draft selects one; signing under any other is refused
before the PIN."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.revocation import RevocationState, RevocationStatus
from csos_desktop.pki.profile import read_epcs_certificate
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx import registrations as rx_reg
from csos_desktop.services.rx.access import AccessDenied, DenyReason, SigningRefused
from csos_desktop.services.rx.grants import approve_grant, propose_grant
from csos_desktop.services.rx.permission import require_signing_grant
from csos_desktop.store import Store
from csos_desktop.token.identity import SigningIdentity
from tests.unit.rx.helpers import ANN, BOB, SMITH, SMITH_CERT, events, permit, practice, rx_input
from tests.unit.store.helpers import Clock

#: Dr. Smith's New York registration (valid check digit); her first is AB1234563.
NY_DEA = "FS2345672"
#: A third one, added after her permission was granted.
NJ_DEA = "FS3456781"
ENDS = date(2030, 6, 30)
GOOD = RevocationStatus(RevocationState.GOOD, "not revoked")


@pytest.fixture()
def ready(store: Store, clock: Clock) -> Store:
    practice(store, clock)
    return store


def add_ny(store: Store, clock: Clock) -> None:
    rx_reg.add_registration(store, ANN, "drsmith", NY_DEA, state="ny", expires=ENDS, now=clock())


def without_dea(clock: Clock) -> dict[str, Any]:
    data = rx_input(clock)
    data["practitioner"] = {k: v for k, v in data["practitioner"].items() if k != "dea_number"}
    return data


def smith_identity() -> SigningIdentity:
    """Dr. Smith's CSP certificate (no DEA extensions), as the token would present it."""
    info = read_epcs_certificate(asn1_x509.Certificate.load(SMITH_CERT))
    return SigningIdentity(b"\x01", SMITH_CERT, info, "smith")


def test_an_administrator_adds_and_removes_registrations_each_audited(
    ready: Store, clock: Clock
) -> None:
    add_ny(ready, clock)
    regs = rx_reg.registrations(ready, "drsmith")
    assert [(r.dea_number, r.state, r.expires) for r in regs] == [
        ("AB1234563", None, None),
        (NY_DEA, "NY", "2030-06-30"),
    ]
    added = [e for e in ready.audit.entries() if e.event == "rx.registration-added"]
    assert added[-1].details["dea_number"] == NY_DEA and added[-1].details["by"] == "ann"
    with pytest.raises(AccessDenied) as denied:  # only an access administrator
        rx_reg.add_registration(
            ready, SMITH, "drsmith", NJ_DEA, state="NJ", expires=ENDS, now=clock()
        )
    assert denied.value.reason is DenyReason.ROLE and events(ready)[-1] == "rx.access-denied"
    with pytest.raises(InputError, match="already on record for drsmith"):
        rx_reg.add_registration(
            ready, ANN, "drsmith", NY_DEA, state="NY", expires=ENDS, now=clock()
        )
    with pytest.raises(InputError, match="agents hold no DEA registration"):
        rx_reg.add_registration(ready, ANN, "bob", NJ_DEA, state="NJ", expires=ENDS, now=clock())
    with pytest.raises(InputError, match="not a State"):
        rx_reg.add_registration(
            ready, ANN, "drsmith", NJ_DEA, state="New Jersey", expires=ENDS, now=clock()
        )
    removed = rx_reg.remove_registration(ready, ANN, "drsmith", "AB1234563", now=clock())
    assert removed.removed_by == "ann" and events(ready)[-1] == "rx.registration-removed"
    with pytest.raises(InputError, match="only registration"):
        rx_reg.remove_registration(ready, ANN, "drsmith", NY_DEA, now=clock())
    assert [r.dea_number for r in rx_reg.registrations(ready, "drsmith")] == [NY_DEA]
    # The record stays: a registration is never deleted or rewritten.
    with pytest.raises(Exception, match="registration records are kept"):
        ready.conn.execute("DELETE FROM rx_registrations")


def test_with_one_registration_the_draft_takes_it(ready: Store, clock: Clock) -> None:
    rec = rx_drafts.add_draft(ready, SMITH, without_dea(clock), now=clock())
    assert rec.practitioner_dea == "AB1234563"
    rec = rx_drafts.add_draft(ready, BOB, without_dea(clock), now=clock(), practitioner="drsmith")
    assert rec.practitioner_dea == "AB1234563"
    with pytest.raises(InputError, match="Say which practitioner"):
        rx_drafts.add_draft(ready, BOB, without_dea(clock), now=clock())


def test_with_several_the_draft_must_select_one(ready: Store, clock: Clock) -> None:
    add_ny(ready, clock)
    for actor, who in ((SMITH, None), (BOB, "drsmith")):
        with pytest.raises(InputError, match="holds 2 DEA registrations") as refused:
            rx_drafts.add_draft(ready, actor, without_dea(clock), now=clock(), practitioner=who)
        assert "AB1234563" in refused.value.message and f"{NY_DEA} (NY, ends 2030-06-30)" in (
            refused.value.message
        )
    assert ready.prescriptions.drafts() == []
    rec = rx_drafts.add_draft(
        ready, BOB, without_dea(clock), now=clock(), practitioner="drsmith", dea=NY_DEA.lower()
    )
    assert rec.practitioner_dea == NY_DEA
    doc = ready.prescriptions.prescription(rec.rx_id)
    assert doc.practitioner.dea_number.value == NY_DEA  # what will be signed names it
    # The file's own number is a selection too; a different --dea is refused.
    assert rx_drafts.add_draft(ready, SMITH, rx_input(clock), now=clock()).practitioner_dea == (
        "AB1234563"
    )
    with pytest.raises(InputError, match="select one"):
        rx_drafts.add_draft(ready, SMITH, rx_input(clock), now=clock(), dea=NY_DEA)
    with pytest.raises(InputError, match="not a current registration of Dr"):
        rx_drafts.add_draft(
            ready, BOB, without_dea(clock), now=clock(), dea="BJ6125341", practitioner="drsmith"
        )
    rx_reg.remove_registration(ready, ANN, "drsmith", NY_DEA, now=clock())
    # Its waiting draft can no longer be signed, but it can be taken off the queue.
    assert rx_drafts.void_draft(ready, BOB, rec.rx_id, "registration removed", now=clock())
    data = rx_input(clock)
    data["practitioner"] = {**data["practitioner"], "dea_number": NY_DEA}
    with pytest.raises(InputError, match="no current registration"):
        rx_drafts.add_draft(ready, BOB, data, now=clock())


def test_the_permission_records_the_registrations_verified(ready: Store, clock: Clock) -> None:
    add_ny(ready, clock)
    grant = permit(ready, clock)
    assert ready.rx_registrations.verified_by(grant.grant_id) == ("AB1234563", NY_DEA)
    proposed = [e for e in ready.audit.entries() if e.event == "rx.grant-proposed"][-1]
    assert proposed.details["registrations_verified"] == ["AB1234563", NY_DEA]
    identity = smith_identity()
    for dea in ("AB1234563", NY_DEA):
        with ready.transaction():
            user, _g = require_signing_grant(ready, "drsmith", identity, GOOD, clock(), dea)
        assert user.user_id == "drsmith"
    # Added after the permission: not verified by it, so nothing is signed under it.
    rx_reg.add_registration(ready, ANN, "drsmith", NJ_DEA, state="NJ", expires=ENDS, now=clock())
    with pytest.raises(SigningRefused, match="not FS3456781") as refused, ready.transaction():
        require_signing_grant(ready, "drsmith", identity, GOOD, clock(), NJ_DEA)
    assert refused.value.reason is DenyReason.REGISTRATION_NOT_VERIFIED
    # Removed since: refused too, though the permission verified it.
    rx_reg.remove_registration(ready, ANN, "drsmith", NY_DEA, now=clock())
    with pytest.raises(SigningRefused, match="was removed") as refused, ready.transaction():
        require_signing_grant(ready, "drsmith", identity, GOOD, clock(), NY_DEA)
    assert refused.value.reason is DenyReason.REGISTRATION_NOT_VERIFIED
    with pytest.raises(SigningRefused, match="not a registration of drsmith"), ready.transaction():
        require_signing_grant(ready, "drsmith", identity, GOOD, clock(), "BJ6125341")


def test_a_lapsed_registration_signs_nothing(ready: Store, clock: Clock) -> None:
    soon = (clock.now + timedelta(days=2)).date()
    rx_reg.add_registration(ready, ANN, "drsmith", NY_DEA, state="NY", expires=soon, now=clock())
    permit(ready, clock)
    clock.advance(days=4)
    with pytest.raises(SigningRefused, match="ended on") as refused, ready.transaction():
        require_signing_grant(ready, "drsmith", smith_identity(), GOOD, clock(), NY_DEA)
    assert refused.value.reason is DenyReason.REGISTRATION_LAPSED
    with ready.transaction():  # the other registration still signs
        require_signing_grant(ready, "drsmith", smith_identity(), GOOD, clock(), "AB1234563")


def test_a_proposal_verifies_only_current_registrations_of_the_practitioner(
    ready: Store, clock: Clock
) -> None:
    add_ny(ready, clock)
    with pytest.raises(InputError, match="not a current registration"):
        propose_grant(
            ready,
            ANN,
            "drsmith",
            certificate_der=SMITH_CERT,
            registration_expires=ENDS,
            registration_verified=True,
            now=clock(),
            dea_numbers=["BJ6125341"],
        )
    g = propose_grant(
        ready,
        ANN,
        "drsmith",
        certificate_der=SMITH_CERT,
        registration_expires=ENDS,
        registration_verified=True,
        now=clock(),
        dea_numbers=[NY_DEA],
    )
    assert ready.rx_registrations.verified_by(g.grant_id) == (NY_DEA,)
    assert g.dea_number == NY_DEA
    # Removed before the second person approves: the approval is refused.
    rx_reg.remove_registration(ready, ANN, "drsmith", NY_DEA, now=clock())
    with pytest.raises(SigningRefused, match="no longer"):
        approve_grant(ready, SMITH, g.grant_id, now=clock())
