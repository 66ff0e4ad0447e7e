"""Renewal, revocation requests, and revocation status via CRL and via OCSP."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.revocation import RevocationState
from csos_desktop.enrol.errors import CaRefused
from csos_desktop.enrol.est_client import CaEndpoints
from csos_desktop.enrol.flow import Enrolled, enrol
from csos_desktop.enrol.records import Records
from csos_desktop.enrol.renewal import renew
from csos_desktop.enrol.revocation import request_revocation
from csos_desktop.enrol.status import check_revocation
from csos_desktop.pki.chain import ChainStatus
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.identity import SigningIdentity, signing_identities
from csos_desktop.token.session import TokenSession
from tests.integration.enrol.conftest import SandboxCa


def _enrolled(session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path) -> Enrolled:
    with sandbox_ca.client() as client:
        return enrol(session, client, sandbox_ca.codes(), records=Records(tmp_path))


def _identity(session: TokenSession, key_id: bytes) -> SigningIdentity:
    return next(i for i in signing_identities(read_certificates(session)) if i.key_id == key_id)


def _chain(sandbox_ca: SandboxCa) -> list[bytes]:
    return [
        sandbox_ca.ca.issuing_certificate.public_bytes(Encoding.DER),
        sandbox_ca.ca.root_certificate.public_bytes(Encoding.DER),
    ]


def _status(sandbox_ca: SandboxCa, der: bytes, **kw: bool) -> RevocationState:
    with sandbox_ca.client() as client:
        endpoints = client.endpoints()
    return check_revocation(
        der,
        _chain(sandbox_ca),
        endpoints=endpoints,
        ca_bundle=sandbox_ca.root_pem,
        now=datetime.now(UTC),
        **kw,
    ).state


def test_renewal_signed_by_the_current_key_replaces_the_old_certificate(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    old = _enrolled(session, sandbox_ca, tmp_path)
    with sandbox_ca.client() as client:
        new = renew(
            session,
            client,
            _identity(session, old.key_id),
            _chain(sandbox_ca),
            records=Records(tmp_path),
        )
    assert new.key_id != old.key_id
    assert (new.info.dea_hash, new.info.schedules) == (old.info.dea_hash, old.info.schedules)
    assert new.info.subject == old.info.subject
    ids = {c.key_id for c in read_certificates(session)}
    assert new.key_id in ids and old.key_id not in ids


def test_renewal_can_keep_the_old_certificate(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    old = _enrolled(session, sandbox_ca, tmp_path)
    with sandbox_ca.client() as client:
        new = renew(
            session,
            client,
            _identity(session, old.key_id),
            _chain(sandbox_ca),
            keep_old=True,
            records=Records(tmp_path),
        )
    ids = {c.key_id for c in read_certificates(session)}
    assert {new.key_id, old.key_id} <= ids


def test_revocation_request_is_seen_through_crl_and_through_ocsp(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    done = _enrolled(session, sandbox_ca, tmp_path)
    der = done.certificate_der
    assert _status(sandbox_ca, der) is RevocationState.GOOD
    assert _status(sandbox_ca, der, use_ocsp=False) is RevocationState.GOOD
    assert _status(sandbox_ca, der, use_crl=False) is RevocationState.GOOD
    identity = _identity(session, done.key_id)
    with sandbox_ca.client() as client:
        receipt = request_revocation(
            session, client, identity, _chain(sandbox_ca), "key-compromise"
        )
    assert receipt.serial_number == done.info.serial_number
    assert receipt.reason == "keyCompromise"
    for only in ({"use_ocsp": False}, {"use_crl": False}):
        with sandbox_ca.client() as client:
            status = check_revocation(
                der,
                _chain(sandbox_ca),
                endpoints=client.endpoints(),
                ca_bundle=sandbox_ca.root_pem,
                now=datetime.now(UTC),
                **only,
            )
        assert status.state is RevocationState.REVOKED, (only, status)
        assert status.reason == "key_compromise"
        assert status.date is not None
        assert status.sources == (("crl",) if "use_ocsp" in only else ("ocsp",))
    # A revoked certificate can neither renew nor ask again.
    with sandbox_ca.client() as client, pytest.raises(CaRefused, match="revoked"):
        renew(session, client, identity, _chain(sandbox_ca), records=Records(tmp_path))
    with sandbox_ca.client() as client, pytest.raises(CaRefused, match="revoked"):
        request_revocation(session, client, identity, _chain(sandbox_ca), "superseded")


def test_supplier_side_chain_check_reports_ocsp_revocation(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    from asn1crypto import x509 as asn1_x509

    from csos_desktop.enrol.status import fetch_revinfo
    from csos_desktop.pki.chain import validate_chain

    done = _enrolled(session, sandbox_ca, tmp_path)
    sandbox_ca.ca.revoke(done.info.serial_number, reason="cessationOfOperation")
    pool = [asn1_x509.Certificate.load(d) for d in _chain(sandbox_ca)]
    cert = asn1_x509.Certificate.load(done.certificate_der)
    with sandbox_ca.client() as client:
        info = fetch_revinfo(
            cert, pool, endpoints=client.endpoints(), ca_bundle=sandbox_ca.root_pem, use_crl=False
        )
    # The subscriber's status comes from OCSP alone; the issuing CA's from the root CRL.
    assert all(c.issuer != cert.issuer for c in info.crls)
    result = validate_chain(
        cert,
        trust_roots=[pool[1]],
        intermediates=[pool[0]],
        ocsps=info.ocsps,
        crls=info.crls,
        moment=datetime.now(UTC),
    )
    assert result.status is ChainStatus.REVOKED
    assert result.revocation_reason == "cessation_of_operation"
    assert "revoked on" in result.message


def test_unreachable_ca_gives_unknown_status_with_the_reason_not_good(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    done = _enrolled(session, sandbox_ca, tmp_path)
    dead = "https://127.0.0.1:9"
    endpoints = CaEndpoints(
        (f"{dead}/crl/issuing.crl", f"{dead}/crl/root.crl"), f"{dead}/ocsp", None
    )
    # Certificates name the live CRL address: leave that out by checking OCSP only.
    status = check_revocation(
        done.certificate_der,
        _chain(sandbox_ca),
        endpoints=endpoints,
        ca_bundle=sandbox_ca.root_pem,
        now=datetime.now(UTC),
        use_crl=False,
    )
    assert status.state is RevocationState.UNKNOWN
    assert "could not be checked" in status.message and "127.0.0.1:9" in status.message


def test_supplier_check_of_an_order_uses_ocsp_answers(
    session: TokenSession, sandbox_ca: SandboxCa, tmp_path: Path
) -> None:
    """1305.22(c)(3) through OCSP: accepted while good, certificate-revoked once revoked."""
    from asn1crypto import x509 as asn1_x509

    from csos_desktop.domain.canonical import canonical_bytes
    from csos_desktop.enrol.status import fetch_revinfo
    from csos_desktop.pki.cms import CmsSigner
    from csos_desktop.pki.supplier_check import Reason, verify_order
    from csos_desktop.token.signer import TokenSigner
    from tests.integration.signing import sample_order

    done = _enrolled(session, sandbox_ca, tmp_path)
    now = datetime.now(UTC)
    order = sample_order(now).with_date_signed(now.date())
    document = canonical_bytes(order.to_document())
    signature = CmsSigner(
        TokenSigner(session, done.key_id), done.certificate_der, list(done.chain_der)
    ).sign(document, now)
    pool = [asn1_x509.Certificate.load(d) for d in _chain(sandbox_ca)]
    cert = asn1_x509.Certificate.load(done.certificate_der)

    def check() -> tuple[Reason, ...]:
        with sandbox_ca.client() as client:
            info = fetch_revinfo(
                cert,
                pool,
                endpoints=client.endpoints(),
                ca_bundle=sandbox_ca.root_pem,
                use_crl=False,
            )
        result = verify_order(
            document,
            signature,
            trust_roots=[pool[1]],
            crls=info.crls,
            ocsps=info.ocsps,
            now=datetime.now(UTC),
        )
        assert result.revocation_checked or result.reasons
        return result.reasons

    assert check() == ()
    sandbox_ca.ca.revoke(done.info.serial_number, reason="keyCompromise")
    assert check() == (Reason.CERTIFICATE_REVOKED,)
