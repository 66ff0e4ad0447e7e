"""The pharmacy's check says how the practitioner's DEA number was bound: by the hash in a
certificate with the DEA extensions, or by the prescriber's access control when the
credential service provider's certificate carries none (1311.105, 1311.125)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.prescription import parse_prescription_input
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.rx_check import DeaBinding, verify_prescription
from csos_desktop.pki.signed_check import Reason
from tests.openssl_pki import (
    OID,
    OpensslCa,
    dea_extension_lines,
    dea_hash_hex,
    der_octets,
    needs_openssl,
    new_public_key,
)
from tests.unit.domain.rx_samples import sample_rx_input

pytestmark = needs_openssl


class FileKey:
    """The openssl-made RSA key, signing digests as a token would."""

    def __init__(self, path: Path) -> None:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        self.key = key

    def sign_digest(self, digest: bytes) -> bytes:
        return self.key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[OpensslCa, Path, FileKey]:
    d = tmp_path_factory.mktemp("rx-pki")
    pub = new_public_key(d)
    return OpensslCa.create(d / "ca"), pub, FileKey(d / "leaf.key")


def _verify(
    pki: tuple[OpensslCa, Path, FileKey], name: str, extensions: list[str]
) -> tuple[DeaBinding | None, tuple[Reason, ...], tuple[str, ...]]:
    ca, pub, key = pki
    cert = ca.issue(name, pub, extensions=extensions)
    der = pem.unarmor(cert.read_bytes())[2]
    now = datetime.now(UTC)
    rx = parse_prescription_input(sample_rx_input(now.date().isoformat()), now=now)
    document = canonical_bytes(rx.to_document())
    signature = CmsSigner(key, der).sign(document, now)
    root = asn1_x509.Certificate.load(pem.unarmor(ca.root.read_bytes())[2])
    verdict = verify_prescription(document, signature, trust_roots=[root], now=now)
    return verdict.dea_binding, verdict.reasons, verdict.warnings


def test_a_certificate_with_dea_extensions_binds_the_number_by_its_hash(
    pki: tuple[OpensslCa, Path, FileKey],
) -> None:
    binding, reasons, _ = _verify(pki, "with-dea", dea_extension_lines())
    assert binding is DeaBinding.CERTIFICATE and reasons == ()


def test_a_hash_of_another_dea_number_is_a_mismatch(pki: tuple[OpensslCa, Path, FileKey]) -> None:
    other = [
        line
        if not line.startswith(f"{OID}.3=")
        else f"{OID}.3=DER:04:14:" + der_octets(dea_hash_hex("BS1234563"))
        for line in dea_extension_lines()
    ]
    binding, reasons, _ = _verify(pki, "other-dea", other)
    assert binding is DeaBinding.CERTIFICATE and reasons == (Reason.DEA_NUMBER_MISMATCH,)


def test_a_csp_certificate_without_dea_extensions_rests_on_access_control(
    pki: tuple[OpensslCa, Path, FileKey],
) -> None:
    binding, reasons, warnings = _verify(pki, "csp", [])
    assert binding is DeaBinding.ACCESS_CONTROL and reasons == ()
    assert any("access control (21 CFR 1311.125)" in w for w in warnings)
