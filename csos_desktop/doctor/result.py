"""What a doctor check returns: a status, one sentence, and what to do about it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum


class Status(Enum):
    OK = "ok"
    SKIPPED = "skipped"  # not applicable or not configured: says why
    WARNING = "warning"
    ERROR = "error"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Status.OK: 0, Status.SKIPPED: 0, Status.WARNING: 1, Status.ERROR: 2}


@dataclass(frozen=True)
class CheckResult:
    """One check. ``fix`` is empty when there is nothing to do."""

    check: str
    title: str
    status: Status
    summary: str
    fix: str = ""
    details: Mapping[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "title": self.title,
            "status": self.status.value,
            "summary": self.summary,
            "fix": self.fix,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class DoctorReport:
    results: Sequence[CheckResult]
    versions: Mapping[str, str]
    generated_at: str

    @property
    def worst(self) -> Status:
        return max((r.status for r in self.results), key=lambda s: s.severity, default=Status.OK)

    @property
    def exit_code(self) -> int:
        """0 all well (or skipped), 1 a warning, 2 an error."""
        return self.worst.severity

    def result(self, check: str) -> CheckResult:
        return next(r for r in self.results if r.check == check)

    def to_json(self) -> dict[str, object]:
        worst = self.worst
        return {
            "generated_at": self.generated_at,
            "versions": dict(self.versions),
            "worst": "ok" if worst is Status.SKIPPED else worst.value,
            "exit_code": self.exit_code,
            "checks": [r.to_json() for r in self.results],
        }
