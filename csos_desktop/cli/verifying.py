"""What `csos order verify` and `csos rx verify` share: arguments, trust material, the report."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn, Protocol, TypeVar

import click
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from csos_desktop.errors import InputError
from csos_desktop.pki.chain import load_crls
from csos_desktop.pki.signed_check import Finding
from csos_desktop.token.identity import load_certificates

F = TypeVar("F", bound=Callable[..., object])


class Verdict(Protocol):
    @property
    def accepted(self) -> bool: ...

    @property
    def findings(self) -> tuple[Finding, ...]: ...

    @property
    def warnings(self) -> tuple[str, ...]: ...

    def to_json(self) -> dict[str, object]: ...


def verify_arguments(fn: F) -> F:
    """DOCUMENT SIGNATURE --trust ROOT.pem [--crl FILE]... [--json]."""
    path = click.Path(dir_okay=False, exists=True, path_type=Path)
    for deco in reversed(
        (
            click.argument("document", type=path),
            click.argument("signature", type=path),
            click.option(
                "--trust",
                "trust_file",
                required=True,
                type=path,
                help="PEM file of trusted root certificate(s).",
            ),
            click.option(
                "--crl",
                "crl_files",
                multiple=True,
                type=path,
                help="CRL file (PEM or DER); repeat for each CA.",
            ),
            click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
        )
    ):
        fn = deco(fn)
    return fn


def load_trust(
    trust_file: Path, crl_files: Sequence[Path]
) -> tuple[list[asn1_x509.Certificate], list[asn1_crl.CertificateList]]:
    """Trusted roots and CRLs from files; unusable ones are InputError (exit 2)."""
    roots = [asn1_x509.Certificate.load(der) for der in load_certificates(trust_file)]
    try:
        return roots, load_crls([p.read_bytes() for p in crl_files])
    except ValueError as exc:
        raise InputError(str(exc)) from exc


V = TypeVar("V")


def verify_files(
    verify: Callable[..., V],
    document: Path,
    signature: Path,
    trust_file: Path,
    crl_files: Sequence[Path],
) -> V:
    """Run *verify* (verify_order or verify_prescription) on the files, now."""
    roots, crls = load_trust(trust_file, crl_files)
    return verify(
        document.read_bytes(),
        signature.read_bytes(),
        trust_roots=roots,
        crls=crls,
        now=datetime.now(UTC),
    )


def report(result: Verdict, as_json: bool, accepted_line: str) -> NoReturn:
    """Print the verdict (or JSON) and exit 0 accepted, 1 rejected."""
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        if result.accepted:
            click.echo(f"ACCEPTED: {accepted_line}")
        else:
            click.echo("REJECTED:")
            for f in result.findings:
                click.echo(f"  {f.reason.value}: {f.message}")
        for w in result.warnings:
            click.echo(f"warning: {w}", err=True)
    raise SystemExit(0 if result.accepted else 1)
