"""A sandbox test CA issuing CSOS-profile certificates and CRLs (never for real orders).

The CA lives in one directory: `root.pem`, `chain.pem` (the issuing CA),
unencrypted `root-key.pem` / `ca-key.pem`, and `state.json` (issued
certificates, revocations, CRL numbers). State is re-read before every
operation and replaced atomically, so a running sandbox server and the
`csos sandbox ca` command can share one directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    NameOID,
)

from csos_desktop.domain.dea import parse_dea_number
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.domain.schedule import Schedule
from csos_desktop.sandbox.ca_certs import (
    BACKDATE,
    CaKey,
    SubjectKey,
    ca_name,
    dea_extensions,
    key_usage,
    new_key,
    random_serial,
    sign_certificate,
    ski,
    utc,
    with_subject_serial,
)

Algorithm = Literal["p256", "rsa2048"]

# pyhanko-certvalidator's "hard-fail" mode only checks CRLs for certificates that
# declare a distribution point, so every certificate names one by default. The
# .invalid host (RFC 6761) never resolves: verifiers are handed the CRLs directly.
DEFAULT_CRL_URL = "http://csos-sandbox.invalid/crl/issuing.crl"
DEFAULT_ROOT_CRL_URL = "http://csos-sandbox.invalid/crl/root.crl"
_FILES = ("root.pem", "chain.pem", "root-key.pem", "ca-key.pem", "state.json")
_STATE_FORMAT = "csos-sandbox-ca/1"
# RFC 5280 reason names; removeFromCRL only belongs in delta CRLs, which we do not issue.
REVOCATION_REASONS: dict[str, x509.ReasonFlags] = {
    f.value: f for f in x509.ReasonFlags if f is not x509.ReasonFlags.remove_from_crl
}
_README = """\
CSOS SANDBOX TEST CA -- FOR DEMOS AND TESTS ONLY.
The private keys here (root-key.pem, ca-key.pem) are NOT encrypted. Certificates issued
here are not DEA CSOS certificates: never sign a real controlled-substance order with one.
root.pem = trust anchor; chain.pem = issuing CA; state.json = issued, revoked, CRL numbers.
"""


class CaDirectoryExists(InputError):
    """`init` was pointed at a directory that already holds a CA."""


class NotACaDirectory(InputError):
    """A directory is missing CA files or they are unreadable."""


class CsrInvalid(InputError):
    """A certificate request cannot be parsed, is unsigned, or uses an unsupported key."""


class IssueRefused(InputError):
    """The registrant data or validity asked for cannot go into a certificate."""


class RevocationRefused(InputError):
    """Unknown serial, already revoked, or an unknown reason name."""


@dataclass(frozen=True)
class IssuedCertificate:
    """One row of the CA's issue log."""

    serial: int
    subject: str
    dea_number: str
    schedules: frozenset[Schedule]
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class Revocation:
    """One revocation; `by_root` is true for the issuing CA itself."""

    serial: int
    reason: str
    date: datetime
    by_root: bool = False


def parse_reason(name: str) -> x509.ReasonFlags:
    """Map an RFC 5280 reason name (`keyCompromise`, `key_compromise`, any case) to a flag."""
    key = name.replace("_", "").replace("-", "").lower()
    for rfc_name, flag in REVOCATION_REASONS.items():
        if rfc_name.lower() == key:
            return flag
    raise RevocationRefused(
        f"unknown revocation reason {name!r}; use one of {', '.join(REVOCATION_REASONS)}"
    )


class TestCa:
    """A two-level test PKI (root → issuing CA → subscriber) kept in one directory."""

    __test__: ClassVar[bool] = False  # the name starts with "Test"; pytest must not collect it

    def __init__(
        self,
        directory: Path,
        root_key: CaKey,
        root: x509.Certificate,
        ca_key: CaKey,
        issuing: x509.Certificate,
    ) -> None:
        self._dir = directory
        self._root_key, self._root = root_key, root
        self._ca_key, self._issuing = ca_key, issuing
        self._lock = threading.Lock()

    @classmethod
    def init(
        cls,
        directory: Path,
        *,
        now: datetime | None = None,
        algorithm: Algorithm = "p256",
        name_prefix: str = "CSOS Sandbox",
        crl_url: str | None = DEFAULT_CRL_URL,
        root_crl_url: str | None = DEFAULT_ROOT_CRL_URL,
    ) -> TestCa:
        """Create a root CA (20 y) and an issuing CA (10 y) in `directory`.

        `crl_url` goes into subscriber certificates, `root_crl_url` into the issuing
        CA's; None leaves the distribution point out.
        """
        directory = Path(directory)
        existing = [f for f in (*_FILES, "README.txt") if (directory / f).exists()]
        if existing:
            raise CaDirectoryExists(
                f"{directory} already holds a test CA ({', '.join(existing)}); "
                "choose an empty directory or delete that one first"
            )
        start = utc(now) - BACKDATE
        root_key, ca_key = new_key(algorithm), new_key(algorithm)
        root_name = ca_name(name_prefix, "Root CA")
        root = sign_certificate(
            root_name,
            root_key.public_key(),
            None,
            root_key,
            serial=random_serial(),
            start=start,
            end=start + timedelta(days=20 * 365 + 5),
            ca=True,
        )
        # The CSOS policy on the issuing CA lets a verifier demand it (explicit policy).
        issuing = sign_certificate(
            ca_name(name_prefix, "Issuing CA"),
            ca_key.public_key(),
            root,
            root_key,
            serial=random_serial({root.serial_number}),
            start=start,
            end=start + timedelta(days=10 * 365 + 2),
            ca=True,
            path_length=0,
            crl_url=root_crl_url,
        )
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for fname, key in (("root-key.pem", root_key), ("ca-key.pem", ca_key)):
                pem = key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                # O_EXCL: never clobber a key another process just wrote.
                fd = os.open(directory / fname, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(pem)
            (directory / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
            (directory / "chain.pem").write_bytes(issuing.public_bytes(serialization.Encoding.PEM))
            (directory / "README.txt").write_text(_README, encoding="utf-8")
        except FileExistsError as exc:
            raise CaDirectoryExists(f"{directory} already holds a test CA") from exc
        except OSError as exc:
            raise InputError(f"cannot create the test CA in {directory}: {exc.strerror}") from exc
        ca = cls(directory, root_key, root, ca_key, issuing)
        ca._write_state(
            {
                "format": _STATE_FORMAT,
                "algorithm": algorithm,
                "crl_url": crl_url,
                "crl_number": 0,
                "root_crl_number": 0,
                "issued": [],
                "revoked": [],
            }
        )
        return ca

    @classmethod
    def load(cls, directory: Path) -> TestCa:
        """Open an existing CA directory; raises NotACaDirectory with what is wrong."""
        directory = Path(directory)
        if not directory.is_dir():
            raise NotACaDirectory(
                f"{directory} is not a directory; create a CA with `csos sandbox ca init --dir DIR`"
            )
        missing = [f for f in _FILES if not (directory / f).is_file()]
        if missing:
            raise NotACaDirectory(
                f"{directory} is not a test CA directory (missing {', '.join(missing)})"
            )
        try:
            root = x509.load_pem_x509_certificate((directory / "root.pem").read_bytes())
            issuing = x509.load_pem_x509_certificate((directory / "chain.pem").read_bytes())
            keys = [
                serialization.load_pem_private_key((directory / f).read_bytes(), None)
                for f in ("root-key.pem", "ca-key.pem")
            ]
        except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise NotACaDirectory(
                f"the test CA files in {directory} are unreadable: {exc}"
            ) from exc
        root_key, ca_key = keys
        if not (
            isinstance(root_key, CaKey)
            and isinstance(ca_key, CaKey)
            and root_key.public_key() == root.public_key()
            and ca_key.public_key() == issuing.public_key()
        ):
            raise NotACaDirectory(f"the keys in {directory} do not match its certificates")
        ca = cls(directory, root_key, root, ca_key, issuing)
        ca._read_state()  # fail now, not at the first issue
        return ca

    @property
    def directory(self) -> Path:
        return self._dir

    @property
    def root_certificate(self) -> x509.Certificate:
        return self._root

    @property
    def issuing_certificate(self) -> x509.Certificate:
        return self._issuing

    @property
    def crl_url(self) -> str | None:
        """CRL distribution point put in subscriber certificates issued from now on."""
        return self._read_state()["crl_url"]  # type: ignore[no-any-return]

    @crl_url.setter
    def crl_url(self, url: str | None) -> None:
        with self._state() as state:
            state["crl_url"] = url

    @property
    def ocsp_url(self) -> str | None:
        """OCSP responder named (AIA) in subscriber certificates issued from now on.

        Validators consult OCSP only for certificates that name a responder.
        """
        url = self._read_state().get("ocsp_url")
        return None if url is None else str(url)

    @ocsp_url.setter
    def ocsp_url(self, url: str | None) -> None:
        with self._state() as state:
            state["ocsp_url"] = url

    @property
    def issued(self) -> tuple[IssuedCertificate, ...]:
        return tuple(
            IssuedCertificate(
                r["serial"],
                r["subject"],
                r["dea_number"],
                frozenset(Schedule(s) for s in r["schedules"]),
                datetime.fromisoformat(r["not_before"]),
                datetime.fromisoformat(r["not_after"]),
            )
            for r in self._read_state()["issued"]
        )

    @property
    def revocations(self) -> tuple[Revocation, ...]:
        return tuple(
            Revocation(
                r["serial"], r["reason"], datetime.fromisoformat(r["date"]), r.get("by_root", False)
            )
            for r in self._read_state()["revoked"]
        )

    def issue(
        self,
        csr_pem_or_der: bytes,
        *,
        dea_number: str,
        schedules: frozenset[Schedule],
        days: int = 365,
        now: datetime | None = None,
        not_before: datetime | None = None,
    ) -> x509.Certificate:
        """Issue a subscriber certificate for a PKCS#10 request (its subject is kept)."""
        data = csr_pem_or_der
        try:
            # Only PEM may be stripped: DER can end in bytes that look like whitespace.
            csr = (
                x509.load_pem_x509_csr(data)
                if data.lstrip().startswith(b"-----BEGIN")
                else x509.load_der_x509_csr(data)
            )
            valid, key = csr.is_signature_valid, csr.public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise CsrInvalid(
                "the file is not a readable certificate signing request (PKCS#10, PEM or DER)"
            ) from exc
        if not valid:
            raise CsrInvalid(
                "the request's signature does not verify: it was altered or not "
                "signed by the key it carries; make a new request on the token"
            )
        if not isinstance(key, SubjectKey):
            raise CsrInvalid("the request's key type is not supported; use RSA or ECDSA")
        return self.issue_for_public_key(
            key,
            subject=csr.subject,
            dea_number=dea_number,
            schedules=schedules,
            days=days,
            now=now,
            not_before=not_before,
        )

    def issue_for_public_key(
        self,
        public_key: SubjectKey,
        *,
        subject: x509.Name,
        dea_number: str,
        schedules: frozenset[Schedule],
        days: int = 365,
        now: datetime | None = None,
        not_before: datetime | None = None,
        business_activity: str = "Retail Pharmacy",
        postal_address: tuple[str, ...] = ("TEST ONLY",),
    ) -> x509.Certificate:
        """Issue directly for a key (tests). Validity: `not_before` (default now - 5 min)
        to `not_before + days` if given, else `now + days`. The subject gets a
        serialNumber when it has none; the DEA number goes in only as its hash."""
        if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < 2048:
            raise CsrInvalid(
                f"RSA keys must be at least 2048 bits (this one has {public_key.key_size})"
            )
        if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.name not in (
            "secp256r1",
            "secp384r1",
            "secp521r1",
        ):
            raise CsrInvalid(f"elliptic curve {public_key.curve.name} is not FIPS 186 approved")
        if len(subject) == 0:
            raise IssueRefused("the request has an empty subject; put the registrant's name in it")
        dea = parse_dea_number(dea_number).value  # raises DeaNumberInvalid (InputError)
        if not schedules:
            raise IssueRefused("a CSOS certificate needs at least one schedule")
        if days < 1:
            raise IssueRefused(
                "days must be 1 or more; use not_before/now for expired or future certificates"
            )
        start = utc(not_before) if not_before else utc(now) - BACKDATE
        end = (start if not_before else utc(now)) + timedelta(days=days)
        subject, subject_serial = with_subject_serial(subject)
        cn = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        dea_exts = dea_extensions(
            dea_number=dea,
            subject_serial=subject_serial,
            schedules=schedules,
            registrant_name=str(cn[-1].value) if cn else subject.rfc4514_string(),
            business_activity=business_activity,
            postal_address=postal_address,
        )
        with self._state() as state:
            taken = {r["serial"] for r in state["issued"]}
            serial = random_serial(taken | {self._root.serial_number, self._issuing.serial_number})
            ocsp = state.get("ocsp_url")
            aia = (
                ()
                if not ocsp
                else (
                    x509.AuthorityInformationAccess(
                        [
                            x509.AccessDescription(
                                AuthorityInformationAccessOID.OCSP,
                                x509.UniformResourceIdentifier(ocsp),
                            )
                        ]
                    ),
                )
            )
            cert = sign_certificate(
                subject,
                public_key,
                self._issuing,
                self._ca_key,
                serial=serial,
                start=start,
                end=end,
                ca=False,
                crl_url=state["crl_url"],
                extensions=(*dea_exts, *aia),
            )
            state["issued"].append(
                {
                    "serial": serial,
                    "subject": subject.rfc4514_string(),
                    "subject_serial": subject_serial,
                    "dea_number": dea,
                    "schedules": [s.value for s in sorted(schedules, key=lambda s: s.sort_key)],
                    "not_before": start.isoformat(),
                    "not_after": end.isoformat(),
                }
            )
        return cert

    def issue_tls_server(
        self,
        public_key: SubjectKey,
        *,
        hosts: tuple[str, ...],
        days: int = 90,
        now: datetime | None = None,
    ) -> x509.Certificate:
        """A TLS server certificate from the issuing CA for `hosts` (DNS names or IPs).

        Not logged in state.json: it carries no registrant data and is never a
        CSOS certificate. Serve it with `issuing_certificate` as the chain.
        """
        import ipaddress

        if not hosts or days < 1:
            raise IssueRefused("a TLS server certificate needs at least one host and 1+ days")
        names: list[x509.GeneralName] = []
        for host in dict.fromkeys(hosts):
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        start = utc(now) - BACKDATE
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TEST ONLY"),
            ]
        )
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._issuing.subject)
            .public_key(public_key)
            .serial_number(random_serial())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage("digital_signature", "key_encipherment"), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski(self._issuing)),
                critical=False,
            )
            .sign(self._ca_key, hashes.SHA256())
        )

    def revoke(
        self, serial: int, *, reason: str = "unspecified", when: datetime | None = None
    ) -> None:
        """Revoke a subscriber certificate (or the issuing CA itself, listed by the root)."""
        flag = parse_reason(reason)
        with self._state() as state:
            by_root = serial == self._issuing.serial_number
            if not by_root and all(r["serial"] != serial for r in state["issued"]):
                raise RevocationRefused(
                    f"this CA never issued a certificate with serial {serial} (0x{serial:x})"
                )
            if any(r["serial"] == serial for r in state["revoked"]):
                raise RevocationRefused(f"certificate {serial} (0x{serial:x}) is already revoked")
            state["revoked"].append(
                {
                    "serial": serial,
                    "reason": flag.value,
                    "date": utc(when).isoformat(),
                    "by_root": by_root,
                }
            )

    def crl(
        self, *, now: datetime | None = None, next_update_days: int = 7
    ) -> x509.CertificateRevocationList:
        """The issuing CA's CRL of subscriber certificates; each call takes a new CRL number."""
        return self._make_crl(by_root=False, now=now, next_update_days=next_update_days)

    def root_crl(
        self, *, now: datetime | None = None, next_update_days: int = 7
    ) -> x509.CertificateRevocationList:
        """The root's CRL covering the issuing CA (empty unless it was revoked)."""
        return self._make_crl(by_root=True, now=now, next_update_days=next_update_days)

    def _make_crl(
        self, *, by_root: bool, now: datetime | None, next_update_days: int
    ) -> x509.CertificateRevocationList:
        if next_update_days < 1:
            raise InputError("next_update_days must be 1 or more")
        cert, key = (self._root, self._root_key) if by_root else (self._issuing, self._ca_key)
        counter = "root_crl_number" if by_root else "crl_number"
        this_update = utc(now)
        with self._state() as state:
            state[counter] += 1
            builder = (
                x509.CertificateRevocationListBuilder()
                .issuer_name(cert.subject)
                .last_update(this_update)
                .next_update(this_update + timedelta(days=next_update_days))
                .add_extension(x509.CRLNumber(state[counter]), critical=False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski(cert)),
                    critical=False,
                )
            )
            for r in state["revoked"]:
                if r.get("by_root", False) != by_root:
                    continue
                entry = (
                    x509.RevokedCertificateBuilder()
                    .serial_number(r["serial"])
                    .revocation_date(datetime.fromisoformat(r["date"]))
                )
                # RFC 5280 5.3.1: leave the reason out rather than say "unspecified".
                if r["reason"] != x509.ReasonFlags.unspecified.value:
                    entry = entry.add_extension(
                        x509.CRLReason(REVOCATION_REASONS[r["reason"]]), critical=False
                    )
                builder = builder.add_revoked_certificate(entry.build())
        return builder.sign(key, hashes.SHA256())

    def _read_state(self) -> dict[str, Any]:
        path = self._dir / "state.json"
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise NotACaDirectory(f"cannot read the test CA state {path}: {exc}") from exc
        if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
            raise NotACaDirectory(f"{path} is not a test CA state file ({_STATE_FORMAT})")
        return state

    def _write_state(self, state: dict[str, Any]) -> None:
        path = self._dir / "state.json"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        try:
            tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        except OSError as exc:
            raise CsosError(f"cannot save the test CA state {path}: {exc.strerror}") from exc

    @contextlib.contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write state.json under a thread lock and, on POSIX, a file lock."""
        with self._lock, open(self._dir / ".lock", "a+b") as lock_file:
            if sys.platform != "win32":
                import fcntl

                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            state = self._read_state()
            yield state
            self._write_state(state)
