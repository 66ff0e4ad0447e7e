"""Does a certificate's subject name the practitioner a prescription names?

21 CFR 1311.120(b)(12) and 1311.140(a)(3): only the practitioner whose name and DEA
number appear on the prescription signs it. A certificate carries a name (its common
name, or the DEA registrant-name extension); a prescription says "Dr. Jane Smith". The
comparison ignores case, punctuation, titles and credentials, and lets one side carry a
middle name the other leaves out; a different surname or given name is not a match.
"""

from __future__ import annotations

import re

#: Titles and credentials that come before or after a prescriber's name.
_NOT_NAMES = frozenset(
    [
        "dr",
        "doctor",
        "mr",
        "mrs",
        "ms",
        "miss",
        "prof",
        "md",
        "do",
        "dds",
        "dmd",
        "dpm",
        "dvm",
        "od",
        "np",
        "aprn",
        "fnp",
        "pa",
        "pac",
        "rn",
        "phd",
        "pharmd",
        "rph",
        "jr",
        "sr",
        "ii",
        "iii",
        "iv",
    ]
)


def name_words(name: str) -> tuple[str, ...]:
    """The words of a person's name, lower-case, without titles or credentials."""
    words = re.findall(r"[^\W\d_]+(?:['-][^\W\d_]+)*", name.replace(".", "").casefold())
    return tuple(w for w in words if w.replace("-", "").replace("'", "") not in _NOT_NAMES)


def same_person_name(a: str, b: str) -> bool:
    """True when *a* and *b* have the same first and last names (middle names aside)."""
    wa, wb = name_words(a), name_words(b)
    if len(wa) < 2 or len(wb) < 2:
        return bool(wa) and wa == wb
    if (wa[0], wa[-1]) != (wb[0], wb[-1]):
        return False
    short, long_ = sorted((wa, wb), key=len)
    return set(short) <= set(long_)
