"""Which drug codes are schedule II, for the schedule II share of an order's mix."""

from __future__ import annotations

from collections.abc import Mapping

from csos_desktop.domain.catalogue import DrugFamily
from csos_desktop.domain.dea_codes import DEA_CODES
from csos_desktop.domain.schedule import Schedule

_SCHEDULE_II = (Schedule.II, Schedule.II_NON_NARCOTIC)


def schedule_ii_codes(families: Mapping[int, DrugFamily]) -> frozenset[int]:
    """Schedule II codes of the catalogue's families and of the DEA table.

    A history row judged by its drug code alone (its NDC not in the catalogue)
    still counts towards the schedule II share.
    """
    listed = {c for c, d in DEA_CODES.items() if d.schedule in _SCHEDULE_II}
    return frozenset(listed | {c for c, f in families.items() if f.is_schedule_ii})
