"""The documents the distributor publishes: product catalogue and SOM policy.

Both come from the package's resources; when one is missing the distributor
serves an empty document whose ``note`` says so, rather than failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

CATALOGUE_RESOURCE = "resources/catalogue/products.json"
POLICY_RESOURCE = "resources/som/default-policy.json"

EMPTY_CATALOGUE: dict[str, Any] = {
    "schema": "csos-catalogue/1",
    "catalogue_id": "none",
    "version": "0",
    "synthetic": True,
    "note": "This distributor publishes no product catalogue (no products.json was found).",
    "families": [],
    "products": [],
}
EMPTY_POLICY: dict[str, Any] = {
    "schema": "csos-som-policy/1",
    "policy_id": "none",
    "version": "0",
    "note": "This distributor publishes no SOM policy (no default-policy.json was found); "
    "it runs the no-op SOM policy and intercepts nothing.",
}


def _load(resource: str, path: Path | None) -> dict[str, Any] | None:
    try:
        if path is not None:
            text = path.read_text(encoding="utf-8")
        else:
            text = resources.files("csos_desktop").joinpath(resource).read_text(encoding="utf-8")
        doc = json.loads(text)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


@dataclass(frozen=True)
class ServedDocuments:
    catalogue: dict[str, Any]
    policy: dict[str, Any]

    @property
    def has_policy(self) -> bool:
        return self.policy.get("policy_id") != "none"

    @classmethod
    def load(cls, catalogue: Path | None = None, policy: Path | None = None) -> ServedDocuments:
        """The bundled documents (or the files given), else the empty ones."""
        cat = _load(CATALOGUE_RESOURCE, catalogue) or EMPTY_CATALOGUE
        pol = _load(POLICY_RESOURCE, policy) or EMPTY_POLICY
        return cls(cat, pol)
