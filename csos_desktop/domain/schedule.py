"""Controlled-substance schedules as written on CSOS orders and certificates."""

from __future__ import annotations

from enum import Enum


class Schedule(Enum):
    """A DEA schedule: I, II, II non-narcotic, III, III non-narcotic, IV, V."""

    I = "1"  # noqa: E741 - the schedule's own name
    II = "2"
    II_NON_NARCOTIC = "2N"
    III = "3"
    III_NON_NARCOTIC = "3N"
    IV = "4"
    V = "5"

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """Accept `2`, `2N`, `II`, `IIN`, `ii n` and the like; raise ValueError otherwise."""
        key = text.strip().upper().replace(" ", "")
        for s in cls:
            if key in (s.value, _ROMAN[s]):
                return s
        allowed = ", ".join(s.value for s in cls)
        raise ValueError(f"unknown schedule {text!r}; use one of {allowed}")

    @property
    def sort_key(self) -> int:
        return list(Schedule).index(self)

    @property
    def needs_csos_or_222(self) -> bool:
        """Schedules I and II (incl. 2N) need a DEA Form 222 or a CSOS order (1305.21(a))."""
        return self in (Schedule.I, Schedule.II, Schedule.II_NON_NARCOTIC)

    @property
    def label(self) -> str:
        return _LABELS[self]


_ROMAN = {
    Schedule.I: "I",
    Schedule.II: "II",
    Schedule.II_NON_NARCOTIC: "IIN",
    Schedule.III: "III",
    Schedule.III_NON_NARCOTIC: "IIIN",
    Schedule.IV: "IV",
    Schedule.V: "V",
}

_LABELS = {
    Schedule.I: "Schedule I",
    Schedule.II: "Schedule II",
    Schedule.II_NON_NARCOTIC: "Schedule II non-narcotic",
    Schedule.III: "Schedule III",
    Schedule.III_NON_NARCOTIC: "Schedule III non-narcotic",
    Schedule.IV: "Schedule IV",
    Schedule.V: "Schedule V",
}


def parse_schedule_list(text: str) -> frozenset[Schedule]:
    """Parse a comma-separated list such as ``2,2N,3,3N,4,5``."""
    parts = [p for p in (x.strip() for x in text.split(",")) if p]
    if not parts:
        raise ValueError("no schedules given; use a list such as 2,2N,3,3N,4,5")
    return frozenset(Schedule.parse(p) for p in parts)
