"""`csos sandbox ca serve|issue-codes`: the test CA over HTTPS (attach to the `ca` group)."""

from __future__ import annotations
