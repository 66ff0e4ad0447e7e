"""`csos cert import-p12` with files made by `openssl pkcs12 -export`, on real tokens."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    pkcs12,
)

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.softhsm import SoftHsmToken, create_token
from csos_desktop.store import open_store
from csos_desktop.token.keys import GeneratedKey, KeyAlgorithm, normalised_spki
from tests.conftest import ALL_SCHEDULES, PURCHASER_DEA, TEST_PIN, Provisioned, Tpm2Tokens
from tests.integration.signing import chain_of, sign_order
from tests.integration.test_openssl_accepts import openssl_verify
from tests.launch import csos_command
from tests.token_backends import BackendToken

CSOS = csos_command()
P12_PASSWORD = "browser-export-1"
SPKI = PublicFormat.SubjectPublicKeyInfo
AnyToken = SoftHsmToken | BackendToken


@pytest.fixture(scope="session")
def import_tokens(
    tokens: dict[KeyAlgorithm, Provisioned], hsm_dir: Path
) -> dict[str, SoftHsmToken]:
    """After `tokens` (a new SoftHSM2 token re-initialises the module), both at once."""
    return {
        label: create_token(hsm_dir, label, TEST_PIN) for label in ("p12-import", "p12-readonly")
    }


def _key(algorithm: KeyAlgorithm) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if algorithm is KeyAlgorithm.RSA2048:
        return rsa.generate_private_key(65537, 2048)
    return ec.generate_private_key(ec.SECP256R1())


def _csos_cert(ca: TestCa, public: object) -> x509.Certificate:
    return ca.issue_for_public_key(
        public,  # type: ignore[arg-type]
        subject=x509.Name.from_rfc4514_string("CN=Main Street Pharmacy"),
        dea_number=PURCHASER_DEA,
        schedules=ALL_SCHEDULES,
        days=365,  # type: ignore[arg-type]
    )


def _pem(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def openssl_p12(tmp: Path, ca: TestCa, key: object, cert: x509.Certificate) -> Path:
    """The file a browser export gives: key, certificate and CA chain, made by OpenSSL."""
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    out = tmp / "export.p12"
    key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    chain = b"".join(
        c.public_bytes(Encoding.PEM) for c in (ca.issuing_certificate, ca.root_certificate)
    )
    subprocess.run(
        [
            "openssl", "pkcs12", "-export",
            "-inkey", _pem(tmp / "key.pem", key_pem),
            "-in", _pem(tmp / "cert.pem", cert.public_bytes(Encoding.PEM)),
            "-certfile", _pem(tmp / "chain.pem", chain),
            "-passout", "env:P12_PASSWORD", "-out", str(out),
        ],
        env=dict(os.environ, P12_PASSWORD=P12_PASSWORD), check=True, capture_output=True,
    )  # fmt: skip
    (tmp / "key.pem").unlink()
    return out


def import_p12(
    hsm: AnyToken, path: Path, *extra: str, password: str = P12_PASSWORD
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CSOS, "cert", "import-p12", str(path), "--token", hsm.label, "--module", hsm.module,
         "--pin-stdin", *extra],
        input=f"{TEST_PIN}\n{password}\n", capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def objects(hsm: AnyToken) -> str:
    """`pkcs11-tool -O` after login: every object on the token, as another tool sees it."""
    return subprocess.run(
        ["pkcs11-tool", "--module", hsm.module, "--token-label", hsm.label, "--login",
         "--pin", "env:CSOS_TEST_PIN", "-O"],
        env=dict(os.environ, CSOS_TEST_PIN=TEST_PIN), capture_output=True, text=True,
        check=True, timeout=60,
    ).stdout  # fmt: skip


def _imported_id(stdout: str) -> str:
    return stdout.split(" with id ")[1].split(",")[0]


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_a_browser_export_moves_onto_the_token_and_signs_what_openssl_verifies(
    import_tokens: dict[str, SoftHsmToken], test_ca: TestCa, tmp_path: Path, algorithm: KeyAlgorithm
) -> None:
    hsm = import_tokens["p12-import"]
    key = _key(algorithm)
    cert = _csos_cert(test_ca, key.public_key())
    p12 = openssl_p12(tmp_path, test_ca, key, cert)
    delete = algorithm is KeyAlgorithm.RSA2048  # the EC case keeps the file, and is told off
    done = import_p12(hsm, p12, *(["--delete-file"] if delete else []))
    assert done.returncode == 0, done.stderr
    assert "test signature by the token verified" in done.stdout
    assert TEST_PIN not in done.stdout + done.stderr and P12_PASSWORD not in done.stderr
    if delete:
        assert not p12.exists()
    else:
        assert p12.exists() and "1311.30(d)" in done.stderr
    key_id = _imported_id(done.stdout)
    listing = objects(hsm)
    private = _object_block(listing, "Private Key Object", key_id)
    access = private.split("Access:")[1].split("\n")[0]
    assert "sensitive" in access
    assert "extractable" not in access.replace("never extractable", "")
    assert listing.count(f"ID:         {key_id}") >= 4  # key, public key, certificate, CA certs
    # `cert show` tells the key's origin from CKA_LOCAL.
    shown = subprocess.run(
        [*CSOS, "cert", "show", "--module", hsm.module, "--token", hsm.label, "--offline"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "key imported from a file (not generated on the token)" in shown
    # An order signed with the moved key passes OpenSSL.
    der = cert.public_bytes(Encoding.DER)
    spki = normalised_spki(cert.public_key().public_bytes(Encoding.DER, SPKI))
    prov = Provisioned(hsm, GeneratedKey(bytes.fromhex(key_id), "p12", algorithm, spki), der)
    document, signature = sign_order(prov, certificate_der=der, chain=chain_of(test_ca))
    verified = openssl_verify(tmp_path, test_ca, document, signature)
    assert verified.returncode == 0, verified.stderr
    with open_store() as store:
        entries = [e for e in store.audit.entries() if e.event == "certificate.key-imported"]
    assert entries[-1].details["key_id"] == key_id
    assert entries[-1].details["file_deleted"] is delete


def _object_block(listing: str, kind: str, key_id: str) -> str:
    for block in re.split(r"(?m)^(?=\S.*Object;)", listing):
        if block.startswith(kind) and f"ID:         {key_id}" in block:
            return block
    raise AssertionError(f"no {kind} with id {key_id} in:\n{listing}")


def _mismatched_p12(tmp: Path, ca: TestCa) -> Path:
    # OpenSSL refuses to export a key with someone else's certificate; a file without
    # localKeyID (as some tools write) carries them side by side all the same.
    cert = _csos_cert(ca, rsa.generate_private_key(65537, 2048).public_key())
    data = pkcs12.serialize_key_and_certificates(
        b"x", rsa.generate_private_key(65537, 2048), None, [cert],
        BestAvailableEncryption(P12_PASSWORD.encode()),
    )  # fmt: skip
    (tmp / "mismatch.p12").write_bytes(data)
    return tmp / "mismatch.p12"


def _not_csos_p12(tmp: Path, ca: TestCa) -> Path:
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name.from_rfc4514_string("CN=Browser Client Certificate")
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return openssl_p12(tmp, ca, key, cert)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong-password", "could not be opened with this password"),
        ("key-mismatch", "does not belong to its certificate"),
        ("not-csos", "not a CSOS certificate"),
    ],
)
def test_refused_files_leave_the_token_unchanged(
    import_tokens: dict[str, SoftHsmToken], test_ca: TestCa, tmp_path: Path, case: str, message: str
) -> None:
    hsm = import_tokens["p12-import"]
    if case == "key-mismatch":
        p12 = _mismatched_p12(tmp_path, test_ca)
    elif case == "not-csos":
        p12 = _not_csos_p12(tmp_path, test_ca)
    else:
        key = _key(KeyAlgorithm.P256)
        p12 = openssl_p12(tmp_path, test_ca, key, _csos_cert(test_ca, key.public_key()))
    before = objects(hsm)
    done = import_p12(
        hsm, p12, "--delete-file", password="wrong" if case == "wrong-password" else P12_PASSWORD
    )
    assert done.returncode != 0
    assert message in done.stderr and "Nothing was written to the token" in done.stderr
    assert objects(hsm) == before
    assert p12.exists()  # a refused file is never deleted


@contextmanager
def _read_only(hsm: SoftHsmToken) -> Iterator[None]:
    """The SoftHSM2 token's directory made immutable: what a write-protected token does."""
    token_dir = next(
        d for d in (hsm.conf.parent / "tokens").iterdir()
        if hsm.label.encode() in (d / "token.object").read_bytes()
    )  # fmt: skip
    subprocess.run(["chattr", "+i", str(token_dir)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(token_dir)], check=True)


def test_a_read_only_token_refuses_and_keeps_nothing(
    import_tokens: dict[str, SoftHsmToken], test_ca: TestCa, tmp_path: Path
) -> None:
    hsm = import_tokens["p12-readonly"]
    key = _key(KeyAlgorithm.RSA2048)
    p12 = openssl_p12(tmp_path, test_ca, key, _csos_cert(test_ca, key.public_key()))
    before = objects(hsm)
    with _read_only(hsm):
        done = import_p12(hsm, p12, "--delete-file")
    assert done.returncode != 0, done.stdout
    assert "the token is as before" in done.stderr
    assert objects(hsm) == before
    assert p12.exists()


def test_a_token_that_only_uses_its_own_keys_refuses_the_import(
    tpm2_tokens: Tpm2Tokens, test_ca: TestCa, tmp_path: Path
) -> None:
    """tpm2-pkcs11 cannot C_CreateObject a private key: refused, token unchanged."""
    hsm = tpm2_tokens.blank["tpm-import"]
    key = _key(KeyAlgorithm.P256)
    p12 = openssl_p12(tmp_path, test_ca, key, _csos_cert(test_ca, key.public_key()))
    before = objects(hsm)
    done = import_p12(hsm, p12, "--delete-file")
    assert done.returncode != 0
    assert "does not accept private keys from a file" in done.stderr
    assert objects(hsm) == before
    assert p12.exists()
