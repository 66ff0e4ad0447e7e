"""Enrolment fixtures: two fresh SoftHSM2 tokens, the sandbox CA served over real TLS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from csos_desktop.domain.schedule import Schedule, parse_schedule_list
from csos_desktop.enrol.est_client import EstClient, OneTimeCodes
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.ca_server import start_ca
from csos_desktop.sandbox.codes import CodeStore
from csos_desktop.sandbox.https import RunningServer
from csos_desktop.sandbox.softhsm import SoftHsmToken, create_token, token_by_label
from csos_desktop.token.keys import KeyAlgorithm
from csos_desktop.token.session import TokenSession
from tests.conftest import BACKENDS, TEST_PIN, Provisioned, Tpm2Tokens
from tests.token_backends import BackendToken

DEA = "AB1234563"
SCHEDULES = parse_schedule_list("2,2N,3,3N,4,5")


@dataclass(frozen=True)
class SandboxCa:
    ca: TestCa
    server: RunningServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def root_pem(self) -> Path:
        return self.ca.directory / "root.pem"

    def codes(
        self,
        *,
        dea: str = DEA,
        schedules: frozenset[Schedule] = SCHEDULES,
        name: str = "Main Street Pharmacy",
        **kw: int,
    ) -> OneTimeCodes:
        issued = CodeStore(self.ca.directory).issue(
            name=name, dea_number=dea, schedules=schedules, **kw
        )
        return OneTimeCodes(issued.reference_number, issued.authorization_code)

    def client(self) -> EstClient:
        return EstClient(self.url, ca_bundle=self.root_pem)


@pytest.fixture(scope="session")
def enrol_tokens(tokens: dict[KeyAlgorithm, Provisioned], hsm_dir: Path) -> dict[str, SoftHsmToken]:
    """Blank tokens for enrolment: one for library tests, one for the CLI walk-through.

    After `tokens` (module re-initialisation closes sessions), both at once.
    """
    return {label: create_token(hsm_dir, label, TEST_PIN) for label in ("csos-enrol", "csos-cli")}


@pytest.fixture(scope="session")
def enrol_hsm(enrol_tokens: dict[str, SoftHsmToken]) -> SoftHsmToken:
    return enrol_tokens["csos-enrol"]


@pytest.fixture(scope="session")
def cli_hsm(enrol_tokens: dict[str, SoftHsmToken]) -> SoftHsmToken:
    return enrol_tokens["csos-cli"]


@pytest.fixture(scope="session")
def sandbox_ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxCa]:
    ca = TestCa.init(tmp_path_factory.mktemp("enrol-ca") / "ca")
    server = start_ca(ca)
    yield SandboxCa(ca, server)
    server.stop()


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Enrolment saves a chain and the CA's address: keep them out of other tests' home."""
    home = tmp_path / "csos-home"
    monkeypatch.setenv("CSOS_HOME", str(home))
    return home


@pytest.fixture(params=BACKENDS)
def session(request: pytest.FixtureRequest) -> Iterator[TokenSession]:
    """A logged-in blank token, on SoftHSM2 and on tpm2-pkcs11 (tests/token_backends.py)."""
    if request.param == "softhsm2":
        hsm: SoftHsmToken | BackendToken = request.getfixturevalue("enrol_hsm")
    else:
        tpm2: Tpm2Tokens = request.getfixturevalue("tpm2_tokens")
        hsm = tpm2.blank["tpm-enrol"]
    ts = TokenSession(token_by_label(hsm.module, hsm.label), rw=True)
    ts.login(TEST_PIN)
    with ts:
        yield ts


def cli_env(hsm: SoftHsmToken, home: Path) -> dict[str, str]:
    return dict(
        os.environ, SOFTHSM2_CONF=str(hsm.conf), CSOS_PKCS11_MODULE=hsm.module, CSOS_HOME=str(home)
    )
