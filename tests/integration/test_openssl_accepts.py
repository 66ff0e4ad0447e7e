"""Independent cross-check: OpenSSL verifies what we sign (RFC 5652 detached CMS)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.token.keys import KeyAlgorithm
from tests.conftest import Provisioned
from tests.integration.signing import chain_of, sign_order


def openssl_verify(
    tmp: Path, ca: TestCa, document: bytes, signature: bytes
) -> subprocess.CompletedProcess[str]:
    (tmp / "doc.json").write_bytes(document)
    (tmp / "sig.p7s").write_bytes(signature)
    (tmp / "root.pem").write_bytes(ca.root_certificate.public_bytes(Encoding.PEM))
    return subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp / "sig.p7s"),
            "-content",
            str(tmp / "doc.json"),
            "-CAfile",
            str(tmp / "root.pem"),
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_openssl_cms_verify_accepts_our_signature(
    any_tokens: dict[KeyAlgorithm, Provisioned],
    test_ca: TestCa,
    tmp_path: Path,
    algorithm: KeyAlgorithm,
) -> None:
    """On SoftHSM2 and on tpm2-pkcs11 alike (the `any_tokens` backends)."""
    document, signature = sign_order(any_tokens[algorithm], chain=chain_of(test_ca))
    done = openssl_verify(tmp_path, test_ca, document, signature)
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_openssl_rejects_after_one_byte_of_the_document_changes(
    tokens: dict[KeyAlgorithm, Provisioned],
    test_ca: TestCa,
    tmp_path: Path,
    algorithm: KeyAlgorithm,
) -> None:
    document, signature = sign_order(tokens[algorithm], chain=chain_of(test_ca))
    tampered = document.replace(b'"quantity":2', b'"quantity":3', 1)
    assert tampered != document
    done = openssl_verify(tmp_path, test_ca, tampered, signature)
    assert done.returncode != 0
    assert "digest failure" in done.stderr.lower() or "verification failure" in done.stderr.lower()


def test_openssl_sees_the_four_signed_attributes(
    rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    _, signature = sign_order(rsa_token, chain=chain_of(test_ca))
    (tmp_path / "sig.p7s").write_bytes(signature)
    out = subprocess.run(
        ["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(tmp_path / "sig.p7s")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("contentType", "messageDigest", "signingTime", "id-smime-aa-signingCertificateV2"):
        assert name in out
    assert "eContent: <ABSENT>" in out  # detached
