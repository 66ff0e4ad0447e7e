"""Status tones: one colour each, always shown with words (never colour alone)."""

from __future__ import annotations

from enum import Enum


class Tone(Enum):
    """How good or bad a status is; each tone has a colour and is always shown with text."""

    OK = "#2e7d32"
    WARN = "#b26a00"
    BAD = "#c62828"
    NEUTRAL = "#546e7a"
