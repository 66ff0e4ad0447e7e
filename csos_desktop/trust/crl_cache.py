"""CRLs kept on disk per issuer, with thisUpdate/nextUpdate, as relying parties keep them.

``<data dir>/crl/<sha256 of the issuer name>.crl`` holds the DER exactly as fetched;
a ``.json`` beside it says where it came from, when, and which CA certificate's key
signed it. A CRL is current from its thisUpdate until its nextUpdate (1305.22(c)(3): a
supplier may rely on a CRL until it expires); past that it is stale and is fetched again.

Only what was proven is kept: a CRL goes in after its signature checked against the
issuing CA's certificate, which the caller found in a path to a configured anchor; it
is given back only for that same CA key. A CRL with a lower crlNumber or an older
thisUpdate never replaces the one held, and the number of issuers held is capped.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from csos_desktop import paths
from csos_desktop.fileio import write_atomically

#: Issuers held at most; a new one past this replaces the least recently fetched.
MAX_ENTRIES = 64


class CrlUnreadable(ValueError):
    """Bytes that are not a CRL (what a hostile or broken server may send)."""


class CrlNotProven(CrlUnreadable):
    """A CRL whose signature does not check against the issuer it names."""


def parse_crl(der: bytes) -> asn1_crl.CertificateList:
    try:
        crl = asn1_crl.CertificateList.load(der, strict=True)
        crl.native  # noqa: B018 - parse every field now, not during validation
    except (ValueError, TypeError) as exc:
        raise CrlUnreadable(f"not a DER CRL ({exc})") from exc
    return crl


def same_name(a: asn1_x509.Name, b: asn1_x509.Name) -> bool:
    return bytes(a.dump()) == bytes(b.dump()) or a == b


def _same_key(a: asn1_x509.Certificate, b: asn1_x509.Certificate) -> bool:
    return bytes(a.public_key.dump()) == bytes(b.public_key.dump())


def check_crl_signature(der: bytes, issuer: asn1_x509.Certificate) -> asn1_crl.CertificateList:
    """The parsed CRL when *issuer* (name and key) signed it; CrlNotProven otherwise."""
    crl = parse_crl(der)
    if not same_name(crl.issuer, issuer.subject):
        raise CrlNotProven(f"it is a CRL of {crl.issuer.human_friendly}, not of the issuing CA")
    try:
        signed = x509.load_der_x509_crl(der).is_signature_valid(
            x509.load_der_x509_certificate(issuer.dump()).public_key()  # type: ignore[arg-type]
        )
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CrlNotProven(f"its signature cannot be checked ({exc})") from exc
    if not signed:
        raise CrlNotProven("its signature is not the issuing CA's")
    return crl


def _crl_number(crl: asn1_crl.CertificateList) -> int | None:
    value = crl.crl_number_value
    return None if value is None else int(value.native)


@dataclass(frozen=True)
class CachedCrl:
    """One cached CRL and its provenance."""

    der: bytes
    url: str
    fetched_at: datetime
    #: The CA certificate whose key the signature checked against (None: an entry
    #: written before signatures were checked; never used, shown as unverified).
    issuer_der: bytes | None = None

    @property
    def verified(self) -> bool:
        return self.issuer_der is not None

    @property
    def issuer_certificate(self) -> asn1_x509.Certificate | None:
        return None if self.issuer_der is None else asn1_x509.Certificate.load(self.issuer_der)

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

    def signed_by(self, issuer: asn1_x509.Certificate) -> bool:
        held = self.issuer_der
        return held is not None and _same_key(asn1_x509.Certificate.load(held), issuer)

    def to_json(self, now: datetime) -> dict[str, object]:
        nxt = self.next_update
        return {
            "issuer": self.issuer,
            "url": self.url,
            "source": self.url,
            "signature_verified": self.verified,
            "crl_number": _crl_number(self.crl),
            "this_update": self.this_update.isoformat(),
            "next_update": nxt.isoformat() if nxt else None,
            "fetched_at": self.fetched_at.isoformat(),
            "revoked": len(self.crl["tbs_cert_list"]["revoked_certificates"]),
            "current": self.current(now),
        }


def issuer_key(name: asn1_x509.Name) -> str:
    return bytes(name.sha256).hex()


def _older(new: asn1_crl.CertificateList, held: asn1_crl.CertificateList) -> bool:
    """True when *new* must not replace *held* (a replay or a roll-back)."""
    new_tu = new["tbs_cert_list"]["this_update"].native
    held_tu = held["tbs_cert_list"]["this_update"].native
    if new_tu < held_tu:
        return True
    new_no, held_no = _crl_number(new), _crl_number(held)
    return new_no is not None and held_no is not None and new_no < held_no


class CrlCache:
    """The on-disk cache (the data directory unless given)."""

    def __init__(self, directory: Path | None = None, *, max_entries: int = MAX_ENTRIES) -> None:
        self._dir = directory
        self._max = max_entries

    @property
    def directory(self) -> Path:
        return self._dir if self._dir is not None else paths.data_dir() / "crl"

    def get(self, issuer: asn1_x509.Certificate) -> CachedCrl | None:
        """The CRL held for *issuer* (a CA certificate in a path to an anchor), if that
        CA's key is the one that signed it."""
        held = self._read(issuer_key(issuer.subject))
        return held if held is not None and held.signed_by(issuer) else None

    def put(
        self, der: bytes, url: str, now: datetime, *, issuer: asn1_x509.Certificate
    ) -> CachedCrl:
        """Keep *der* as *issuer*'s CRL once its signature checks (CrlNotProven if not),
        unless the one held is newer."""
        crl = check_crl_signature(der, issuer)
        key = issuer_key(crl.issuer)
        entry = CachedCrl(der, url, now.astimezone(UTC), bytes(issuer.dump()))
        held = self._read(key)
        if held is not None and held.signed_by(issuer) and _older(crl, held.crl):
            return held  # never replace a newer CRL by a replayed older one
        if held is None:
            self._make_room()
        self.directory.mkdir(parents=True, exist_ok=True)
        write_atomically(self.directory / f"{key}.crl", der)
        meta = {
            "url": url,
            "fetched_at": entry.fetched_at.isoformat(),
            "issuer_certificate": base64.b64encode(bytes(issuer.dump())).decode(),
        }
        write_atomically(self.directory / f"{key}.json", json.dumps(meta).encode())
        return entry

    def forget(self, wanted: str) -> list[CachedCrl]:
        """Remove the CRLs whose issuer name contains *wanted* (case-insensitive) or whose
        file key starts with it; returns what was removed."""
        needle = wanted.strip().lower()
        gone = []
        for key, held in self._entries():
            if needle and (needle in held.issuer.lower() or key.startswith(needle)):
                for suffix in (".crl", ".json"):
                    (self.directory / f"{key}{suffix}").unlink(missing_ok=True)
                gone.append(held)
        return gone

    def all(self) -> list[CachedCrl]:
        return [held for _, held in self._entries()]

    def _entries(self) -> list[tuple[str, CachedCrl]]:
        if not self.directory.is_dir():
            return []
        found = ((p.stem, self._read(p.stem)) for p in sorted(self.directory.glob("*.crl")))
        return [(k, c) for k, c in found if c is not None]

    def _make_room(self) -> None:
        entries = self._entries()
        entries.sort(key=lambda e: e[1].fetched_at)
        while len(entries) >= self._max:
            key, _ = entries.pop(0)
            for suffix in (".crl", ".json"):
                (self.directory / f"{key}{suffix}").unlink(missing_ok=True)

    def _read(self, key: str) -> CachedCrl | None:
        path = self.directory / f"{key}.crl"
        try:
            der = path.read_bytes()
            meta = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
            parse_crl(der)
            issuer = meta.get("issuer_certificate")
            return CachedCrl(
                der,
                str(meta["url"]),
                datetime.fromisoformat(meta["fetched_at"]),
                base64.b64decode(issuer, validate=True) if isinstance(issuer, str) else None,
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError, CrlUnreadable):
            return None  # missing or damaged: treated as not cached, fetched again
