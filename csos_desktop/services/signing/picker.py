"""The signing dialog's certificate picker, without Qt: which certificates can sign the
orders of each purchaser, which one is preselected, and the choice remembered per DEA number.

A pharmacist with two certificates for one registration (a renewal kept next to the old
one, two pharmacists' certificates on a shared token) picks one once; the app remembers it
for that purchaser DEA number in ``config/certificate-choices.json`` (the user's own
settings, not the machine policy). Only CKA_IDs are kept: nothing secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from csos_desktop import paths
from csos_desktop.domain.order import Order
from csos_desktop.fileio import write_atomically
from csos_desktop.services.signing.choice import Signing, known_number
from csos_desktop.services.signing.locations import describe, location_name
from csos_desktop.token.identity import SigningIdentity

CHOICES_FILE = "certificate-choices.json"


@dataclass(frozen=True)
class Candidate:
    """One certificate the picker offers."""

    key_id: str
    location: str
    description: str


@dataclass(frozen=True)
class Picker:
    """The certificates that can sign the orders of purchaser *dea*, and the preselected one."""

    dea: str
    candidates: tuple[Candidate, ...]
    chosen: str

    @property
    def needs_choice(self) -> bool:
        """True when the dialog shows a picker (more than one certificate can sign)."""
        return len(self.candidates) > 1


def pickers(
    session: Signing,
    orders: Sequence[Order],
    remembered: Mapping[str, str],
    now: datetime,
) -> tuple[Picker, ...]:
    """Per purchaser DEA number of *orders*: the usable certificates for all its orders, the
    one preselected (the remembered one if still offered, else the one expiring last)."""
    by_dea: dict[str, list[Order]] = {}
    for order in orders:
        by_dea.setdefault(order.purchaser.dea_number.value, []).append(order)
    out = []
    for dea, group in by_dea.items():
        usable = session.usable_for(group, now)
        if not usable:
            continue  # the pre-PIN checks say why for each order
        ranked = sorted(usable, key=lambda i: i.info.not_after, reverse=True)
        ids = [i.key_id.hex() for i in ranked]
        chosen = remembered.get(dea) if remembered.get(dea) in ids else ids[0]
        out.append(Picker(dea, tuple(_candidate(i, dea) for i in ranked), chosen or ids[0]))
    return tuple(out)


def _candidate(identity: SigningIdentity, dea: str) -> Candidate:
    return Candidate(
        identity.key_id.hex(),
        location_name(identity),
        describe(identity, lambda i: known_number(i, dea)).removeprefix("--cert-id "),
    )


def _path(directory: Path | None) -> Path:
    return (paths.config_dir() if directory is None else directory) / CHOICES_FILE


def remembered_choices(directory: Path | None = None) -> dict[str, str]:
    """Purchaser DEA number → CKA_ID (hex) last chosen; {} when none or unreadable."""
    try:
        data = json.loads(_path(directory).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a lost preference only means the picker preselects again
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def remember_choice(dea: str, key_id: str, directory: Path | None = None) -> None:
    """Keep *key_id* as the certificate for purchaser *dea* next time."""
    choices = remembered_choices(directory)
    choices[dea.strip().upper()] = key_id
    text = json.dumps(choices, indent=2, sort_keys=True) + "\n"
    write_atomically(_path(directory), text.encode("utf-8"))
