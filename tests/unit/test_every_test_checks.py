"""Every test checks something: read from the source with ``ast``, not hoped for.

A test passes when nothing fails. One with no ``assert``, no ``pytest.raises`` (or
``warns``, ``fail``) and no call to a helper that checks passes whatever the product does.
This walks every ``test_*`` function under ``tests/`` and fails listing the ones that
check nothing. A helper counts when its body checks, directly or through helpers it calls
(by name, across ``tests/``: a name defined twice counts if either checks); pytest-qt's
``qtbot.waitUntil``/``waitSignal`` count, as they fail on a timeout.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]

#: Fewer test functions than this means the walk read the wrong folder.
MIN_TESTS = 800

#: Calls that fail the test on their own (``pytest.raises`` and pytest-qt's waits).
CHECKING_CALLS = frozenset(
    {"raises", "warns", "fail", "deprecated_call", "waitUntil", "waitSignal", "waitSignals"}
)

#: Tests whose check is a call that raises on failure, with the reason (path::name → why).
_RAISES = "the call under test raises on failure; that it returns is the check"
_NO_CRASH = "robustness: the check is that nothing but our own error escapes"
ALLOWED: dict[str, str] = {
    "tests/unit/domain/test_order_document.py::test_schema_accepts_the_sample_documents": (
        _RAISES + " (jsonschema's validate)"
    ),
    "tests/unit/domain/test_order_document.py::"
    "test_schema_accepts_every_document_to_document_produces": _RAISES + " (jsonschema's validate)",
    "tests/unit/store/test_order_state.py::test_the_happy_path_is_allowed_step_by_step": (
        _RAISES + " (check_transition raises IllegalTransition)"
    ),
    "tests/unit/store/test_order_state.py::"
    "test_drafts_and_signed_orders_not_yet_sent_can_be_voided": _RAISES
    + " (check_transition raises IllegalTransition)",
    "tests/unit/enrol/test_replies.py::"
    "test_arbitrary_bytes_never_escape_as_anything_but_our_error": _NO_CRASH,
    "tests/unit/pki/test_cms_structure.py::test_random_bytes_never_crash_the_parser": _NO_CRASH,
}

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(TESTS_DIR.rglob("*.py")):  # helpers live in conftest and modules too
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _checks_directly(fn: FunctionNode) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "AssertionError":
                return True
        if isinstance(node, ast.Call) and _called_name(node) in CHECKING_CALLS:
            return True
    return False


def _calls(fn: FunctionNode) -> set[str]:
    return {
        name
        for node in ast.walk(fn)
        if isinstance(node, ast.Call) and (name := _called_name(node)) is not None
    }


def _functions(tree: ast.Module) -> Iterator[FunctionNode]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def unchecked_tests() -> tuple[list[str], int]:
    """(path::name of every test that checks nothing, number of tests read)."""
    parsed = list(_sources())
    checking: set[str] = set()
    calls: dict[str, set[str]] = {}
    for _, tree in parsed:
        for fn in _functions(tree):
            if _checks_directly(fn):
                checking.add(fn.name)
            calls.setdefault(fn.name, set()).update(_calls(fn))
    changed = True
    while changed:  # a helper that calls a checking helper checks
        changed = False
        for name, called in calls.items():
            if name not in checking and called & checking:
                checking.add(name)
                changed = True
    found, total = [], 0
    for path, tree in parsed:
        if not path.name.startswith("test_"):
            continue  # pytest collects tests from test_*.py only (conftest's test_ca is a fixture)
        for fn in _functions(tree):
            if not fn.name.startswith("test_"):
                continue
            total += 1
            if _checks_directly(fn) or _calls(fn) & checking:
                continue
            found.append(f"{path.relative_to(TESTS_DIR.parent)}::{fn.name}")
    return found, total


def test_every_test_checks_something() -> None:
    found, total = unchecked_tests()
    assert total >= MIN_TESTS, f"only {total} tests read under {TESTS_DIR}"
    unexplained = [name for name in found if name not in ALLOWED]
    assert not unexplained, "tests that check nothing (no assert, no pytest.raises, no " + (
        "helper that checks):\n  " + "\n  ".join(unexplained)
    )


def test_the_allowlist_names_only_tests_that_still_check_nothing() -> None:
    found, _ = unchecked_tests()
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"allowed but now checking (remove from ALLOWED): {stale}"
