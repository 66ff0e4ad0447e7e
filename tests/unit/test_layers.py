"""The layers in the README's "Layout" hold: read from the import graph, not hoped for.

Every ``import`` statement of every module under ``csos_desktop/`` is read with ``ast`` —
module level, inside functions (the lazy imports that keep start-up fast) and under
``if TYPE_CHECKING:``. Type-only imports count like any other: they are not a runtime
dependency, but a signature that names an upper layer's type ties the lower layer's API to
it, and a front end that annotates with ``store.Store`` is still reaching around
``services``. A crossing fails the test with the module, the line and where to route it.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import csos_desktop

PACKAGE = "csos_desktop"
PACKAGE_DIR = Path(csos_desktop.__file__).parent

#: Fewer modules than this means the walk read the wrong folder, not that all is well.
MIN_MODULES = 250


class Layer(enum.Enum):
    DOMAIN = "domain"  # pure values and rules; imports nothing else from the project
    BELOW = "below services"  # pure logic and I/O adapters: no Qt, no use cases, no front end
    SERVICES = "services"  # use cases shared by the GUI and the CLI; no Qt
    DRAWING = "drawing"  # Qt drawing both front ends use (charts): Qt and pure logic only
    FRONT = "front end"  # thin callers: only services, domain values and shared utilities
    TOOLS = "tools"  # the sandbox CA and servers: above services, beside the front ends


#: Top-level module or package of csos_desktop → its layer (the README's "Layout" table).
LAYERS: dict[str, Layer] = {
    "domain": Layer.DOMAIN,
    # Pure logic.
    "pki": Layer.BELOW,
    "som": Layer.BELOW,
    # I/O adapters.
    "token": Layer.BELOW,
    "store": Layer.BELOW,
    "sync": Layer.BELOW,
    "enrol": Layer.BELOW,
    "trust": Layer.BELOW,
    "som_batch": Layer.BELOW,
    "config": Layer.BELOW,
    # Shared utilities.
    "fileio": Layer.BELOW,
    "paths": Layer.BELOW,
    "logs": Layer.BELOW,
    "known_secrets": Layer.BELOW,
    "startup": Layer.BELOW,
    "resources": Layer.BELOW,
    "__init__": Layer.BELOW,
    "services": Layer.SERVICES,
    # Diagnostics are a use case: they read every adapter (and the token status service)
    # and report to both front ends.
    "doctor": Layer.SERVICES,
    "support_bundle": Layer.SERVICES,
    "charts": Layer.DRAWING,
    "gui": Layer.FRONT,
    "cli": Layer.FRONT,
    "__main__": Layer.FRONT,
    "sandbox": Layer.TOOLS,
}

QT = ("PySide6", "shiboken6")
#: Third-party token libraries: only token/ (and the adapters beside it) talk to them; the
#: layers above name the types token/ exports (token.library.Pkcs11Token, ...).
TOKEN_LIBRARIES = ("pkcs11", "PyKCS11")
ABOVE_TOKEN = (Layer.SERVICES, Layer.DRAWING, Layer.FRONT, Layer.TOOLS)
#: Packages the front ends reach only through services (value types live in domain).
ADAPTERS = ("store", "token", "enrol", "sync")

#: Crossings kept on purpose, each with its reason: (importing module, imported name).
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("csos_desktop.cli.demo", "csos_desktop.gui.app.main"): (
        "`csos demo` opens the desktop app on the sandbox it has just started, in the same "
        "process (a frozen bundle has no Python to start a second one)"
    ),
    ("csos_desktop.sandbox.softhsm", "pkcs11"): (
        "the sandbox makes SoftHSM2 tokens for the demo and the tests and looks them up by "
        "label on a module it has just initialised"
    ),
}

#: Where a front end finds what it used to take from an adapter.
ROUTE = {
    "store": "csos_desktop.services.pharmacy_store (open_store, OpenStore, StoreError, the "
    "record types), the query functions (services.orders.queries, services.receiving.queries, "
    "services.audit.queries, services.rx.queries ...) and the use cases in services",
    "token": "csos_desktop.services.tokens (status, listing, drivers, PINs, token_to_manage) or "
    "services.signing (sessions, TokenTarget, SigningIdentity); values and errors are in "
    "domain.token_state / domain.token_errors",
    "enrol": "csos_desktop.services.enrol.enrolment (enrol, offline request/import, clean-up) or "
    "services.enrol.certificates (renewal, revocation, what the token holds); values are in "
    "domain.enrolment / domain.revocation",
    "sync": "csos_desktop.services.sync.service (settings, worker, sync pass, credential)",
}


@dataclass(frozen=True)
class ImportSite:
    module: str  # importing module, dotted
    target: str  # imported module (or module.name for `from pkg import name`), dotted
    line: int
    type_only: bool

    def __str__(self) -> str:
        kind = " (under TYPE_CHECKING)" if self.type_only else ""
        return f"{self.module}:{self.line} imports {self.target}{kind}"


@dataclass(frozen=True)
class Violation:
    site: ImportSite
    rule: str

    def __str__(self) -> str:
        return f"{self.site}: {self.rule}"


def _module_name(path: Path, root: Path, package: str) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((package, *parts))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, type_only: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement under *node*, and whether only the type checker runs it."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, type_only
        return
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        for child in node.body:
            yield from _walk(child, True)
        for child in node.orelse:
            yield from _walk(child, type_only)
        return
    for child in ast.iter_child_nodes(node):
        yield from _walk(child, type_only)


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        if not is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, base] if base else parts)
    for alias in node.names:
        # `from csos_desktop import store` names a package: keep the name to tell which.
        yield f"{base}.{alias.name}"


def read_imports(root: Path, package: str) -> tuple[int, list[ImportSite]]:
    """(number of modules read, every import site) of the package whose folder is *root*."""
    sites: list[ImportSite] = []
    paths = sorted(root.rglob("*.py"))
    for path in paths:
        module = _module_name(path, root, package)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, type_only in _walk(tree, False):
            for target in _targets(node, module, path.name == "__init__.py"):
                sites.append(ImportSite(module, target, node.lineno, type_only))
    return len(paths), sites


def _top(dotted: str, package: str) -> str | None:
    """The top-level part of *package* that *dotted* names, or None if outside it."""
    parts = dotted.split(".")
    if parts[0] != package:
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _rule(source: str, layer: Layer, target: str, target_layer: Layer | None) -> str | None:
    """Why *source* (in *layer*) may not import the project's *target*, or None if it may."""
    upper = {
        Layer.DOMAIN: set(Layer) - {Layer.DOMAIN},
        Layer.BELOW: {Layer.SERVICES, Layer.DRAWING, Layer.FRONT, Layer.TOOLS},
        Layer.SERVICES: {Layer.DRAWING, Layer.FRONT, Layer.TOOLS},
        Layer.DRAWING: {Layer.SERVICES, Layer.FRONT, Layer.TOOLS},
        Layer.FRONT: {Layer.TOOLS} if source == "gui" else set(),
        Layer.TOOLS: {Layer.FRONT},
    }[layer]
    if layer is Layer.DOMAIN:
        return "domain imports nothing else from the project: move what it needs into domain"
    if target_layer in upper:
        return f"{layer.value} must not import {target} ({target_layer.value}, a layer above)"
    if layer is Layer.FRONT and target in ADAPTERS:
        return f"{source} goes around services: route it through {ROUTE[target]}"
    if layer is Layer.DRAWING and target in ADAPTERS:
        return f"drawing must not import {target}: it draws values it is given"
    if layer is Layer.FRONT and target_layer is Layer.FRONT and "__main__" not in (source, target):
        return f"{source} must not import {target}: move what both use below them (e.g. charts/)"
    return None


def check(sites: list[ImportSite], package: str, layers: dict[str, Layer]) -> list[Violation]:
    found: list[Violation] = []
    for site in sites:
        source = _top(site.module, package)
        target = _top(site.target, package)
        if source is None or (site.module, site.target) in EXCEPTIONS:
            continue
        layer = layers.get(source)
        if layer is None:
            found.append(Violation(site, f"'{source}' has no layer: add it to LAYERS"))
        elif target is None:
            qt_free = (Layer.DOMAIN, Layer.BELOW, Layer.SERVICES)
            root = site.target.split(".")[0]
            if layer in qt_free and root in QT:
                found.append(Violation(site, f"{layer.value} must not import Qt: Qt is for gui"))
            elif (
                layer in ABOVE_TOKEN
                and root in TOKEN_LIBRARIES
                and (site.module, root) not in EXCEPTIONS
            ):
                found.append(
                    Violation(
                        site,
                        f"{layer.value} must not import {root}: token/ talks to the token "
                        "library; name its types from csos_desktop.token.library",
                    )
                )
        elif target != source:
            why = _rule(source, layer, target, layers.get(target))
            if why is not None:
                found.append(Violation(site, why))
    return found


def test_the_project_imports_follow_the_layers() -> None:
    count, sites = read_imports(PACKAGE_DIR, PACKAGE)
    assert count >= MIN_MODULES, f"read only {count} modules from {PACKAGE_DIR}"
    violations = check(sites, PACKAGE, LAYERS)
    assert not violations, "imports that cross the layers:\n" + "\n".join(map(str, violations))


#: What a front end may do with the open store it holds: close it, or say where it is (to
#: open its own connection on a worker thread). Everything else is a read or a write that
#: belongs behind a service.
STORE_HANDLE = frozenset({"close", "path"})
FRONT_ENDS = ("gui", "cli")


def store_members() -> frozenset[str]:
    """The public repositories, methods and attributes of the open store."""
    from csos_desktop.store.local_store import Store

    members = {name for name in dir(Store) if not name.startswith("_")}
    members |= {"conn", "migration"}  # set in __init__, not on the class
    return frozenset(members - STORE_HANDLE)


def _receiver(node: ast.expr) -> str | None:
    """The name an attribute is read from (`store`, `self._store`): its last part."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


@dataclass(frozen=True)
class StoreRead:
    module: str
    line: int
    text: str

    def __str__(self) -> str:
        return (
            f"{self.module}:{self.line} reads {self.text}: a front end holds the open store only "
            f"to pass it on; ask a service query ({ROUTE['store']})"
        )


def store_reads(root: Path, package: str, members: frozenset[str]) -> list[StoreRead]:
    """Every `<something named store>.<repository or method>` in the front ends' modules.

    A receiver is recognised by its name (``store``, ``_store``, ``pharmacy_store`` ...), which
    is how every front-end module names the store it holds.
    """
    found = []
    for front in FRONT_ENDS:
        for path in sorted((root / front).rglob("*.py")):
            module = _module_name(path, root, package)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Attribute) or node.attr not in members:
                    continue
                receiver = _receiver(node.value)
                if receiver is not None and receiver.lower().endswith("store"):
                    found.append(StoreRead(module, node.lineno, ast.unparse(node)))
    return found


def test_the_front_ends_read_the_store_only_through_services() -> None:
    reads = store_reads(PACKAGE_DIR, PACKAGE, store_members())
    assert not reads, "front ends that read the store:\n" + "\n".join(map(str, reads))


def test_the_front_ends_name_the_store_they_hold_store() -> None:
    """The read check goes by name: a parameter that takes the open store ends in `store`."""
    misnamed = []
    for front in FRONT_ENDS:
        for path in sorted((PACKAGE_DIR / front).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.arg)
                    and node.annotation is not None
                    and "OpenStore" in ast.unparse(node.annotation)
                    and not node.arg.lower().endswith("store")
                ):
                    misnamed.append(f"{path.relative_to(PACKAGE_DIR)}:{node.lineno} {node.arg}")
    assert not misnamed, "name the open store `store`:\n" + "\n".join(misnamed)


def test_the_front_ends_are_not_handed_the_store_class() -> None:
    """pharmacy_store names the open store for the type checker only (OpenStore)."""
    import csos_desktop.services.pharmacy_store as pharmacy_store

    assert not hasattr(pharmacy_store, "Store")
    assert not hasattr(pharmacy_store, "OpenStore")


def test_every_top_level_module_has_a_layer() -> None:
    tops = {
        path.stem if path.is_file() else path.name
        for path in PACKAGE_DIR.iterdir()
        if (path.suffix == ".py") or (path / "__init__.py").exists()
    }
    assert tops - set(LAYERS) == set()


# The checker checks itself: a package it builds with known crossings must fail on each.


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    _write(
        root,
        {
            "__init__.py": "",
            "domain/__init__.py": "",
            "domain/order.py": "from pkg.errors import CsosError\n",
            "errors.py": "",
            "store/__init__.py": "from ..services import tokens\n",
            "token/__init__.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from PySide6.QtCore import QObject\n"
            ),
            "services/__init__.py": "import pkg.store\n",
            "services/tokens.py": "",
            "gui/__init__.py": "def later():\n    from pkg.store import open_store\n",
            "gui/token.py": "import pkcs11\n",
            "gui/screen.py": (
                "def reload(self, store):\n"
                "    self._store.orders.page(0, 5)\n"
                "    store.close()\n"
                "    self.orders.clear()\n"
                "    return store.path\n"
            ),
            "services/drivers.py": "from pkcs11 import lib\n",
            "cli/__init__.py": "from pkg import services, domain\nfrom .. import gui\n",
        },
    )
    return root


def test_the_checker_reports_each_crossing_in_a_synthetic_package(synthetic: Path) -> None:
    layers = {
        "domain": Layer.DOMAIN,
        "errors": Layer.BELOW,
        "store": Layer.BELOW,
        "token": Layer.BELOW,
        "services": Layer.SERVICES,
        "gui": Layer.FRONT,
        "cli": Layer.FRONT,
        "__init__": Layer.BELOW,
    }
    count, sites = read_imports(synthetic, "pkg")
    assert count == 13
    found = {(v.site.module, v.site.target, v.site.type_only) for v in check(sites, "pkg", layers)}
    assert found == {
        ("pkg.domain.order", "pkg.errors.CsosError", False),
        ("pkg.store", "pkg.services.tokens", False),
        ("pkg.token", "PySide6.QtCore.QObject", True),
        ("pkg.gui", "pkg.store.open_store", False),  # inside a function
        ("pkg.cli", "pkg.gui", False),  # relative import
        ("pkg.gui.token", "pkcs11", False),  # a token library above token/
        ("pkg.services.drivers", "pkcs11.lib", False),  # in services too
    }


def test_the_checker_reports_a_front_end_reading_the_store(synthetic: Path) -> None:
    reads = store_reads(synthetic, "pkg", frozenset({"orders", "audit"}))
    # store.close() and store.path are the handle; self.orders is a widget, not the store.
    assert [(r.module, r.line, r.text) for r in reads] == [
        ("pkg.gui.screen", 2, "self._store.orders")
    ]


def test_a_violation_names_the_module_the_line_and_the_route(synthetic: Path) -> None:
    _, sites = read_imports(synthetic, "pkg")
    layers = {"gui": Layer.FRONT, "store": Layer.BELOW}
    (violation,) = check([s for s in sites if s.module == "pkg.gui"], "pkg", layers)
    assert str(violation) == (
        "pkg.gui:2 imports pkg.store.open_store: gui goes around services: route it through "
        + ROUTE["store"]
    )


def test_a_module_with_no_layer_is_reported(tmp_path: Path) -> None:
    _write(tmp_path / "pkg", {"__init__.py": "", "newthing.py": "import os\n"})
    _, sites = read_imports(tmp_path / "pkg", "pkg")
    assert [v.rule for v in check(sites, "pkg", {"__init__": Layer.BELOW})] == [
        "'newthing' has no layer: add it to LAYERS"
    ]
