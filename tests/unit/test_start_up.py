"""`csos` starts without the code its command does not use.

Each check runs in a fresh interpreter: what a process imports cannot be judged from
inside a test run that has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from csos_desktop.cli import COMMANDS, main
from csos_desktop.cli.lazy_group import EXIT_NOT_INSTALLED
from tests.fresh_process import run_python

#: Server-side and plotting packages: never needed to start `csos`.
HEAVY = ("fastapi", "uvicorn", "starlette", "sqlalchemy", "psycopg", "matplotlib", "httpx")
#: The token and certificate stack: `csos order list` reads the store only.
TOKEN_STACK = ("pkcs11", "pyhanko_certvalidator", "numpy")

#: Ours and the standard library's, which `csos order list` does not use: the order model,
#: the other repositories, the migration scripts' audit code, the log file's rotation code
#: and redaction (loaded on the first record logged).
NOT_FOR_ORDER_LIST = (
    "csos_desktop.domain.order",
    "csos_desktop.domain.order_csv",
    "csos_desktop.domain.receipt",
    "csos_desktop.store.audit",
    "csos_desktop.store.legal",
    "csos_desktop.store.prescriptions",
    "csos_desktop.store.catalogue",
    "csos_desktop.store.poa",
    "csos_desktop.known_secrets",
    "logging.handlers",
)

_REPORT = """
import atexit, json, sys
def _report():
    sys.__stderr__.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n")
atexit.register(_report)
"""


def _all_modules_after(
    code: str, tmp_path: Path
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    done = run_python(_REPORT + code, tmp_path)
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES "))), done


def _modules_after(code: str, tmp_path: Path) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The top-level packages *code* imported."""
    loaded, done = _all_modules_after(code, tmp_path)
    return {m.split(".")[0] for m in loaded}, done


def _run_csos(*args: str) -> str:
    return f"from csos_desktop.cli import main\nmain({list(args)!r}, prog_name='csos')\n"


def test_importing_the_cli_loads_no_command_module(tmp_path: Path) -> None:
    loaded, _ = _modules_after("import csos_desktop.cli", tmp_path)
    assert not loaded & set(HEAVY + TOKEN_STACK)


def test_csos_version_loads_neither_servers_nor_plots_nor_the_network(tmp_path: Path) -> None:
    loaded, done = _modules_after(_run_csos("--version"), tmp_path)
    assert done.returncode == 0 and "csos, version" in done.stdout
    assert not loaded & set(HEAVY + TOKEN_STACK)


def test_order_list_on_an_empty_store_reads_the_store_only(tmp_path: Path) -> None:
    loaded, done = _modules_after(_run_csos("order", "list"), tmp_path)
    assert done.returncode == 0 and "No orders." in done.stdout
    assert not loaded & set(HEAVY + TOKEN_STACK)


def test_order_list_loads_neither_the_order_model_nor_other_repositories(tmp_path: Path) -> None:
    _all_modules_after(_run_csos("order", "list"), tmp_path)  # the first run creates the store
    loaded, done = _all_modules_after(_run_csos("order", "list"), tmp_path)
    assert done.returncode == 0 and "No orders." in done.stdout
    assert not loaded & set(NOT_FOR_ORDER_LIST)
    assert "csos_desktop.store.orders" in loaded and "csos_desktop.logs" in loaded


def test_every_command_in_the_table_loads_under_its_name() -> None:
    ctx = click.Context(main)
    assert set(main.list_commands(ctx)) == set(COMMANDS)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert isinstance(command, click.Command), name
        # `receive` is `order receive` under a second name; every other one is its own.
        assert command.name == ("receive" if name == "receive" else name)
    order = main.get_command(ctx, "order")
    assert isinstance(order, click.Group)
    assert {"sign", "verify", "import", "list", "receive"} <= set(order.list_commands(ctx))


def test_help_lists_every_command_and_an_unknown_one_is_refused() -> None:
    listed = CliRunner().invoke(main, ["--help"])
    assert listed.exit_code == 0
    assert all(name in listed.output for name in COMMANDS)
    wrong = CliRunner().invoke(main, ["ordr", "list"])
    assert wrong.exit_code == 2 and "No such command 'ordr'" in wrong.output


def test_the_old_spelling_enroll_still_runs_enrol_but_is_not_listed() -> None:
    from csos_desktop.cli import ALIASES

    assert ALIASES == {"enroll": "enrol"}
    listed = CliRunner().invoke(main, ["--help"]).output
    assert "enrol " in listed and "enroll" not in listed
    old = CliRunner().invoke(main, ["enroll", "--help"])
    new = CliRunner().invoke(main, ["enrol", "--help"])
    assert old.exit_code == new.exit_code == 0
    assert (
        "one-time codes" in old.output and old.output.split("\n")[1:] == new.output.split("\n")[1:]
    )


# Stands in for an install without the `[sandbox]` extra (the packaged program): the
# server packages are not importable. Our own modules load for real.
_WITHOUT_SANDBOX_EXTRA = """
import importlib.abc, sys
class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("fastapi", "uvicorn", "starlette", "sqlalchemy", "yaml"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NotInstalled())
"""


@pytest.mark.parametrize("args", [("sandbox", "serve", "--port", "0"), ("demo", "--headless")])
def test_sandbox_commands_without_the_extra_say_what_to_install(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    _, done = _modules_after(_WITHOUT_SANDBOX_EXTRA + _run_csos(*args), tmp_path)
    assert done.returncode == EXIT_NOT_INSTALLED, done.stderr
    assert f"`csos {args[0]}` needs the sandbox extra" in done.stderr
    assert "pip install 'csos-desktop[sandbox]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_the_extra_help_still_lists_everything(tmp_path: Path) -> None:
    _, done = _modules_after(_WITHOUT_SANDBOX_EXTRA + _run_csos("--help"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "needs the sandbox extra" in done.stdout
    assert "order" in done.stdout and "token" in done.stdout
