"""Under CI=true a second PKCS#11 implementation that cannot start fails the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import token_backends


def test_a_missing_tpm2_backend_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(token_backends, "TPM2_MODULE_GLOB", str(tmp_path / "none-*.so"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and the tpm2-pkcs11 backend"):
        token_backends.Tpm2Simulator(tmp_path)
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        token_backends.Tpm2Simulator(tmp_path)
