"""docs/compliance.md names real tests, and keeps a row for every requirement it must cover."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "compliance.md"
_TEST_REF = re.compile(r"(tests/[\w/]+\.py)::(test_\w+)")

#: The clauses of the project's rules (REGULATIONS.md) plus 1305.05, 1305.26 and 1311.45.
REQUIRED = (
    "1305.05",
    "1305.05(d)",
    "1305.21(a)",
    "1305.21(b)",
    "1305.21(c)",
    "1305.22(c)",
    "1305.22(d)",
    "1305.22(e)",
    "1305.22(g)",
    "1305.25",
    "1305.26",
    "1305.27",
    "1305.28",
    "1305.29",
    "1311.30",
    "1311.35",
    "1311.40",
    "1311.45",
    "1311.55(b)",
    "1311.55(c)",
    "1311.55(d)",
    "1311.60",
    "1311.115",
    "1311.125",
    "1311.130",
    "1311.120(b)",
    "1311.140",
    "1311.150",
    "1311.215",
    "1311.205",
    "1311.210",
    "1306.05(a)",
    "1306.12",
    "1301.74(b)",
    "1305.22(f)",
    "1311.05",
    "1311.125(d)",
    "1311.145",
    "1311.170",
    "1311.300",
    "1311.305",
    "21 U.S.C. 832",
)
STATUSES = ("MET", "PARTIAL", "MISSING", "OWNER-ELSEWHERE")
#: Each paragraph of 1311.120(b) has a row of its own (issue 26), so one cannot silently go.
PARAGRAPHS_1311_120_B = tuple(f"1311.120(b)({n})" for n in range(1, 28))


def _rows() -> list[list[str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("| Clause") and "---" not in line:
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_every_test_named_in_the_compliance_table_exists() -> None:
    refs = [m for row in _rows() for m in _TEST_REF.findall(row[3])]
    assert len(refs) > 40
    missing = []
    for path, name in refs:
        source = ROOT / path
        if not source.exists() or not re.search(
            rf"^(async )?def {name}\(|^    def {name}\(", source.read_text(encoding="utf-8"), re.M
        ):
            missing.append(f"{path}::{name}")
    assert not missing, f"docs/compliance.md names tests that do not exist: {missing}"


def test_every_required_clause_has_a_row_with_a_test_or_an_owner() -> None:
    rows = _rows()
    clauses = " ".join(row[0] for row in rows)
    assert [c for c in REQUIRED if c not in clauses] == []
    for row in rows:
        assert len(row) == 6, row
        has_test = bool(_TEST_REF.search(row[3]))
        assert has_test or row[4] not in ("", "app"), f"{row[0]}: no test and no other owner"


def test_each_paragraph_of_1311_120_b_has_a_row_of_its_own() -> None:
    # Whole clauses, so "(b)(1)" is not found inside "(b)(12)".
    clauses = {c.strip() for row in _rows() for c in row[0].split(" / ")}
    assert [c for c in PARAGRAPHS_1311_120_B if c not in clauses] == []


def status_problem(row: list[str]) -> str | None:
    """Why a row's status does not hold, or None: MET needs a test, PARTIAL/MISSING a reason."""
    status, _, reason = row[5].partition(":")
    if status not in STATUSES:
        return f"{row[0]}: status {row[5]!r} is not one of {STATUSES}"
    if status == "MET" and not _TEST_REF.search(row[3]):
        return f"{row[0]}: says MET without a test"
    if status in ("PARTIAL", "MISSING") and not reason.strip():
        return f"{row[0]}: says {status} without saying what is not done"
    return None


def test_a_met_row_names_a_test_and_a_partial_row_says_why() -> None:
    problems = [p for row in _rows() if (p := status_problem(row))]
    assert problems == []


def test_the_status_check_refuses_met_without_a_test_and_partial_without_a_reason() -> None:
    assert (
        status_problem(["1311.X", "r", "d", "—", "app", "MET"]) == "1311.X: says MET without a test"
    )
    assert "without saying" in str(status_problem(["1311.X", "r", "d", "—", "app", "PARTIAL"]))
    assert status_problem(["1311.X", "r", "d", "—", "CA", "DONE"]) is not None
