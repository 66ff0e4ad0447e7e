"""A sandbox test CA issuing CSOS-profile certificates and CRLs (never for real orders).

The CA lives in one directory (see :mod:`ca_files`): `root.pem`, `chain.pem` (the
issuing CA), unencrypted `root-key.pem` / `ca-key.pem`, and `state.json` (issued
certificates, revocations, CRL numbers; see :mod:`ca_state`). State is re-read before
every operation and replaced atomically, so a running sandbox server and the
`csos sandbox ca` command can share one directory. CRLs are built in :mod:`ca_crl`,
TLS server certificates in :mod:`ca_tls`; this module issues subscriber certificates.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from csos_desktop.domain.dea import parse_dea_number
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.schedule import Schedule
from csos_desktop.sandbox.ca_certs import (
    BACKDATE,
    CaKey,
    SubjectKey,
    ca_name,
    dea_extensions,
    new_key,
    random_serial,
    sign_certificate,
    utc,
    with_subject_serial,
)
from csos_desktop.sandbox.ca_crl import REVOCATION_REASONS, build_crl, parse_reason
from csos_desktop.sandbox.ca_errors import (
    CaDirectoryExists,
    CsrInvalid,
    IssueRefused,
    NotACaDirectory,
    RevocationRefused,
)
from csos_desktop.sandbox.ca_files import (
    CaMaterial,
    read_ca_files,
    refuse_existing,
    write_ca_files,
)
from csos_desktop.sandbox.ca_state import STATE_FORMAT, CaState, IssuedCertificate, Revocation
from csos_desktop.sandbox.ca_tls import tls_server_certificate

# The public names callers import from here, wherever they now live.
__all__ = [
    "DEFAULT_CRL_URL",
    "DEFAULT_ROOT_CRL_URL",
    "REVOCATION_REASONS",
    "Algorithm",
    "CaDirectoryExists",
    "CsrInvalid",
    "IssueRefused",
    "IssuedCertificate",
    "NotACaDirectory",
    "Revocation",
    "RevocationRefused",
    "TestCa",
    "parse_reason",
]

Algorithm = Literal["p256", "rsa2048"]

# pyhanko-certvalidator's "hard-fail" mode only checks CRLs for certificates that
# declare a distribution point, so every certificate names one by default. The
# .invalid host (RFC 6761) never resolves: verifiers are handed the CRLs directly.
DEFAULT_CRL_URL = "http://csos-sandbox.invalid/crl/issuing.crl"
DEFAULT_ROOT_CRL_URL = "http://csos-sandbox.invalid/crl/root.crl"


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
        self._states = CaState(directory)

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
        refuse_existing(directory)
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
        write_ca_files(directory, CaMaterial(root_key, root, ca_key, issuing))
        ca = cls(directory, root_key, root, ca_key, issuing)
        ca._states.write(
            {
                "format": STATE_FORMAT,
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
        files = read_ca_files(directory)
        ca = cls(directory, files.root_key, files.root, files.ca_key, files.issuing)
        ca._states.read()  # fail now, not at the first issue
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
        return self._states.read()["crl_url"]  # type: ignore[no-any-return]

    @crl_url.setter
    def crl_url(self, url: str | None) -> None:
        with self._states.update() as state:
            state["crl_url"] = url

    @property
    def ocsp_url(self) -> str | None:
        """OCSP responder named (AIA) in subscriber certificates issued from now on.

        Validators consult OCSP only for certificates that name a responder.
        """
        url = self._states.read().get("ocsp_url")
        return None if url is None else str(url)

    @ocsp_url.setter
    def ocsp_url(self, url: str | None) -> None:
        with self._states.update() as state:
            state["ocsp_url"] = url

    @property
    def issued(self) -> tuple[IssuedCertificate, ...]:
        return self._states.issued()

    @property
    def revocations(self) -> tuple[Revocation, ...]:
        return self._states.revocations()

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
        with self._states.update() as state:
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
        return tls_server_certificate(
            self._issuing, self._ca_key, public_key, hosts=hosts, days=days, now=now
        )

    def revoke(
        self, serial: int, *, reason: str = "unspecified", when: datetime | None = None
    ) -> None:
        """Revoke a subscriber certificate (or the issuing CA itself, listed by the root)."""
        flag = parse_reason(reason)
        with self._states.update() as state:
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
        with self._states.update() as state:
            return build_crl(
                state,
                issuer=cert,
                key=key,
                by_root=by_root,
                this_update=utc(now),
                next_update_days=next_update_days,
            )
