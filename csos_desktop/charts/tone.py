"""Status tones: one colour each, always shown with words (never colour alone)."""

from __future__ import annotations

from enum import Enum


class Tone(Enum):
    """How good or bad a status is; each tone has a colour and is always shown with text.

    Each colour has at least 4.5:1 contrast on white and on the light window grey (WCAG AA).
    """

    OK = "#1b5e20"
    WARN = "#8a5100"
    BAD = "#c62828"
    NEUTRAL = "#546e7a"
