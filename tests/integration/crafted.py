"""Signatures an attacker (or another vendor's tool) could make: crafted certificates and
signed attributes, each signed for real so only the check under test can refuse them.

The certificates are issued by the session's test CA key through `cryptography` directly,
so the profile of each one (key usage, policies, extensions) is the test's choice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.prescription import parse_prescription_input
from csos_desktop.domain.schedule import Schedule
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.supplier_check import OrderVerification, verify_order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.ca_certs import dea_extensions, key_usage, ski, with_subject_serial
from tests.conftest import ALL_SCHEDULES, PURCHASER_DEA
from tests.integration.signing import sample_order
from tests.unit.domain.rx_samples import sample_rx_input

SIGNING_USAGE = ("digital_signature", "content_commitment")


class SoftwareSigner:
    """A P-256 key in memory: these tests are about the verifier, not the token."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    def sign_digest(self, digest: bytes) -> bytes:
        return self.key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def crafted_certificate(
    ca: TestCa,
    signer: SoftwareSigner,
    *,
    usage: Sequence[str] | None = SIGNING_USAGE,
    dea: str = PURCHASER_DEA,
    schedules: frozenset[Schedule] = ALL_SCHEDULES,
    extra: Sequence[x509.ExtensionType] = (),
) -> bytes:
    """DER of a certificate from *ca*'s issuing key with the profile the test asks for."""
    issuing_key = serialization.load_pem_private_key(
        (ca.directory / "ca-key.pem").read_bytes(), None
    )
    now = datetime.now(UTC)
    subject, subject_serial = with_subject_serial(
        x509.Name.from_rfc4514_string("CN=Crafted Pharmacy,C=US")
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.issuing_certificate.subject)
        .public_key(signer.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=100))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ski(ca.issuing_certificate)
            ),
            critical=False,
        )
    )
    for ext in dea_extensions(
        dea_number=dea,
        subject_serial=subject_serial,
        schedules=schedules,
        registrant_name="Crafted Pharmacy",
        business_activity="Retail Pharmacy",
        postal_address=("TEST ONLY",),
    ):
        builder = builder.add_extension(ext, critical=False)
    if usage is not None:
        builder = builder.add_extension(key_usage(*usage), critical=True)
    for ext in extra:
        builder = builder.add_extension(ext, critical=False)
    cert = builder.sign(issuing_key, hashes.SHA256())  # type: ignore[arg-type]
    return cert.public_bytes(Encoding.DER)


class AttributeSigner(CmsSigner):
    """A CmsSigner whose signed attributes a test may rewrite before they are signed."""

    def __init__(
        self,
        signer: SoftwareSigner,
        certificate_der: bytes,
        chain: Sequence[bytes],
        rewrite: Callable[[list[bytes]], list[bytes]],
    ) -> None:
        super().__init__(signer, certificate_der, chain)
        self._rewrite = rewrite

    def signed_attributes(self, content: bytes, signing_time: datetime) -> bytes:
        from csos_desktop.pki.der import set_of

        honest = super().signed_attributes(content, signing_time)
        return set_of(*self._rewrite(split_set(honest)))


def split_set(der_set: bytes) -> list[bytes]:
    """The elements of a DER SET (definite lengths), as their own DER."""
    from asn1crypto import core

    body = core.Asn1Value.load(der_set).contents
    out, i = [], 0
    while i < len(body):
        first = core.Asn1Value.load(body[i:])
        n = len(first.dump())
        out.append(bytes(body[i : i + n]))
        i += n
    return out


def order_document(when: datetime) -> bytes:
    return canonical_bytes(sample_order(when).with_date_signed(when.date()).to_document())


def rx_document(when: datetime) -> bytes:
    rx = parse_prescription_input(sample_rx_input(when.date().isoformat()), now=when)
    return canonical_bytes(rx.to_document())


def chain(ca: TestCa) -> list[bytes]:
    return [ca.issuing_certificate.public_bytes(Encoding.DER)]


def trust_of(ca: TestCa) -> tuple[list[asn1_x509.Certificate], list[asn1_crl.CertificateList]]:
    root = asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))
    crls = [
        asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
        for c in (ca.crl(), ca.root_crl())
    ]
    return [root], crls


def verify_now(ca: TestCa, document: bytes, signature: bytes) -> OrderVerification:
    """The supplier's check of an order against *ca*'s root and CRLs, now."""
    roots, crls = trust_of(ca)
    return verify_order(document, signature, trust_roots=roots, crls=crls, now=datetime.now(UTC))
