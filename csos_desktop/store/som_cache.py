"""The distributor's published SOM policy, kept next to the database for checks before signing.

The history rows live in ``order_history`` (``history.py``); the policy is one
JSON document, replaced atomically whenever the sync fetches it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from csos_desktop.fileio import write_atomically
from csos_desktop.store.local_store import Store

POLICY_FILE = "som-policy.json"
HISTORY_MARK = "som-history.json"


def policy_path(store: Store) -> Path:
    return store.path.parent / POLICY_FILE


def save_policy_document(store: Store, document: dict[str, object]) -> None:
    write_atomically(policy_path(store), (json.dumps(document, indent=2) + "\n").encode())


def load_policy_document(store: Store) -> tuple[dict[str, object], datetime] | None:
    """The cached document and when it was fetched, or None when nothing usable is cached."""
    path = policy_path(store)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        fetched = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except (OSError, ValueError):
        return None
    return (doc, fetched) if isinstance(doc, dict) else None


def mark_history_fetched(store: Store, now: datetime, rows: int) -> None:
    """When the distributor's history was last read completely (it may hold no rows)."""
    body = {"fetched_at": now.astimezone(UTC).isoformat(), "rows_added": rows}
    write_atomically(store.path.parent / HISTORY_MARK, (json.dumps(body) + "\n").encode())


def history_fetched_at(store: Store) -> datetime | None:
    try:
        body = json.loads((store.path.parent / HISTORY_MARK).read_text(encoding="utf-8"))
        return datetime.fromisoformat(str(body["fetched_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
