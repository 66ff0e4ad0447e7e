"""TLS server certificates from the test CA's issuing CA, for the sandbox servers."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from csos_desktop.sandbox.ca_certs import (
    BACKDATE,
    CaKey,
    SubjectKey,
    key_usage,
    random_serial,
    ski,
    utc,
)
from csos_desktop.sandbox.ca_errors import IssueRefused


def tls_server_certificate(
    issuing: x509.Certificate,
    ca_key: CaKey,
    public_key: SubjectKey,
    *,
    hosts: tuple[str, ...],
    days: int,
    now: datetime | None,
) -> x509.Certificate:
    """A serverAuth certificate for `hosts` (DNS names or IPs), signed by *issuing*."""
    if not hosts or days < 1:
        raise IssueRefused("a TLS server certificate needs at least one host and 1+ days")
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    start = utc(now) - BACKDATE
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TEST ONLY"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuing.subject)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage("digital_signature", "key_encipherment"), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski(issuing)),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
