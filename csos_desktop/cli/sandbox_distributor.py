"""`csos sandbox serve ...`: the reference distributor (attaches to the `sandbox` group)."""

from __future__ import annotations
