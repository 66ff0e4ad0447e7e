"""What `csos order verify` and `csos rx verify` share: arguments, trust material, the report."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, NoReturn, Protocol, TypeVar

import click

from csos_desktop.domain.errors import InputError

if TYPE_CHECKING:  # certvalidator, asn1crypto and the trust store load when a command verifies
    from asn1crypto import crl as asn1_crl
    from asn1crypto import x509 as asn1_x509

    from csos_desktop.pki.signed_check import Finding
    from csos_desktop.trust.revocation import RevocationData

F = TypeVar("F", bound=Callable[..., object])


class Verdict(Protocol):
    @property
    def accepted(self) -> bool: ...

    @property
    def findings(self) -> tuple[Finding, ...]: ...

    @property
    def warnings(self) -> tuple[str, ...]: ...

    def to_json(self) -> dict[str, object]: ...


def verify_arguments(fn: F, *, one_file_ok: bool = False) -> F:
    """DOCUMENT SIGNATURE [--trust ROOT.pem] [--crl FILE]... [--offline] [--json].

    *one_file_ok*: SIGNATURE may be left out when DOCUMENT is a signature that holds its
    document (a signed X12 order, ``.p7m``).
    """
    path = click.Path(dir_okay=False, exists=True, path_type=Path)
    for deco in reversed(
        (
            click.argument("document", type=path),
            click.argument("signature", type=path, required=not one_file_ok),
            click.option(
                "--trust",
                "trust_file",
                type=path,
                help="PEM file of trusted root certificate(s) (default: the trust store, "
                "`csos trust list`).",
            ),
            click.option(
                "--crl",
                "crl_files",
                multiple=True,
                type=path,
                help="CRL file (PEM or DER); repeat for each CA. Default: the CRLs the "
                "certificates name, fetched and cached (and OCSP).",
            ),
            click.option(
                "--offline",
                is_flag=True,
                help="Use only cached CRLs; never fetch (no current data: revocation-unknown).",
            ),
            click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
        )
    ):
        fn = deco(fn)
    return fn


def trust_roots(trust_file: Path | None) -> list[asn1_x509.Certificate]:
    """Roots from --trust, else the trust store; none at all is InputError (exit 2)."""
    from asn1crypto import x509 as asn1_x509

    from csos_desktop.pki.certfile import load_certificates
    from csos_desktop.services.context import current

    if trust_file is not None:
        return [asn1_x509.Certificate.load(der) for der in load_certificates(trust_file)]
    roots = current().trust_anchors()
    if not roots:
        raise InputError(
            "No trust anchor is configured. Install the DEA's E-Commerce Root CA and CSOS "
            "Sub CA certificates with `csos trust add FILE` (IT: the `trust_anchors` "
            "policy setting), or give --trust ROOT.pem."
        )
    return roots


def load_crl_files(crl_files: Sequence[Path]) -> list[asn1_crl.CertificateList]:
    from csos_desktop.pki.chain import load_crls

    try:
        return load_crls([p.read_bytes() for p in crl_files])
    except ValueError as exc:
        raise InputError(str(exc)) from exc


V = TypeVar("V")


@dataclass(frozen=True)
class Verified(Generic[V]):
    result: V
    notes: tuple[str, ...]


def verify_files(
    verify: Callable[..., V],
    document: Path,
    signature: Path,
    trust_file: Path | None,
    crl_files: Sequence[Path],
    *,
    offline: bool = False,
) -> Verified[V]:
    """Run *verify* (verify_order or verify_prescription) on the files, now.

    With --crl, exactly those CRLs; otherwise the revocation data the certificates
    name, fetched or cached, and no current data at all rejects (1305.22(c)(3)).
    """
    return verify_bytes(
        verify,
        document.read_bytes(),
        signature.read_bytes(),
        trust_file,
        crl_files,
        offline=offline,
    )


def verify_bytes(
    verify: Callable[..., V],
    doc: bytes,
    sig: bytes,
    trust_file: Path | None,
    crl_files: Sequence[Path],
    *,
    offline: bool = False,
) -> Verified[V]:
    """``verify_files`` on bytes already read (a signed order split from its .p7m)."""
    from csos_desktop.trust.revocation import RevocationData

    roots = trust_roots(trust_file)
    now = datetime.now(UTC)
    data = (
        RevocationData(tuple(load_crl_files(crl_files)))
        if crl_files
        else revocation_for(sig, roots, now=now, offline=offline)
    )
    result = verify(
        doc,
        sig,
        trust_roots=roots,
        crls=data.crls,
        ocsps=data.ocsps,
        now=now,
        require_revocation=not crl_files,
    )
    return Verified(result, data.notes)


def revocation_for(
    signature: bytes,
    roots: Sequence[asn1_x509.Certificate],
    *,
    now: datetime,
    offline: bool,
) -> RevocationData:
    """Fetched or cached revocation data for the signer of *signature* (none if unreadable)."""
    from csos_desktop.pki.cms_parse import MalformedSignature, parse_signed_data
    from csos_desktop.trust.revocation import RevocationData, RevocationSource

    try:
        parsed = parse_signed_data(signature)
    except MalformedSignature:
        return RevocationData()  # the verifier reports the malformed signature
    source = RevocationSource()
    return source.for_path(
        parsed.signer, parsed.other_certificates, roots, now=now, offline=offline
    )


def report(
    result: Verdict, as_json: bool, accepted_line: str, notes: Sequence[str] = ()
) -> NoReturn:
    """Print the verdict (or JSON) and exit 0 accepted, 1 rejected."""
    if as_json:
        click.echo(json.dumps(result.to_json() | {"revocation_notes": list(notes)}, indent=2))
    else:
        if result.accepted:
            click.echo(f"ACCEPTED: {accepted_line}")
        else:
            click.echo("REJECTED:")
            for f in result.findings:
                click.echo(f"  {f.reason.value}: {f.message}")
        for w in result.warnings:
            click.echo(f"warning: {w}", err=True)
        for n in notes:
            click.echo(f"revocation: {n}", err=True)
    raise SystemExit(0 if result.accepted else 1)
