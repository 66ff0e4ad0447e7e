"""The sandbox CA's TLS server certificate (TestCa.issue_tls_server) and the server's files."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from csos_desktop.sandbox.ca import IssueRefused, TestCa
from csos_desktop.sandbox.distributor.server import tls_files


def test_tls_server_certificate_names_its_hosts_for_server_auth(tmp_path: Path) -> None:
    ca = TestCa.init(tmp_path / "ca")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue_tls_server(key.public_key(), hosts=("localhost", "127.0.0.1"), days=30)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert cert.issuer == ca.issuing_certificate.subject
    cert.verify_directly_issued_by(ca.issuing_certificate)
    assert ca.issued == ()  # not a CSOS certificate: not in the issue log


def test_tls_server_certificate_needs_a_host(tmp_path: Path) -> None:
    ca = TestCa.init(tmp_path / "ca")
    with pytest.raises(IssueRefused):
        ca.issue_tls_server(ec.generate_private_key(ec.SECP256R1()).public_key(), hosts=())


def test_server_key_file_is_private_and_chain_includes_the_issuing_ca(tmp_path: Path) -> None:
    ca = TestCa.init(tmp_path / "ca")
    files = tls_files(ca.directory)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    chain = x509.load_pem_x509_certificates(files.certificate_chain.read_bytes())
    assert chain[1] == ca.issuing_certificate
    assert files.ca_bundle == ca.directory / "root.pem"
