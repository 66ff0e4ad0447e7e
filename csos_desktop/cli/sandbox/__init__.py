"""`csos sandbox ...`: the reference distributor and test CA (for demos and tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from csos_desktop.cli.common import run_cli
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.schedule import Schedule, parse_schedule_list
from csos_desktop.sandbox.ca import (
    DEFAULT_CRL_URL,
    DEFAULT_ROOT_CRL_URL,
    TestCa,
    parse_reason,
)
from csos_desktop.sandbox.softhsm import create_token


@click.group()
def sandbox() -> None:
    """Test CA and reference distributor for demos and tests (never for real orders)."""


@sandbox.group()
def ca() -> None:
    """A test CA issuing CSOS-profile certificates and CRLs (TEST ONLY)."""


_DIR = click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory holding the test CA.",
)


def _schedules(_ctx: click.Context, _param: click.Parameter, value: str) -> frozenset[Schedule]:
    try:
        return parse_schedule_list(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _serial(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    text = value.strip().lower()
    try:
        serial = int(text, 16) if text.startswith("0x") else int(text, 10)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a serial number (decimal or 0x-hex)") from exc
    if serial <= 0:
        raise click.BadParameter("a serial number is positive")
    return serial


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from exc


@ca.command("init")
@_DIR
@click.option(
    "--algorithm",
    type=click.Choice(["p256", "rsa2048"]),
    default="p256",
    show_default=True,
    help="Key type of the root and issuing CA.",
)
@click.option(
    "--crl-url",
    default=DEFAULT_CRL_URL,
    show_default=True,
    help="CRL distribution point put in issued certificates ('' for none).",
)
@click.option(
    "--root-crl-url",
    default=DEFAULT_ROOT_CRL_URL,
    show_default=True,
    help="CRL distribution point put in the issuing CA certificate ('' for none).",
)
@run_cli
def ca_init(directory: Path, algorithm: str, crl_url: str, root_crl_url: str) -> None:
    """Create a root CA and an issuing CA in an empty directory."""
    test_ca = TestCa.init(
        directory,
        algorithm="rsa2048" if algorithm == "rsa2048" else "p256",
        crl_url=crl_url or None,
        root_crl_url=root_crl_url or None,
    )
    click.echo(f"test CA created in {directory}")
    click.echo(f"  root:       {test_ca.root_certificate.subject.rfc4514_string()}")
    click.echo(f"  issuing CA: {test_ca.issuing_certificate.subject.rfc4514_string()}")
    click.echo("  the private keys are NOT encrypted: use this CA for tests only")


@ca.command("issue")
@_DIR
@click.option(
    "--csr",
    "csr_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PKCS#10 request (PEM or DER).",
)
@click.option("--dea", required=True, help="Registrant's DEA number.")
@click.option(
    "--schedules",
    required=True,
    callback=_schedules,
    help="Schedules the registrant may order, e.g. 2,2N,3,3N,4,5.",
)
@click.option("--days", default=365, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the certificate (PEM).",
)
@run_cli
def ca_issue(
    directory: Path, csr_path: Path, dea: str, schedules: frozenset[Schedule], days: int, out: Path
) -> None:
    """Issue a CSOS-profile certificate for a certificate request."""
    test_ca = TestCa.load(directory)
    cert = test_ca.issue(csr_path.read_bytes(), dea_number=dea, schedules=schedules, days=days)
    _write(out, cert.public_bytes(serialization.Encoding.PEM))
    click.echo(f"serial:  {cert.serial_number} (0x{cert.serial_number:x})")
    names = {NameOID.SERIAL_NUMBER: "serialNumber"}
    click.echo(f"subject: {cert.subject.rfc4514_string(names)}")
    click.echo(f"written: {out}")


@ca.command("revoke")
@_DIR
@click.option("--serial", required=True, callback=_serial, help="Decimal or 0x-hex.")
@click.option(
    "--reason",
    default="unspecified",
    show_default=True,
    help="RFC 5280 reason, e.g. keyCompromise, cessationOfOperation, superseded.",
)
@run_cli
def ca_revoke(directory: Path, serial: int, reason: str) -> None:
    """Revoke a certificate this CA issued (it appears on the next CRL)."""
    flag = parse_reason(reason)
    TestCa.load(directory).revoke(serial, reason=flag.value)
    click.echo(f"revoked {serial} (0x{serial:x}): {flag.value}")


@ca.command("crl")
@_DIR
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the CRL (PEM).",
)
@click.option("--root", "root", is_flag=True, help="The root's CRL (covers the issuing CA).")
@click.option("--next-update-days", default=7, show_default=True, type=click.IntRange(min=1))
@run_cli
def ca_crl(directory: Path, out: Path, root: bool, next_update_days: int) -> None:
    """Write a fresh CRL of the issuing CA (or of the root with --root)."""
    test_ca = TestCa.load(directory)
    crl = (test_ca.root_crl if root else test_ca.crl)(next_update_days=next_update_days)
    _write(out, crl.public_bytes(serialization.Encoding.PEM))
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    click.echo(
        f"CRL number {number} of {crl.issuer.rfc4514_string()}: "
        f"{len(crl)} revoked, next update {crl.next_update_utc:%Y-%m-%d %H:%M} UTC"
    )
    click.echo(f"written: {out}")


@sandbox.group("token")
def token_group() -> None:
    """SoftHSM2 test tokens (a real user inserts a USB token or smart card instead)."""


@token_group.command("create")
@click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the token files and softhsm2.conf.",
)
@click.option("--label", required=True, help="Token label, e.g. my-token.")
@click.option("--pin-stdin", is_flag=True, help="Read the new PIN from standard input.")
@run_cli
def token_create(directory: Path, label: str, pin_stdin: bool) -> None:
    """Create a SoftHSM2 token; the PIN is asked (set through PKCS#11, never on a command line)."""
    if pin_stdin:
        pin = sys.stdin.readline().rstrip("\r\n")
    else:
        pin = click.prompt(
            "New PIN for the token", hide_input=True, confirmation_prompt=True, err=True
        )
    if len(pin) < 4:
        raise InputError("Choose a PIN of at least 4 characters.")
    made = create_token(directory.resolve(), label, pin)
    del pin
    click.echo(f"Token '{label}' created. Point csos at it with:")
    click.echo(f"  export SOFTHSM2_CONF={made.conf}")
    click.echo(f"  export CSOS_PKCS11_MODULE={made.module}")
    # A software token signs EPCS only where the machine policy allows it (a test machine).
    click.echo(
        "To sign test prescriptions with it, IT (root) allows software tokens on this machine:"
        "\n  sudo csos config write-policy --set allow_software_tokens=true"
        "\nand lets revocation data be fetched from the sandbox CA on this machine:"
        "\n  sudo csos config write-policy --set allow_private_revocation_urls=true"
    )
