"""Shared fixtures: a real SoftHSM2 token per test session, a test CA, CSOS_HOME in a temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from keyring.backend import KeyringBackend

from csos_desktop.config import policy as config_policy
from csos_desktop.config.policy import use_policy_file
from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.enrol.flow import new_key_and_csr
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.softhsm import SoftHsmToken, create_token, token_by_label
from csos_desktop.services.orders import catalogue as catalogue_service
from csos_desktop.token.keys import GeneratedKey, KeyAlgorithm
from csos_desktop.token.provisioning import install_certificate
from csos_desktop.token.session import TokenSession
from csos_desktop.trust.anchors import add_anchor
from tests.launch import SESSION_POLICY_VAR
from tests.ntp import ntp_policy_line
from tests.token_backends import BackendToken, tpm2_simulator

if TYPE_CHECKING:  # it imports this module
    from tests.integration.locations import LocationsToken

TEST_PIN = "314159"
PURCHASER_DEA = "AB1234563"
ALL_SCHEDULES = parse_schedule_list("1,2,2N,3,3N,4,5")


@dataclass(frozen=True)
class Provisioned:
    """A token holding one key pair and its CSOS certificate."""

    hsm: SoftHsmToken | BackendToken
    key: GeneratedKey
    certificate_der: bytes

    @property
    def label(self) -> str:
        return self.hsm.label

    def session(self) -> TokenSession:
        ts = TokenSession(token_by_label(self.hsm.module, self.hsm.label), rw=True)
        ts.login(TEST_PIN)
        return ts


@pytest.fixture(scope="session", autouse=True)
def csos_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("csos-home")
    # The test tokens are SoftHSM2 and a simulated TPM: a test machine's policy allows
    # them for EPCS, as IT's would on a test workstation (tests of the refusal set their own).
    # The test CAs publish CRLs and OCSP on 127.0.0.1: the policy lets the fetcher ask there.
    policy = home / "machine-policy.toml"
    # The clock is measured against an SNTP responder on 127.0.0.1, never NIST's server.
    policy.write_text(
        "[settings]\nallow_software_tokens = true\nallow_private_revocation_urls = true\n"
        + ntp_policy_line(),
        encoding="utf-8",
    )
    saved = {k: os.environ.get(k) for k in ("CSOS_HOME", SESSION_POLICY_VAR)}
    os.environ["CSOS_HOME"] = str(home)
    use_policy_file(policy)  # a seam no user can reach: no environment variable names it
    os.environ[SESSION_POLICY_VAR] = str(policy)  # for tests.launch in child processes only
    # The tests' orders name the synthetic products: their stores use that catalogue
    # until one is imported (a real install has none; tests of that reset the seam).
    catalogue_service._before_import = bundled_catalogue
    yield home
    use_policy_file(None)
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


def machine_policy_at(monkeypatch: pytest.MonkeyPatch, path: Path) -> Path:
    """Read the machine policy from *path* for one test (the fixtures' seam, as above)."""
    location = config_policy.PolicyLocation(path, registry=False, admin_only=False)
    monkeypatch.setattr(config_policy, "_test_location", location)
    return path


@pytest.fixture(scope="session")
def hsm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("softhsm")


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory, csos_home: Path) -> TestCa:
    ca = TestCa.init(tmp_path_factory.mktemp("ca") / "ca")
    # Signing refuses a certificate that does not chain to a configured anchor.
    trust_sandbox_root(ca)
    return ca


def trust_sandbox_root(ca: TestCa, home: Path | None = None) -> Path | None:
    """Put *ca*'s root in the trust store of *home* (default: the CSOS_HOME in force)."""
    root = ca.root_certificate.public_bytes(Encoding.PEM)
    old = os.environ.get("CSOS_HOME")
    if home is not None:
        os.environ["CSOS_HOME"] = str(home)
    try:
        add_anchor(root, "sandbox root", now=datetime.now(UTC))
    finally:
        if old is None:
            os.environ.pop("CSOS_HOME", None)
        else:
            os.environ["CSOS_HOME"] = old
    return home


def _provision(hsm_dir: Path, ca: TestCa, label: str, algorithm: KeyAlgorithm) -> Provisioned:
    return _provision_token(create_token(hsm_dir, label, TEST_PIN), ca, algorithm)


def _provision_token(
    hsm: SoftHsmToken | BackendToken, ca: TestCa, algorithm: KeyAlgorithm
) -> Provisioned:
    ts = TokenSession(token_by_label(hsm.module, hsm.label), rw=True)
    ts.login(TEST_PIN)
    with ts:
        pending = new_key_and_csr(ts, algorithm, {"common_name": "Main Street Pharmacy"}, "csos")
        cert = ca.issue(pending.csr_der, dea_number=PURCHASER_DEA, schedules=ALL_SCHEDULES)
        der = cert.public_bytes(Encoding.DER)
        chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
        install_certificate(ts, pending.key, der, chain)
    return Provisioned(hsm, pending.key, der)


@pytest.fixture(scope="session")
def tokens(hsm_dir: Path, test_ca: TestCa) -> dict[KeyAlgorithm, Provisioned]:
    """One RSA-2048 and one P-256 token, each with a CSOS certificate and the CA chain.

    Created together: SoftHSM2 sees new tokens only after re-initialising the
    module, which would close sessions opened by earlier tests.
    """
    return {
        KeyAlgorithm.RSA2048: _provision(hsm_dir, test_ca, "csos-rsa", KeyAlgorithm.RSA2048),
        KeyAlgorithm.P256: _provision(hsm_dir, test_ca, "csos-ec", KeyAlgorithm.P256),
    }


@pytest.fixture(scope="session")
def rsa_token(tokens: dict[KeyAlgorithm, Provisioned]) -> Provisioned:
    return tokens[KeyAlgorithm.RSA2048]


@pytest.fixture(scope="session")
def ec_token(tokens: dict[KeyAlgorithm, Provisioned]) -> Provisioned:
    return tokens[KeyAlgorithm.P256]


#: Tokens on the second PKCS#11 implementation (tests/token_backends.py), made together.
TPM2_LABELS = ("tpm-rsa", "tpm-ec", "tpm-enrol", "tpm-pin", "tpm-import")


@dataclass(frozen=True)
class Tpm2Tokens:
    provisioned: dict[KeyAlgorithm, Provisioned]
    blank: dict[str, BackendToken]


@pytest.fixture(scope="session")
def tpm2_tokens(tmp_path_factory: pytest.TempPathFactory, test_ca: TestCa) -> Iterator[Tpm2Tokens]:
    """tpm2-pkcs11 on a software TPM: an RSA and a P-256 token like `tokens`, and blank ones."""
    with tpm2_simulator(tmp_path_factory.mktemp("tpm2")) as sim:
        made = {label: sim.create_token(label, TEST_PIN) for label in TPM2_LABELS}
        provisioned = {
            KeyAlgorithm.RSA2048: _provision_token(made["tpm-rsa"], test_ca, KeyAlgorithm.RSA2048),
            KeyAlgorithm.P256: _provision_token(made["tpm-ec"], test_ca, KeyAlgorithm.P256),
        }
        yield Tpm2Tokens(provisioned, made)


BACKENDS = ("softhsm2", "tpm2")


@pytest.fixture(scope="session", params=BACKENDS)
def any_tokens(request: pytest.FixtureRequest) -> dict[KeyAlgorithm, Provisioned]:
    """`tokens`, once on SoftHSM2 and once on tpm2-pkcs11."""
    if request.param == "softhsm2":
        found: dict[KeyAlgorithm, Provisioned] = request.getfixturevalue("tokens")
        return found
    tpm2: Tpm2Tokens = request.getfixturevalue("tpm2_tokens")
    return tpm2.provisioned


@pytest.fixture(scope="session")
def two_locations(
    tokens: dict[KeyAlgorithm, Provisioned], hsm_dir: Path, test_ca: TestCa
) -> LocationsToken:
    """One token with two locations' certificates (tests/integration/locations.py); made
    after ``tokens``, as a new SoftHSM2 token re-initialises the module."""
    from tests.integration.locations import locations_token

    return locations_token(hsm_dir, test_ca)


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps passwords in this process: a system keyring stand-in
    (the test machine has none), behind keyring's own backend interface."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


# keyring offers every subclass it has seen as a backend: this one is set by the fixture
# only, never chosen for the whole session.
KeyringBackend._classes.discard(MemoryKeyring)


@pytest.fixture()
def memory_keyring() -> Iterator[MemoryKeyring]:
    """A keyring backend for one test; the machine's (none, on a test machine) after."""
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(before)
