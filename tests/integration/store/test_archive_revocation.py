"""Archive verification with revocation data: signatures made after revocation are invalid.

Real token, real CA revocation, real CRLs. A signing-time is the signer's own claim, so a
back-dated one must not move a signature to before its certificate's revocation: the
store's recorded signing time (record.json) counts too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.pki.profile import read_csos_profile
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.export import export_archive
from csos_desktop.services.archive.verify import Verdict, verify_archive
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.orders.order_signer import OrderSigningSession
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import lifecycle, open_store
from csos_desktop.token.identity import SigningIdentity
from tests.conftest import Provisioned, trust_sandbox_root
from tests.integration.signing import chain_of, issue_for_token
from tests.unit.store.archive_forgery import roots
from tests.unit.store.helpers import order_input


@pytest.fixture(scope="module")
def old_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCa:
    """A CA set up a month ago, so signatures can be dated days back."""
    ca = TestCa.init(
        tmp_path_factory.mktemp("old-ca") / "ca",
        now=datetime.now(UTC) - timedelta(days=30),
        name_prefix="Old Sandbox",  # its own names: another anchor, never confused
    )
    trust_sandbox_root(ca)  # signing refuses a certificate without a configured anchor
    return ca


def identity_for(prov: Provisioned, ca: TestCa) -> SigningIdentity:
    """A fresh certificate from *ca* for the key on *prov*'s token."""
    cert = issue_for_token(ca, prov, not_before=datetime.now(UTC) - timedelta(days=10))
    der = cert.public_bytes(Encoding.DER)
    return SigningIdentity(
        prov.key.key_id, der, read_csos_profile(asn1_x509.Certificate.load(der)), prov.label
    )


def _export_one_order(
    prov: Provisioned,
    ca: TestCa,
    tmp_path: Path,
    *,
    claimed: datetime,
    revoked_at: datetime,
    recorded: datetime | None = None,
) -> Path:
    """One order signed with a fresh certificate (revoked at *revoked_at*) claiming *claimed*.

    The store records it at *recorded* (default: now).
    """
    recorded = recorded or datetime.now(UTC)
    identity = identity_for(prov, ca)
    ca.revoke(identity.info.serial_number, reason="key_compromise", when=revoked_at)
    with open_store(tmp_path / "csos.db") as store, prov.session() as ts:
        manifest = SigningPurpose.ARCHIVE_MANIFEST
        exporter = svc.TokenDocumentSigner(
            SigningSession(ts, identity_for(prov, ca), chain_of(ca), manifest)
        )
        [rec] = svc.import_orders(store, order_input(), source="test")
        signer = OrderSigningSession(
            SigningSession(ts, identity, chain_of(ca), SigningPurpose.ORDER, clock=lambda: claimed)
        )
        signed = svc.sign_orders(store, [rec.order_id], signer, clock=lambda: recorded)
        assert len(signed.signed) == 1
        since, until = recorded.date(), datetime.now(UTC).date()
        return export_archive(store, since, until, tmp_path / "bundle.zip", signer=exporter).path


def test_a_signature_made_after_revocation_is_invalid(
    ec_token: Provisioned, old_ca: TestCa, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    bundle = _export_one_order(
        ec_token, old_ca, tmp_path, claimed=now, revoked_at=now - timedelta(hours=1)
    )
    report = verify_archive(bundle, roots(old_ca, with_crls=True))
    assert report.revocation_checked
    [problem] = report.problems
    assert problem.startswith("orders/") and "revoked" in problem
    # Without revocation data it fails closed: revocation-unknown for every signer, never
    # INTACT (a supplier's rule, 1305.22(c)(3), and what `archive purge` relies on).
    plain = verify_archive(bundle, roots(old_ca, with_crls=False))
    assert plain.verdict is Verdict.PROBLEMS
    assert plain.problems and all("revocation could not be checked" in p for p in plain.problems)


def test_a_back_dated_signing_time_does_not_hide_a_revocation(
    ec_token: Provisioned, old_ca: TestCa, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    bundle = _export_one_order(
        ec_token,
        old_ca,
        tmp_path,
        claimed=now - timedelta(hours=2),  # before the revocation...
        revoked_at=now - timedelta(hours=1),  # ...but the store recorded it now
    )
    problems = verify_archive(bundle, roots(old_ca, with_crls=True)).problems
    assert len(problems) == 1 and "revoked" in problems[0]


def test_a_signature_made_before_a_later_revocation_stays_valid(
    ec_token: Provisioned, old_ca: TestCa, tmp_path: Path
) -> None:
    """Today's CRL applies retroactively only to signatures made after the revocation date."""
    signed_at = datetime.now(UTC) - timedelta(days=3)  # today's CRL is newer than that
    bundle = _export_one_order(
        ec_token,
        old_ca,
        tmp_path,
        claimed=signed_at,
        recorded=signed_at,
        revoked_at=signed_at + timedelta(days=2),
    )
    report = verify_archive(bundle, roots(old_ca, with_crls=True))
    assert report.verdict is Verdict.INTACT, report.problems


def test_a_back_dated_receipt_signed_after_revocation_is_invalid(
    ec_token: Provisioned, old_ca: TestCa, tmp_path: Path
) -> None:
    """A receipt's chain is checked at the later of its claim and the store's recorded time."""
    now = datetime.now(UTC)
    with open_store(tmp_path / "csos.db") as store, ec_token.session() as ts:
        exporter = svc.TokenDocumentSigner(
            SigningSession(
                ts,
                identity_for(ec_token, old_ca),
                chain_of(old_ca),
                SigningPurpose.ARCHIVE_MANIFEST,
            )
        )
        order_signer = OrderSigningSession(
            SigningSession(
                ts, identity_for(ec_token, old_ca), chain_of(old_ca), SigningPurpose.ORDER
            )
        )
        [rec] = svc.import_orders(store, order_input(), source="test")
        assert svc.sign_orders(store, [rec.order_id], order_signer).signed
        msg = next(m for m in store.outbox.pending() if m.record_id == rec.order_id)
        lifecycle.mark_submitted(store, rec.order_id, msg.outbox_id, now=now)
        lifecycle.record_status(store, rec.order_id, OrderState.SHIPPED, now=now)
        # The receiving certificate was revoked an hour ago; its signature claims two hours.
        receiver = identity_for(ec_token, old_ca)
        old_ca.revoke(
            receiver.info.serial_number, reason="key_compromise", when=now - timedelta(hours=1)
        )
        back_dated = svc.TokenDocumentSigner(
            SigningSession(
                ts,
                receiver,
                chain_of(old_ca),
                SigningPurpose.RECEIPT,
                clock=lambda: now - timedelta(hours=2),
            )
        )
        receipt, _ = svc.record_receipt(
            store, rec.order_id, [ReceiptLine(1, 1, now.date())], back_dated, clock=lambda: now
        )
        bundle = export_archive(
            store, now.date(), now.date(), tmp_path / "bundle.zip", signer=exporter
        ).path
    problems = verify_archive(bundle, roots(old_ca, with_crls=True)).problems
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"orders/{rec.order_id}/{receipt.receipt_id}.p7s: ")
    assert problems[0].endswith(f"(signature made {now:%Y-%m-%d %H:%M} UTC)")
    assert "revoked" in problems[0]
