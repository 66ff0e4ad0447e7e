"""The trust store: the CA certificates signatures must chain to.

Real relying parties install the DEA's "E-Commerce Root CA" and "CSOS Sub CA"
certificates; we cannot ship them, so anchors are configured. Two places:

- the user's store, ``<data dir>/trust/<sha256>.pem`` (``csos trust add|remove``);
- the ``trust_anchors`` setting: a PEM file or a directory of PEM files that IT
  names in the machine policy. When the policy *locks* it, only IT's anchors count
  and the user's store can be neither used nor changed.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from csos_desktop import paths
from csos_desktop.config import ConfigValue, load_config
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.fileio import write_atomically
from csos_desktop.pki.certfile import CertificateFileInvalid, certificates_from_bytes


class TrustStoreLocked(CsosError):
    """IT's machine policy fixes the trust anchors."""

    exit_code = 3


@dataclass(frozen=True)
class Anchor:
    """One trusted CA certificate and where it was configured."""

    der: bytes
    source: str  # "store" or "policy"

    @property
    def certificate(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.der)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    def to_json(self) -> dict[str, object]:
        cert = self.certificate
        validity = cert["tbs_certificate"]["validity"]
        return {
            "subject": cert.subject.human_friendly,
            "sha256": self.fingerprint,
            "not_before": validity["not_before"].native.isoformat(),
            "not_after": validity["not_after"].native.isoformat(),
            "source": self.source,
        }


def store_dir() -> Path:
    return paths.data_dir() / "trust"


def read_pem_certificates(data: bytes, where: str) -> list[bytes]:
    """DER certificates from PEM (one or many) or a single DER certificate."""
    try:
        return certificates_from_bytes(data, where)
    except CertificateFileInvalid as exc:
        raise InputError(str(exc)) from exc


def _policy_anchors(location: str) -> list[Anchor]:
    path = Path(location)
    files = sorted(path.glob("*.pem")) + sorted(path.glob("*.crt")) if path.is_dir() else [path]
    out = []
    for f in files:
        try:
            data = f.read_bytes()
        except OSError as exc:
            raise CsosError(
                f"The trust anchors file {f} named by the `trust_anchors` setting cannot be "
                f"read ({exc.strerror}); ask IT to fix the machine policy."
            ) from exc
        out += [Anchor(d, "policy") for d in read_pem_certificates(data, str(f))]
    return out


def _locked() -> bool:
    return load_config().values["trust_anchors"].locked


def _stamp(path: Path) -> tuple[object, ...]:
    """What changes when the files at *path* (a file, or a directory of them) change."""
    try:
        if path.is_dir():
            entries = sorted(p for p in path.iterdir() if p.suffix in (".pem", ".crt"))
            return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in entries)
        st = path.stat()
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return ("unreadable",)


_held: dict[str, tuple[tuple[object, ...], list[Anchor], list[asn1_x509.Certificate]]] = {}
_held_lock = threading.Lock()


def _current(
    setting: ConfigValue | None = None,
) -> tuple[list[Anchor], list[asn1_x509.Certificate]]:
    """The anchors in force, read again only when their files changed: a signing session
    or a supplier's batch asks for every document, and parsing PEM costs milliseconds.

    *setting*: the ``trust_anchors`` value of the caller's run-time context (None: read
    the configuration here, for callers below services that are given no context)."""
    value = load_config().values["trust_anchors"] if setting is None else setting
    stamp = (
        value.value,
        value.locked,
        _stamp(Path(str(value.value))) if value.value else (),
        () if value.locked else _stamp(store_dir()),
    )
    where = str(store_dir())
    with _held_lock:
        held = _held.get(where)
    if held is not None and held[0] == stamp:
        return held[1], held[2]
    out = _policy_anchors(str(value.value)) if value.value else []
    if not value.locked and store_dir().is_dir():
        for f in sorted(store_dir().glob("*.pem")):
            out += [Anchor(d, "store") for d in read_pem_certificates(f.read_bytes(), str(f))]
    anchors = list({a.fingerprint: a for a in out}.values())
    certs = [a.certificate for a in anchors]
    with _held_lock:
        _held[where] = (stamp, anchors, certs)
    return anchors, certs


def list_anchors() -> list[Anchor]:
    """Every anchor in force: IT's (policy setting) and, unless locked, the user's store."""
    return list(_current()[0])


def anchor_certificates(setting: ConfigValue | None = None) -> list[asn1_x509.Certificate]:
    """The anchors' certificates; *setting* as for :func:`_current`."""
    return list(_current(setting)[1])


def add_anchor(data: bytes, where: str, *, now: datetime) -> list[Anchor]:
    """Put the CA certificates in *data* into the user's store; returns what was added."""
    if _locked():
        raise TrustStoreLocked(
            "The trust anchors are fixed by this computer's policy (`trust_anchors` is "
            "locked); ask IT to add the certificate."
        )
    added = []
    for der in read_pem_certificates(data, where):
        cert = asn1_x509.Certificate.load(der)
        if not cert.ca:
            raise InputError(
                f"{cert.subject.human_friendly} is not a CA certificate; trust anchors are "
                "the CA's root (and sub-CA) certificates, not your own certificate."
            )
        if cert["tbs_certificate"]["validity"]["not_after"].native < now:
            raise InputError(f"{cert.subject.human_friendly} has expired; it cannot be an anchor.")
        anchor = Anchor(der, "store")
        store_dir().mkdir(parents=True, exist_ok=True)
        write_atomically(store_dir() / f"{anchor.fingerprint}.pem", pem.armor("CERTIFICATE", der))
        added.append(anchor)
    return added


def remove_anchor(fingerprint: str) -> Anchor:
    """Remove the user's anchor whose SHA-256 fingerprint is (or starts with) *fingerprint*."""
    if _locked():
        raise TrustStoreLocked(
            "The trust anchors are fixed by this computer's policy; ask IT to change them."
        )
    wanted = fingerprint.lower().replace(":", "").strip()
    if len(wanted) < 8:
        raise InputError("Give at least 8 hex digits of the fingerprint (`csos trust list`).")
    matches = [
        a for a in list_anchors() if a.source == "store" and a.fingerprint.startswith(wanted)
    ]
    if len(matches) != 1:
        raise InputError(
            f"{'No' if not matches else 'More than one'} anchor in your store has a fingerprint "
            f"starting {wanted}; see `csos trust list`."
        )
    (store_dir() / f"{matches[0].fingerprint}.pem").unlink()
    return matches[0]
