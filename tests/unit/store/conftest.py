"""Fixtures for store tests: a fresh database per test and a software signer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from csos_desktop.pki.cms import CmsSigner
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import Store, open_store
from csos_desktop.token.identity import SigningIdentity
from tests.unit.store.helpers import (
    Clock,
    SoftwareDocumentSigner,
    SoftwareOrderSigner,
    software_identity,
)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db", clock=clock) as s:
        yield s


@pytest.fixture(scope="session")
def software_signing(test_ca: TestCa) -> tuple[SigningIdentity, CmsSigner]:
    return software_identity(test_ca)


@pytest.fixture()
def signer(
    software_signing: tuple[SigningIdentity, CmsSigner], clock: Clock
) -> SoftwareOrderSigner:
    return SoftwareOrderSigner(*software_signing, clock)


@pytest.fixture()
def receipt_signer(
    software_signing: tuple[SigningIdentity, CmsSigner], clock: Clock
) -> SoftwareDocumentSigner:
    return SoftwareDocumentSigner(*software_signing, clock)
