"""Store integration fixtures: a real archive bundle exported from orders signed on the token."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import open_store
from tests.conftest import Provisioned
from tests.integration.store.bundles import export_sample_bundle


@pytest.fixture()
def bundle(ec_token: Provisioned, test_ca: TestCa, tmp_path: Path) -> Path:
    """Three signed orders, one delivered with a signed receipt, exported to a bundle."""
    summary = export_sample_bundle(ec_token, test_ca, tmp_path)
    assert summary.orders == 3
    with open_store(tmp_path / "csos.db") as store:
        assert any(e.details.get("archive") for e in store.audit.entries())
    return summary.path


@pytest.fixture()
def chain(tmp_path: Path, test_ca: TestCa) -> Path:
    """The sandbox CA's issuing certificate as a PEM chain file."""
    path = tmp_path / "chain.pem"
    path.write_bytes(test_ca.issuing_certificate.public_bytes(Encoding.PEM))
    return path
