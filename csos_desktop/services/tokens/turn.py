"""The front ends' way to the token layer's one-caller lock (token.turn)."""

from __future__ import annotations

from csos_desktop.token.turn import ONE_CALLER as ONE_CALLER

__all__ = ["ONE_CALLER"]
