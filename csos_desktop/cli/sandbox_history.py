"""`csos sandbox gen-history`: synthetic order history for SOM (attaches to the sandbox group)."""

from __future__ import annotations
