"""The NewRx DigitalSignature is made on the token in the ceremony and checks with OpenSSL."""

from __future__ import annotations

import base64
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from csos_desktop.domain.script.newrx import DigitalSignature, read_newrx, signed_bytes
from csos_desktop.domain.script.safe_xml import parse_xml
from csos_desktop.pki.bare_signature import bare_signature_valid
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.rx.ceremony import SigningList, sign_ready
from csos_desktop.services.signing import SigningPurpose, SigningSession
from tests.conftest import Provisioned
from tests.integration.rx.conftest import Ceremony
from tests.integration.signing import chain_of
from tests.integration.store.tokens import open_identity
from tests.unit.script.samples import sample_pharmacy, sample_prescription


@pytest.fixture(params=["rsa", "ec"])
def signed(
    request: pytest.FixtureRequest, rsa_token: Provisioned, ec_token: Provisioned, test_ca: TestCa
) -> tuple[bytes, bytes]:
    """(message, certificate DER) of one NewRx signed in the ceremony."""
    prov = rsa_token if request.param == "rsa" else ec_token
    rx, pharmacy = sample_prescription(datetime.now(UTC)), sample_pharmacy()
    ts, identity = open_identity(prov)
    with ts:
        session = SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.PRESCRIPTION)
        signing_list = SigningList([rx])
        signing_list.mark_ready(rx.rx_id)
        ceremony = Ceremony()
        [done] = sign_ready(signing_list, session, ceremony, {rx.rx_id: pharmacy})
    assert ceremony.asked == 1  # one PIN for the CMS signature and the NewRx
    assert done.newrx is not None and done.newrx.pharmacy == pharmacy
    return done.newrx.message, identity.certificate_der


def _openssl(args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=False)


def test_openssl_checks_digest_and_signature_over_the_stated_bytes(
    signed: tuple[bytes, bytes], tmp_path: Path
) -> None:
    message, cert_der = signed
    root = parse_xml(message)
    sig = root.find("Header/DigitalSignature")
    assert sig is not None and sig.get("Version")
    # The stated bytes: the canonical message without its DigitalSignature.
    stated = tmp_path / "signed.xml"
    stated.write_bytes(signed_bytes(root))
    digest = _openssl(["dgst", "-sha256", "-binary", str(stated)]).stdout
    assert base64.b64encode(digest).decode() == sig.findtext("DigestValue")
    certificate = x509.load_der_x509_certificate(base64.b64decode(sig.findtext("X509Data") or ""))
    assert certificate.public_bytes(Encoding.DER) == cert_der
    pub = tmp_path / "pub.pem"
    pub.write_bytes(
        certificate.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    value = tmp_path / "sig.bin"
    value.write_bytes(base64.b64decode(sig.findtext("SignatureValue") or ""))
    ok = _openssl(["dgst", "-sha256", "-verify", str(pub), "-signature", str(value), str(stated)])
    assert ok.returncode == 0 and b"Verified OK" in ok.stdout, ok.stderr


def test_one_changed_character_fails_our_check(signed: tuple[bytes, bytes]) -> None:
    message, _ = signed
    read = read_newrx(message)
    assert isinstance(read.signature, DigitalSignature)
    assert bare_signature_valid(
        read.signature.certificate_der, read.signed_bytes, read.signature.signature_value
    )
    changed = read_newrx(message.replace(b"<Value>20</Value>", b"<Value>29</Value>"))
    assert changed.prescription.quantity == 29
    assert not bare_signature_valid(
        read.signature.certificate_der, changed.signed_bytes, read.signature.signature_value
    )


def test_the_message_is_kept_in_the_canonical_form_that_was_signed(
    signed: tuple[bytes, bytes],
) -> None:
    message, _ = signed
    assert ET.canonicalize(message.decode()).encode() == message
