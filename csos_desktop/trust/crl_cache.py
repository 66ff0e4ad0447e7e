"""CRLs kept on disk per issuer, with thisUpdate/nextUpdate, as relying parties keep them.

``<data dir>/crl/<sha256 of the issuer name>.crl`` holds the DER exactly as fetched;
a ``.json`` beside it says where it came from and when. A CRL is current from its
thisUpdate until its nextUpdate (1305.22(c)(3): a supplier may rely on a CRL until
it expires); past that it is stale and is fetched again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from csos_desktop import paths
from csos_desktop.fileio import write_atomically


class CrlUnreadable(ValueError):
    """Bytes that are not a CRL (what a hostile or broken server may send)."""


def parse_crl(der: bytes) -> asn1_crl.CertificateList:
    try:
        crl = asn1_crl.CertificateList.load(der, strict=True)
        crl.native  # noqa: B018 - parse every field now, not during validation
    except (ValueError, TypeError) as exc:
        raise CrlUnreadable(f"not a DER CRL ({exc})") from exc
    return crl


@dataclass(frozen=True)
class CachedCrl:
    """One cached CRL and its provenance."""

    der: bytes
    url: str
    fetched_at: datetime

    @property
    def crl(self) -> asn1_crl.CertificateList:
        return asn1_crl.CertificateList.load(self.der)

    @property
    def issuer(self) -> str:
        return str(self.crl.issuer.human_friendly)

    @property
    def this_update(self) -> datetime:
        return self.crl["tbs_cert_list"]["this_update"].native  # type: ignore[no-any-return]

    @property
    def next_update(self) -> datetime | None:
        return self.crl["tbs_cert_list"]["next_update"].native  # type: ignore[no-any-return]

    def current(self, now: datetime) -> bool:
        nxt = self.next_update
        return self.this_update <= now and (nxt is None or now < nxt)

    def to_json(self, now: datetime) -> dict[str, object]:
        nxt = self.next_update
        return {
            "issuer": self.issuer,
            "url": self.url,
            "this_update": self.this_update.isoformat(),
            "next_update": nxt.isoformat() if nxt else None,
            "fetched_at": self.fetched_at.isoformat(),
            "revoked": len(self.crl["tbs_cert_list"]["revoked_certificates"]),
            "current": self.current(now),
        }


def issuer_key(name: asn1_x509.Name) -> str:
    return bytes(name.sha256).hex()


class CrlCache:
    """The on-disk cache (the data directory unless given)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._dir = directory

    @property
    def directory(self) -> Path:
        return self._dir if self._dir is not None else paths.data_dir() / "crl"

    def get(self, issuer: asn1_x509.Name) -> CachedCrl | None:
        return self._read(issuer_key(issuer))

    def put(self, der: bytes, url: str, now: datetime) -> CachedCrl:
        """Keep *der* (already parsed by the caller) as its issuer's CRL, unless older."""
        crl = parse_crl(der)
        key = issuer_key(crl.issuer)
        entry = CachedCrl(der, url, now.astimezone(UTC))
        held = self._read(key)
        if held is not None and held.this_update > entry.this_update:
            return held  # never replace a newer CRL by a replayed older one
        self.directory.mkdir(parents=True, exist_ok=True)
        write_atomically(self.directory / f"{key}.crl", der)
        meta = {"url": url, "fetched_at": entry.fetched_at.isoformat()}
        write_atomically(self.directory / f"{key}.json", json.dumps(meta).encode())
        return entry

    def all(self) -> list[CachedCrl]:
        if not self.directory.is_dir():
            return []
        found = (self._read(p.stem) for p in sorted(self.directory.glob("*.crl")))
        return [c for c in found if c is not None]

    def _read(self, key: str) -> CachedCrl | None:
        path = self.directory / f"{key}.crl"
        try:
            der = path.read_bytes()
            meta = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
            parse_crl(der)
            return CachedCrl(der, str(meta["url"]), datetime.fromisoformat(meta["fetched_at"]))
        except (OSError, ValueError, KeyError, TypeError, CrlUnreadable):
            return None  # missing or damaged: treated as not cached, fetched again
