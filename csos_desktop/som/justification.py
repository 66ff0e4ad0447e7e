"""Whether a SOM justification is a reason in words (21 CFR 1301.74(b)).

A flagged order is signed only with a written reason kept in the audit log. A reason
that says nothing ("xxxxxxxxxx", "1234567890", the flag's own text pasted back) would
satisfy a length rule and leave the log without meaning, so the GUI and the CLI both
ask this one function. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from csos_desktop.domain.errors import InputError

#: Shortest reason accepted, in characters after spaces are collapsed.
MIN_CHARS = 15
#: Longest reason accepted: a sentence or two, not a pasted document.
MAX_CHARS = 500
#: Fewest words with letters: "ok ok" is not a reason.
MIN_WORDS = 3
#: Fewest different letters: "abab abab abab" is a keystroke pattern, not a reason.
MIN_LETTERS = 5

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_RUN = re.compile(r"(.)\1{4,}", re.DOTALL)

EXAMPLE = "for example 'new hospice patients admitted this week'"


class JustificationRefused(InputError):
    """The text is not a reason the audit log can keep; the message says what to write."""


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def check_justification(text: str, flag_texts: Iterable[str] = ()) -> str:
    """The justification as it is kept (spaces collapsed), or ``JustificationRefused``.

    Refused: shorter than ``MIN_CHARS`` or longer than ``MAX_CHARS``; a character typed
    five times in a row; no letters, fewer than ``MIN_WORDS`` words or ``MIN_LETTERS``
    different letters; every word taken from the flags it answers (a copy of them).
    """
    reason = " ".join(text.split())
    if len(reason) < MIN_CHARS:
        raise JustificationRefused(
            f"Say why the order is legitimate in a sentence of at least {MIN_CHARS} "
            f"characters ({EXAMPLE}); it is kept in the audit log."
        )
    if len(reason) > MAX_CHARS:
        raise JustificationRefused(
            f"Keep the justification to {MAX_CHARS} characters (it has {len(reason)}): "
            "the reason in a sentence or two."
        )
    words = _words(reason)
    if _RUN.search(reason):
        raise JustificationRefused(
            f"The justification repeats one character; write the reason in words ({EXAMPLE})."
        )
    if not words:
        raise JustificationRefused(
            f"The justification has no letters; write the reason in words ({EXAMPLE})."
        )
    if len(words) < MIN_WORDS or len(set("".join(words))) < MIN_LETTERS:
        raise JustificationRefused(
            f"Write the reason in at least {MIN_WORDS} words ({EXAMPLE}); it is kept in "
            "the audit log."
        )
    flag_words = {w for t in flag_texts for w in _words(t)}
    if flag_words and set(words) <= flag_words:
        raise JustificationRefused(
            "The justification only repeats the flag; say why this order is legitimate "
            f"despite it ({EXAMPLE})."
        )
    return reason
