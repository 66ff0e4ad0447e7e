"""Order lifecycle commands on the local store (attach to the `order` group)."""

from __future__ import annotations
