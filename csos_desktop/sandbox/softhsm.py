"""Creating SoftHSM2 tokens for the demo, the tests and the benchmarks.

SoftHSM2 is a real PKCS#11 module: what works on it works on a vendor token
through the same code. ``softhsm2-util`` only takes PINs as arguments, so the
token is initialised with random throw-away PINs and the chosen user PIN is
then set through PKCS#11 (C_InitPIN): it never appears on a command line.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pkcs11

from csos_desktop.domain.errors import CsosError
from csos_desktop.token.library import refresh_library

SOFTHSM_MODULE_PATHS = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)


class SoftHsmUnavailable(CsosError):
    """SoftHSM2 is not installed."""


@dataclass(frozen=True)
class SoftHsmToken:
    """A SoftHSM2 token made for a demo or test run."""

    module: str
    conf: Path
    label: str
    so_pin: str


def softhsm_module() -> str:
    """Path of libsofthsm2.so, or SoftHsmUnavailable."""
    for path in SOFTHSM_MODULE_PATHS:
        if os.path.exists(path):
            return path
    raise SoftHsmUnavailable(
        "SoftHSM2 is not installed (needed for the demo and tests): "
        "run 'make install' or 'apt-get install softhsm2'."
    )


def write_conf(directory: Path) -> Path:
    """A softhsm2.conf keeping tokens under *directory*; sets SOFTHSM2_CONF."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    # The module reads this at C_Initialize: set it before the first load.
    os.environ["SOFTHSM2_CONF"] = str(conf)
    return conf


def create_token(directory: Path, label: str, user_pin: str) -> SoftHsmToken:
    """Initialise a new SoftHSM2 token labelled *label* whose user PIN is *user_pin*."""
    module = softhsm_module()
    util = shutil.which("softhsm2-util")
    if util is None:
        raise SoftHsmUnavailable("softhsm2-util is missing: run 'make install'.")
    conf = write_conf(directory)
    so_pin = secrets.token_hex(8)
    temp_pin = secrets.token_hex(8)
    env = dict(os.environ, SOFTHSM2_CONF=str(conf))
    done = subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", temp_pin],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise CsosError(f"softhsm2-util could not create the token: {done.stderr.strip()}")
    token = token_by_label(module, label)
    with token.open(rw=True, so_pin=so_pin) as so_session:
        so_session.init_pin(user_pin)
    return SoftHsmToken(module=module, conf=conf, label=label, so_pin=so_pin)


def token_by_label(module: str, label: str) -> pkcs11.Token:
    """Look a SoftHSM2 token up again (after reinitialising the module)."""
    token: pkcs11.Token = refresh_library(module).get_token(token_label=label)
    return token
