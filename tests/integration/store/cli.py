"""`csos` in-process on a test home and token, for the store's CLI tests."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from csos_desktop.cli import main
from tests.conftest import TEST_PIN, Provisioned


def csos(home: Path, prov: Provisioned, *args: str, stdin: str = "") -> Result:
    """One command with CSOS_HOME=*home* and *prov*'s PKCS#11 module."""
    env = {"CSOS_HOME": str(home), "CSOS_PKCS11_MODULE": prov.hsm.module}
    return CliRunner().invoke(main, list(args), input=stdin, env=env, catch_exceptions=False)


def signing(home: Path, prov: Provisioned, chain: Path, *args: str) -> Result:
    """A signing command on *prov*'s token with *chain*, the test PIN on stdin."""
    return csos(
        home, prov, *args, "--token", prov.label, "--chain", str(chain), "--pin-stdin",
        stdin=TEST_PIN + "\n",
    )  # fmt: skip
