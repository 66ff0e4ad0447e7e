"""A SOM justification is a reason in words: the rules the GUI and the CLI share."""

from __future__ import annotations

import pytest

from csos_desktop.som.justification import (
    MAX_CHARS,
    MIN_CHARS,
    JustificationRefused,
    check_justification,
)

FLAG = "Oxycodone (9143): 5,000 units is 5.0x the usual 1,000 units (limit 6x); order size"


def test_a_reason_in_words_is_kept_with_its_spaces_collapsed() -> None:
    assert (
        check_justification("  new hospice   patients admitted\tthis week ", [FLAG])
        == "new hospice patients admitted this week"
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("xxxxxxxxxx", "at least"),  # ten keystrokes: too short anyway
        ("xxxxxxxxxxxxxxxxxxxx", "repeats one character"),
        ("ok ok ok ok ok ok ok", "words"),  # three words, but two letters
        ("1234567890 1234567890", "no letters"),
        ("-- !! -- ?? -- ## --", "no letters"),
        ("abab abab abab abab", "words"),
        ("fine", "at least"),
    ],
)
def test_text_that_is_not_words_is_refused(text: str, why: str) -> None:
    with pytest.raises(JustificationRefused, match=why):
        check_justification(text, [FLAG])


def test_a_copy_of_the_flag_text_is_refused() -> None:
    with pytest.raises(JustificationRefused, match="only repeats the flag"):
        check_justification(FLAG, [FLAG])
    with pytest.raises(JustificationRefused, match="only repeats the flag"):
        check_justification("order size 5.0x the usual units", [FLAG])
    # The same words answer nothing only when they are all the flag's.
    check_justification("order size is usual for our new oncology clinic", [FLAG])


def test_the_length_is_bounded_both_ways() -> None:
    with pytest.raises(JustificationRefused, match=str(MIN_CHARS)):
        check_justification("a new clinic", [])
    with pytest.raises(JustificationRefused, match=str(MAX_CHARS)):
        check_justification("new hospice patients admitted " * 20, [])
    check_justification(("new hospice patients admitted " * 20)[:MAX_CHARS], [])
