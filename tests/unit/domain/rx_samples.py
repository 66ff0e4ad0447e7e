"""Sample prescription input shared by tests (the demo signs the same one)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from csos_desktop.sandbox.rx_sample import PRACTITIONER_DEA
from csos_desktop.sandbox.rx_sample import sample_rx_input as _sample

RX_NOW = datetime(2026, 11, 25, 15, 0, 0, tzinfo=UTC)

__all__ = ["PRACTITIONER_DEA", "RX_NOW", "sample_rx_input"]


def sample_rx_input(date_of_issue: str = "2026-11-25") -> dict[str, Any]:
    """A schedule II prescription, valid, as a prescriber's system would send it."""
    return _sample(date_of_issue)
