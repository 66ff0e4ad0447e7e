"""The README's commands, run as written by a newcomer in a copy of the checkout.

`make demo` twice in a row, then the CLI sections that use the demo's token, CA and
store, each command in a terminal (pty) where the PIN and codes are typed at the prompts.
When the README changes, this test follows it: it reads the blocks, not a copy of them.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.launch
from tests.integration.readme.readme import (
    Terminal,
    commands,
    copy_checkout,
    last_value,
    section,
    shell_blocks,
)

DEMO_PIN = "123456"
#: Placeholders the README uses for values only known when it runs.
PLACEHOLDERS = {"<id>": "*", "<rx_id>": "*"}
#: Sections run after `make demo`, in the order a newcomer reads them.
DEMO_SECTIONS = (
    "Signing and verifying an order with the CLI",
    "Orders, receiving and the archive",
    "Suspicious Order Monitoring",
    "Real product data and distributor scale",
    "Prescribing (EPCS)",
)


def _env(home: Path) -> dict[str, str]:
    drop = {"DISPLAY", "WAYLAND_DISPLAY", "CSOS_HOME", "SOFTHSM2_CONF", "CSOS_PKCS11_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    env.update(HOME=str(home), CI="true", TERM="dumb", PYTHONDONTWRITEBYTECODE="1")
    return env


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of this checkout whose .venv is the one running the tests (no reinstall)."""
    dest = copy_checkout(tmp_path_factory.mktemp("checkout"))
    venv = Path(sys.prefix)
    (dest / ".venv").symlink_to(venv)
    stamp = venv / ".installed"
    if not stamp.exists():
        pytest.fail("run the tests from the Makefile's virtualenv (`make test`)")
    # Make sees the venv as up to date for this copy, as it is for the checkout it came from.
    older = stamp.stat().st_mtime - 1
    os.utime(dest / "pyproject.toml", (older, older))
    yield dest
    shutil.rmtree(dest / "demo-home", ignore_errors=True)


def _terminal(checkout: Path, home: Path) -> Terminal:
    term = Terminal(
        cwd=checkout,
        env=_env(home),
        answers={
            r"PIN for token[^:]*: ": lambda _: DEMO_PIN,
            r"(?:New PIN|Repeat for confirmation)[^:]*: ": lambda _: DEMO_PIN,
            r"Authori[sz]ation code[^:\n]*: ": last_value("authorisation code"),
        },
    )
    # A test machine: IT's policy allows software tokens for EPCS, as the README's prose
    # says. The policy reaches `csos` through the test launcher, not the environment.
    launch = Path(tests.launch.__file__).resolve()
    term.prelude.append(f'csos() {{ "{sys.executable}" "{launch}" - cli "$@"; }}')
    return term


def _run_section(term: Terminal, title: str) -> None:
    for block in shell_blocks(section(title)):
        for command in commands(block):
            for placeholder, value in PLACEHOLDERS.items():
                command = command.replace(placeholder, value)
            status, output = term.run(command)
            assert status == 0, f"README '{title}': `{command}` exited {status}:\n{output}"


def test_make_demo_twice_then_the_cli_walk_through(checkout: Path, tmp_path: Path) -> None:
    term = _terminal(checkout, tmp_path)
    for attempt in (1, 2):
        status, output = term.run("make demo", timeout=900)
        assert status == 0, f"`make demo` (run {attempt}) exited {status}:\n{output}"
        assert "[9/9]" in output and "REJECTED: digest-mismatch" in output
        # The untouched order passes the supplier's check, with the CRLs it fetched.
        assert "CRLs fetched from the certificates' distribution points" in output
        assert "): ACCEPTED." in output
    for title in DEMO_SECTIONS:
        _run_section(term, title)
    signed = list((checkout / "signed").glob("*.json"))
    assert len(signed) == 1, "`csos order sign` wrote one signed order"
    assert any("ACCEPTED: order" in out for out in term.transcript)


def test_getting_a_certificate_from_the_sandbox_ca(checkout: Path, tmp_path: Path) -> None:
    term = _terminal(checkout, tmp_path)
    codes = tmp_path / "codes.txt"
    # `<reference number>` is what `issue-codes` printed, as the applicant copies it.
    term.prelude.append(f"_ref() {{ sed -n 's/^reference number: *//p' {codes} | tail -1; }}")
    port = free_port()
    try:
        for block in shell_blocks(section("Getting a certificate")):
            for command in commands(block):
                command = command.replace("8443", str(port))
                command = command.replace("<reference number>", "$(_ref)")
                if "# leave running" in command:
                    term.start(command.split("#", 1)[0], ready=r"https://127\.0\.0\.1:\d+")
                    continue
                if "issue-codes" in command:
                    command += f" | tee -a {codes}"
                status, output = term.run(command)
                assert status == 0, f"`{command}` exited {status}:\n{output}"
    finally:
        term.close()
    assert "DEA number: AB1234563" in term.transcript[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
