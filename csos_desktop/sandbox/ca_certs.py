"""Building the sandbox CA's certificates: keys, names, extensions, signing.

Pure construction with `cryptography`; :mod:`csos_desktop.sandbox.ca` keeps the
CA's files and state and decides what to issue.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.schedule import Schedule
from csos_desktop.pki import profile

CaKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
SubjectKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
# Backdating absorbs clock skew between machines (1311.55 allows five minutes).
BACKDATE = timedelta(minutes=5)


def utc(moment: datetime | None) -> datetime:
    # Naive datetimes are taken as UTC; X.509 times carry whole seconds.
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def new_key(algorithm: str) -> CaKey:
    if algorithm == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise InputError(f"unknown CA key algorithm {algorithm!r}; use p256 or rsa2048")


def ski(cert: x509.Certificate) -> x509.SubjectKeyIdentifier:
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value


def crl_dp(url: str) -> x509.CRLDistributionPoints:
    uri = x509.UniformResourceIdentifier(url)
    return x509.CRLDistributionPoints([x509.DistributionPoint([uri], None, None, None)])


USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def key_usage(*on: str) -> x509.KeyUsage:
    return x509.KeyUsage(**{u: u in on for u in USAGES})


def random_serial(taken: set[int] | frozenset[int] = frozenset()) -> int:
    while True:  # positive, non-zero, 63 bits: fits a signed 64-bit integer everywhere
        serial = secrets.randbits(63)
        if serial and serial not in taken:
            return serial


def sign_certificate(
    subject: x509.Name,
    public_key: SubjectKey,
    issuer: x509.Certificate | None,
    signing_key: CaKey,
    *,
    serial: int,
    start: datetime,
    end: datetime,
    ca: bool,
    path_length: int | None = None,
    crl_url: str | None = None,
    extensions: tuple[x509.ExtensionType, ...] = (),
) -> x509.Certificate:
    """One certificate; `issuer` None means self-signed. No EKU, ever: openssl's
    default S/MIME purpose (cms -verify) must accept subscriber certificates."""
    own_ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    usage = (
        key_usage("key_cert_sign", "crl_sign")
        if ca
        else key_usage("digital_signature", "content_commitment")
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(own_ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ski(issuer) if issuer else own_ski
            ),
            critical=False,
        )
    )
    # The rest is non-critical so generic verifiers (openssl) accept the certificate.
    for ext in (*extensions, *([crl_dp(crl_url)] if crl_url else [])):
        builder = builder.add_extension(ext, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def ca_name(prefix: str, role: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"{prefix} (TEST ONLY)"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{prefix} {role}"),
        ]
    )


def with_subject_serial(subject: x509.Name) -> tuple[x509.Name, str]:
    """*subject* with a serialNumber attribute (2.5.4.5), added by the CA when missing.

    The DEA-number hash binds the number to this value, so a renewal that keeps
    the subject keeps the same hash.
    """
    present = subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if present:
        return subject, str(present[-1].value)
    serial = secrets.token_hex(8).upper()
    attrs = [*subject, x509.NameAttribute(NameOID.SERIAL_NUMBER, serial)]
    return x509.Name(attrs), serial


def dea_extensions(
    *,
    dea_number: str,
    subject_serial: str,
    schedules: frozenset[Schedule],
    registrant_name: str,
    business_activity: str,
    postal_address: tuple[str, ...],
) -> tuple[x509.UnrecognizedExtension, ...]:
    """The six DEA extensions of the profile (csos_desktop.pki.profile), in OID order."""
    values = (
        (profile.DEA_VERSION_OID, profile.encode_version()),
        (profile.DEA_REGISTRANT_NAME_OID, profile.encode_text(registrant_name)),
        (profile.DEA_NUMBER_HASH_OID, profile.encode_dea_hash(dea_number, subject_serial)),
        (profile.DEA_SCHEDULES_OID, profile.encode_schedules(schedules)),
        (profile.DEA_BUSINESS_ACTIVITY_OID, profile.encode_text(business_activity)),
        (profile.DEA_POSTAL_ADDRESS_OID, profile.encode_address(postal_address)),
    )
    return tuple(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), der) for oid, der in values)
