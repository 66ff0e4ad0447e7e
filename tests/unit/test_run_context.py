"""No rule below services is decided by the environment or by which home is in use.

Read from the source with ``ast``, like the layer test: a module below ``services``
(domain, pure logic, I/O adapters) reads no environment variable and never asks
``paths.home()`` whether a ``CSOS_HOME`` is set. What a run may do (software tokens for
EPCS, the demo's credential file, the catalogue in force) comes from the run-time
context the front ends build (``services.context``) or from the caller's parameters.
The few environment reads left are listed with why each cannot weaken a rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tests.unit.test_layers import LAYERS, PACKAGE_DIR, Layer

#: (module, what it reads) → why a user setting it changes no rule.
ALLOWED_ENV_READS: dict[str, str] = {
    "csos_desktop.paths": "CSOS_HOME: where this user's own files live; it grants nothing",
}
BELOW = (Layer.DOMAIN, Layer.BELOW)


def _modules_below_services() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
        top = parts[0]
        if LAYERS.get(top) not in BELOW:
            continue
        name = ".".join(("csos_desktop", *(p for p in parts if p != "__init__")))
        yield name, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _reads_environment(tree: ast.Module) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb")) or (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in ("environ", "getenv") for a in node.names)
        ):
            lines.append(node.lineno)
    return lines


def _asks_for_the_home(tree: ast.Module) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "home"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "paths"
    ]


def test_no_module_below_services_reads_the_environment() -> None:
    found = {
        f"{name}:{line}"
        for name, tree in _modules_below_services()
        if name not in ALLOWED_ENV_READS
        for line in _reads_environment(tree)
    }
    assert found == set(), (
        "decide it in services.context (built at start-up) or take it as a parameter"
    )


def test_no_module_below_services_asks_whether_a_home_is_set() -> None:
    found = {
        f"{name}:{line}"
        for name, tree in _modules_below_services()
        if name != "csos_desktop.paths"
        for line in _asks_for_the_home(tree)
    }
    assert found == set(), "a CSOS_HOME grants nothing: ask services.context"


def test_the_rules_the_issue_named_read_the_context_not_the_home() -> None:
    for module in ("services/tokens/assurance.py", "sync/credentials.py", "enrol/status.py"):
        tree = ast.parse((PACKAGE_DIR / module).read_text(encoding="utf-8"))
        assert _asks_for_the_home(tree) == [] and _reads_environment(tree) == [], module


def test_the_allowed_reads_are_still_there() -> None:
    # An entry that no longer reads anything should go from the list.
    reading = {name for name, tree in _modules_below_services() if _reads_environment(tree)}
    assert set(ALLOWED_ENV_READS) <= reading
