"""Lines SOM could not judge, as flags on the assessment that need a justification.

A controlled line whose drug family neither the catalogue, the distributor's
history nor the DEA code table knows is not judged; the order is never passed
silently for it. Each such line becomes a warning-level flag, so every signing
path asks for the same written justification as for a warning (1301.74(b)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from csos_desktop.som.flags import Assessment, Decision, Flag, FlagCode, Severity
from csos_desktop.som.review import UnplacedLine

#: The words every path shows for such a line.
NOT_JUDGED = "not judged: product unknown"


def unjudged_flag(line: UnplacedLine) -> Flag:
    return Flag(
        FlagCode.PRODUCT_UNKNOWN,
        Severity.WARN,
        None,
        {"line_no": line.line_no, "ndc": line.ndc},
        f"{line.describe()}: {NOT_JUDGED}. Neither the product catalogue, the distributor's "
        "history nor the DEA code table names its drug family; import the FDA catalogue "
        "(`csos catalogue import`) or check the NDC.",
    )


def with_unjudged(assessment: Assessment, unplaced: Iterable[UnplacedLine]) -> Assessment:
    """The assessment with one flag per unplaced line; an OK decision becomes a warning."""
    flags = tuple(unjudged_flag(line) for line in unplaced)
    if not flags:
        return assessment
    decision = Decision.WARN if assessment.decision is Decision.OK else assessment.decision
    return replace(assessment, decision=decision, flags=assessment.flags + flags)
