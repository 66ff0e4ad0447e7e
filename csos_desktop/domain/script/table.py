"""The shape of a SCRIPT mapping table (one per SCRIPT version)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from csos_desktop.domain.schedule import Schedule


class Codec(Enum):
    """How a document value is written as element text (and read back)."""

    TEXT = "text"
    INTEGER = "integer"  # digits; anything else is read as text and refused by the reader
    NAME = "name"  # one name → FirstName (all but the last word) + LastName (the last)
    SCHEDULE = "schedule"  # our schedule value → its DEA schedule code in the table


@dataclass(frozen=True)
class Field:
    doc: tuple[str, ...]  # path in the csos-rx/1 document (or the pharmacy document)
    xml: str  # element path under Message, "/"-separated
    codec: Codec = Codec.TEXT
    optional: bool = False


@dataclass(frozen=True)
class MappingTable:
    version: str
    message_attributes: tuple[tuple[str, str], ...]
    to: str
    to_qualifier: str
    message_id: str
    signature: str
    signature_after: str
    signature_version: str
    digest_method: str
    prescription: tuple[Field, ...]
    pharmacy: tuple[Field, ...]
    qualifiers: tuple[tuple[str, str, tuple[str, ...]], ...]
    schedule_codes: tuple[tuple[Schedule, str], ...]
    non_narcotic_note: str

    def code_of(self, schedule: Schedule) -> str:
        narcotic = {Schedule.II_NON_NARCOTIC: Schedule.II, Schedule.III_NON_NARCOTIC: Schedule.III}
        return dict(self.schedule_codes)[narcotic.get(schedule, schedule)]

    def schedule_of(self, code: str) -> Schedule | None:
        return {c: s for s, c in self.schedule_codes}.get(code)
