"""The CRL cache holds only what was proven: a CRL signed by the issuer of a path that
reaches a configured anchor. A certificate copying a real CA's name, with its own CRL
server, can neither get its CRL cached nor make us fetch from its server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.pki.chain import VALIDATION_CACHE, ChainStatus, validate_chain
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.trust.crl_cache import CrlCache, CrlNotProven
from csos_desktop.trust.fetch import FetchRules
from csos_desktop.trust.revocation import RevocationSource
from tests.unit.trust.http_server import Answer, Served, http_server

LOCAL = FetchRules(allow_private=True, deadline=5.0)


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


@dataclass(frozen=True)
class World:
    ca: TestCa
    ca_server: Served
    attacker_server: Served
    cache: CrlCache

    @property
    def anchors(self) -> list[asn1_x509.Certificate]:
        return [_asn1(self.ca.root_certificate)]

    @property
    def issuing(self) -> asn1_x509.Certificate:
        return _asn1(self.ca.issuing_certificate)

    def source(self) -> RevocationSource:
        return RevocationSource(self.cache, rules=LOCAL)

    def publish(self, now: datetime) -> None:
        self.ca_server.answers["/issuing.crl"] = Answer(
            self.ca.crl(now=now).public_bytes(Encoding.DER)
        )
        self.ca_server.answers["/root.crl"] = Answer(
            self.ca.root_crl(now=now).public_bytes(Encoding.DER)
        )


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[World]:
    VALIDATION_CACHE.clear()
    with http_server() as ca_server, http_server() as attacker_server:
        ca = TestCa.init(
            tmp_path / "ca",
            crl_url=f"{ca_server.url}/issuing.crl",
            root_crl_url=f"{ca_server.url}/root.crl",
        )
        w = World(ca, ca_server, attacker_server, CrlCache(tmp_path / "crl"))
        w.publish(datetime.now(UTC))
        yield w


def _attacker_crl(issuer_name: x509.Name, key: ec.EllipticCurvePrivateKey) -> bytes:
    now = datetime.now(UTC)
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_name)
        .last_update(now - timedelta(minutes=1))
        .next_update(datetime(2099, 1, 1, tzinfo=UTC))
        .add_extension(x509.CRLNumber(10**9), critical=False)
        .sign(key, hashes.SHA256())
        .public_bytes(Encoding.DER)
    )


def _attacker_certificate(w: World, key: ec.EllipticCurvePrivateKey) -> asn1_x509.Certificate:
    """Self-made: the real issuing CA's name as issuer, the attacker's CRL server as CDP."""
    now = datetime.now(UTC)
    cdp = x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                [x509.UniformResourceIdentifier(f"{w.attacker_server.url}/ca.crl")],
                None,
                None,
                None,
            )
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Copycat Pharmacy")]))
        .issuer_name(w.ca.issuing_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(cdp, critical=False)
        .sign(key, hashes.SHA256())
    )
    return _asn1(cert)


def _legitimate(w: World) -> asn1_x509.Certificate:
    return _asn1(
        w.ca.issue_for_public_key(
            ec.generate_private_key(ec.SECP256R1()).public_key(),
            subject=x509.Name.from_rfc4514_string("CN=Honest Pharmacy"),
            dea_number="AB1234563",
            schedules=parse_schedule_list("2"),
        )
    )


def _verify(w: World, signer: asn1_x509.Certificate) -> ChainStatus:
    now = datetime.now(UTC)
    data = w.source().for_path(signer, [w.issuing], w.anchors, now=now)
    return validate_chain(
        signer,
        trust_roots=w.anchors,
        intermediates=[w.issuing],
        crls=data.crls,
        ocsps=data.ocsps,
        moment=now,
        require_revocation=True,
    ).status


def test_a_copied_issuer_name_gets_no_crl_cached_and_legitimate_orders_still_verify(
    world: World,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    world.attacker_server.answers["/ca.crl"] = Answer(
        _attacker_crl(world.ca.issuing_certificate.subject, key)
    )
    attacker = _attacker_certificate(world, key)

    assert _verify(world, attacker) is ChainStatus.UNTRUSTED
    assert world.attacker_server.requests == []  # its addresses are not even asked
    assert _verify(world, _legitimate(world)) is ChainStatus.VALID
    held = world.cache.all()
    assert held and all(h.url.startswith(world.ca_server.url) for h in held)
    assert all(h.verified for h in held)


def test_a_crl_not_signed_by_the_issuer_is_never_cached(world: World) -> None:
    forged = _attacker_crl(
        world.ca.issuing_certificate.subject, ec.generate_private_key(ec.SECP256R1())
    )
    with pytest.raises(CrlNotProven):
        world.cache.put(
            forged, "http://attacker.example/ca.crl", datetime.now(UTC), issuer=world.issuing
        )
    assert world.cache.all() == []


def test_a_distribution_point_serving_a_forged_crl_leaves_the_cache_empty(
    world: World,
) -> None:
    """Even at the real CA's address, an unsigned answer is refused (revocation-unknown)."""
    forged = _attacker_crl(
        world.ca.issuing_certificate.subject, ec.generate_private_key(ec.SECP256R1())
    )
    world.ca_server.answers["/issuing.crl"] = Answer(forged)
    assert _verify(world, _legitimate(world)) is ChainStatus.REVOCATION_UNKNOWN
    assert world.cache.get(world.issuing) is None


def test_an_older_crl_never_replaces_a_newer_one(world: World) -> None:
    now = datetime.now(UTC)
    older = world.ca.crl(now=now - timedelta(hours=1)).public_bytes(Encoding.DER)
    newer = world.ca.crl(now=now).public_bytes(Encoding.DER)
    world.cache.put(newer, "http://ca.example/issuing.crl", now, issuer=world.issuing)
    kept = world.cache.put(older, "http://ca.example/issuing.crl", now, issuer=world.issuing)
    assert kept.der == newer
    # Same thisUpdate, lower CRL number: a replay too.
    first = world.ca.crl(now=now).public_bytes(Encoding.DER)
    second = world.ca.crl(now=now).public_bytes(Encoding.DER)
    world.cache.put(second, "http://ca.example/issuing.crl", now, issuer=world.issuing)
    assert world.cache.put(first, "u", now, issuer=world.issuing).der == second


def test_the_number_of_issuers_held_is_capped(tmp_path: Path) -> None:
    cache = CrlCache(tmp_path / "crl", max_entries=2)
    now = datetime.now(UTC)
    for i in range(3):
        ca = TestCa.init(tmp_path / f"ca{i}", name_prefix=f"Cap {i}")
        cache.put(
            ca.crl(now=now).public_bytes(Encoding.DER),
            f"http://ca{i}.example/crl",
            now + timedelta(seconds=i),
            issuer=_asn1(ca.issuing_certificate),
        )
    assert sorted(h.url for h in cache.all()) == [
        "http://ca1.example/crl",
        "http://ca2.example/crl",
    ]


def test_forget_removes_an_issuers_crl(world: World) -> None:
    now = datetime.now(UTC)
    world.cache.put(
        world.ca.crl(now=now).public_bytes(Encoding.DER),
        "http://ca.example/c",
        now,
        issuer=world.issuing,
    )
    gone = world.cache.forget("issuing ca")
    assert [g.url for g in gone] == ["http://ca.example/c"]
    assert world.cache.all() == []
