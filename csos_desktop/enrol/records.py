"""What the client remembers between steps: unfinished enrolments and the CA's addresses.

Kept as JSON in the data directory. Nothing secret is stored: no PIN, no
authorisation code (only the reference number, which the CA treats as public).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from csos_desktop import paths
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.schedule import Schedule
from csos_desktop.enrol.est_client import ApplicationData, CaEndpoints

_PENDING = "enrolment-pending.json"
_CA = "ca.json"
_DEA = "certificate-dea.json"


@dataclass(frozen=True)
class PendingEnrolment:
    """A key generated for an enrolment that has not finished yet."""

    key_id: bytes
    label: str
    created: datetime
    application: ApplicationData | None = None


@dataclass(frozen=True)
class CaRecord:
    """The CA a certificate came from, for renewal, revocation requests and status checks."""

    ca_url: str
    ca_bundle: str | None
    endpoints: CaEndpoints | None

    @property
    def bundle_path(self) -> Path | None:
        return Path(self.ca_bundle) if self.ca_bundle else None


class Records:
    """The records file pair in one directory (the data directory unless given)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._dir = directory

    @property
    def directory(self) -> Path:
        return self._dir if self._dir is not None else paths.data_dir()

    # -- pending enrolments, keyed by reference number / "renewal:<serial>" / "offline" --
    def pending(self, key: str) -> PendingEnrolment | None:
        row = self._load(_PENDING).get(key)
        if not isinstance(row, dict):
            return None
        app = row.get("application")
        return PendingEnrolment(
            bytes.fromhex(row["key_id"]),
            row["label"],
            datetime.fromisoformat(row["created"]),
            None
            if app is None
            else ApplicationData(
                app["name"], app["dea_number"], frozenset(Schedule(s) for s in app["schedules"])
            ),
        )

    def save_pending(self, key: str, pending: PendingEnrolment) -> None:
        data = self._load(_PENDING)
        app = pending.application
        data[key] = {
            "key_id": pending.key_id.hex(),
            "label": pending.label,
            "created": pending.created.isoformat(),
            "application": None
            if app is None
            else {
                "name": app.name,
                "dea_number": app.dea_number,
                "schedules": sorted(s.value for s in app.schedules),
            },
        }
        self._save(_PENDING, data)

    def drop_pending(self, key_id: bytes) -> None:
        data = self._load(_PENDING)
        kept = {k: v for k, v in data.items() if v.get("key_id") != key_id.hex()}
        if kept != data:
            self._save(_PENDING, kept)

    # -- the CA --------------------------------------------------------------------
    def ca(self) -> CaRecord | None:
        row = self._load(_CA)
        if "ca_url" not in row:
            return None
        ep = row.get("endpoints")
        return CaRecord(
            row["ca_url"],
            row.get("ca_bundle"),
            None
            if ep is None
            else CaEndpoints(
                tuple(ep.get("crl_urls", [])), ep.get("ocsp_url"), ep.get("revocation_request_url")
            ),
        )

    def save_ca(self, record: CaRecord) -> None:
        ep = record.endpoints
        self._save(
            _CA,
            {
                "ca_url": record.ca_url,
                "ca_bundle": record.ca_bundle,
                "endpoints": None
                if ep is None
                else {
                    "crl_urls": list(ep.crl_urls),
                    "ocsp_url": ep.ocsp_url,
                    "revocation_request_url": ep.revocation_request_url,
                },
            },
        )

    # -- the DEA number each certificate was issued for ---------------------------
    # A CSOS certificate carries only a hash of the DEA number (pki/profile.py), so the
    # number the app knows comes from the enrolment that produced the certificate.
    def remember_dea(self, certificate_der: bytes, dea_number: str) -> None:
        data = self._load(_DEA)
        data[hashlib.sha256(certificate_der).hexdigest()] = dea_number
        self._save(_DEA, data)

    def known_dea(self, certificate_der: bytes) -> str | None:
        value = self._load(_DEA).get(hashlib.sha256(certificate_der).hexdigest())
        return value if isinstance(value, str) else None

    # -- files -----------------------------------------------------------------------
    def _load(self, name: str) -> dict[str, Any]:
        path = self.directory / name
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CsosError(
                f"Cannot read {path} ({exc}); delete it and start the enrolment again."
            ) from exc
        return data if isinstance(data, dict) else {}

    def _save(self, name: str, data: dict[str, Any]) -> None:
        path = self.directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
