"""`csos enrol ...`: getting a CSOS certificate onto the token.

`csos enrol --ca-url URL --reference-number R` runs the whole enrolment; the
subcommands cover the offline path (`csr`, `import`), `renew` and `cleanup`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from asn1crypto import pem

from csos_desktop import paths
from csos_desktop.cli.common import run_cli
from csos_desktop.cli.signing import TokenChoice, log_in_or_cancel, open_signing, token_target
from csos_desktop.cli.terminal import TerminalInteraction
from csos_desktop.config import load_config
from csos_desktop.domain.enrolment import KeyAlgorithm, Step
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.pki.certfile import load_certificates
from csos_desktop.services.audit.events import record_certificate_installed
from csos_desktop.services.enrol.certificates import ca_client, chosen_ca, renew_certificate
from csos_desktop.services.enrol.enrolment import (
    Enrolled,
    OneTimeCodes,
    TokenSession,
    check_codes,
    enrol_on_token,
    import_issued_certificate,
    logged_in_session,
    read_issued_certificate,
    remove_unfinished_keys,
    resumes_an_enrolment,
    unfinished_keys,
    write_request,
)
from csos_desktop.services.interaction import Cancelled
from csos_desktop.services.signing import SigningPurpose

_MODULE = click.option("--module", help="Path of the PKCS#11 driver (default: detected).")
_TOKEN = click.option("--token", "label", help="Label of the token to use.")
_PIN = click.option("--pin-stdin", is_flag=True, help="Read the PIN from a line of standard input.")
_ALG = click.option(
    "--algorithm",
    type=click.Choice(["rsa2048", "p256"]),
    default=None,
    help="Key type (default rsa2048; renew: same as the current key).",
)
_BUNDLE = click.option(
    "--ca-bundle",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="PEM root certificate(s) to trust for the CA's TLS (default: the system store).",
)


@contextmanager
def logged_in(
    module: str | None, label: str | None, pin_stdin: bool, what: str
) -> Iterator[TokenSession]:
    """A read-write session after one PIN entry; the PIN goes straight to the token."""
    interaction = TerminalInteraction(pin_from_stdin=pin_stdin)
    try:
        ts = logged_in_session(token_target(module, label, None), interaction)
    except Cancelled:
        raise Cancelled(f"{what} was cancelled; nothing was changed.") from None
    with ts:
        yield ts


def read_secret(prompt: str) -> str:
    """A line from the terminal without echo, or from standard input when it is not one."""
    if sys.stdin.isatty():
        value: str = click.prompt(prompt, hide_input=True, err=True)
        return value.strip()
    return sys.stdin.readline().strip()


def _progress(step: Step) -> None:
    click.echo(f"{step.value}...", err=True)


def _report(done: Enrolled, token_label: str, as_json: bool, verb: str) -> None:
    try:
        record_certificate_installed(
            how=verb,
            subject=done.info.subject,
            dea_number=done.dea_number,
            serial=done.info.serial_number,
            not_after=done.info.not_after,
            key_id=done.key_id.hex(),
        )
    except CsosError as exc:
        click.echo(
            f"warning: the certificate is installed, but the audit log could not record "
            f"it: {exc.message}",
            err=True,
        )
    schedules = sorted(s.value for s in done.info.schedules)
    row = {
        "id": done.key_id.hex(),
        "label": done.label,
        "subject": done.info.subject,
        "dea_number": done.dea_number,
        "schedules": schedules,
        "serial_number": done.info.serial_number,
        "not_after": done.info.not_after.isoformat(),
        "resumed": done.resumed,
        "chain_file": str(paths.chain_file()),
    }
    if as_json:
        click.echo(json.dumps({"token": token_label, "certificate": row}, indent=2))
        return
    click.echo(f"{verb} on token '{token_label}':")
    click.echo(
        f"  {done.info.subject}, DEA number {done.dea_number}, schedules {', '.join(schedules)}"
    )
    click.echo(
        f"  valid until {done.info.not_after:%Y-%m-%d}; id {done.key_id.hex()}; label {done.label}"
    )


def _algorithm(name: str | None) -> KeyAlgorithm | None:
    return None if name is None else KeyAlgorithm(name)


@click.group(invoke_without_command=True)
@click.option("--ca-url", help="The CA's EST address, e.g. https://ca.example:8443.")
@click.option("--reference-number", help="Reference number from the CA's letter.")
@_BUNDLE
@_MODULE
@_TOKEN
@_ALG
@click.option("--dea", "expected_dea", help="Your DEA number, checked against the CA's record.")
@_PIN
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@run_cli
def enrol(
    ctx: click.Context,
    ca_url: str | None,
    reference_number: str | None,
    ca_bundle: Path | None,
    module: str | None,
    label: str | None,
    algorithm: str | None,
    expected_dea: str | None,
    pin_stdin: bool,
    as_json: bool,
) -> None:
    """Enrol for a CSOS certificate with the CA's one-time codes (key made on the token)."""
    if ctx.invoked_subcommand is not None:
        return
    if not ca_url or not reference_number:
        raise click.UsageError(
            "give --ca-url and --reference-number (or a subcommand: csr, import, renew, cleanup)"
        )
    # Never an option: a one-time code on the command line is in the process list and
    # the shell history. Asked without echo, or the first line of standard input.
    code = read_secret("Authorisation code")
    if not code:
        raise InputError("No authorisation code was given; it is in the CA's letter or e-mail.")
    codes = OneTimeCodes(reference_number, code)
    if not resumes_an_enrolment(reference_number):
        # Wrong, used or expired codes are refused here, before the PIN is asked (a resumed
        # enrolment skips this: its codes may already be spent on its key).
        check_codes(ca_url, ca_bundle, codes)
    with (
        ca_client(ca_url, ca_bundle) as client,
        logged_in(module, label, pin_stdin, "Enrolment") as ts,
    ):
        done = enrol_on_token(
            ts,
            client,
            codes,
            algorithm=_algorithm(algorithm) or KeyAlgorithm.RSA2048,
            expected_dea=expected_dea,
            progress=_progress,
        )
        token_label = ts.info.label
    _report(done, token_label, as_json, "Certificate installed")


@enrol.command("csr")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the request (PEM).",
)
@click.option("--name", required=True, help="Registrant name, as the CA has it.")
@_ALG
@_MODULE
@_TOKEN
@_PIN
@run_cli
def csr_command(
    out: Path,
    name: str,
    algorithm: str | None,
    module: str | None,
    label: str | None,
    pin_stdin: bool,
) -> None:
    """Offline path: make a key pair on the token and write its certificate request."""
    if out.exists():
        raise InputError(f"{out} already exists; choose another --out.")
    with logged_in(module, label, pin_stdin, "Making the request") as ts:
        req = write_request(ts, name, _algorithm(algorithm) or KeyAlgorithm.RSA2048)
    try:
        out.write_bytes(pem.armor("CERTIFICATE REQUEST", req.csr_der))
    except OSError as exc:
        raise InputError(
            f"Cannot write {out}: {exc.strerror}. The key stays on the token as "
            f"{req.key_label}; `csos enrol cleanup --yes` removes it."
        ) from exc
    click.echo(f"Request written to {out} (key {req.key_id.hex()}, label {req.key_label}).")
    click.echo("Send it to the CA, then: csos enrol import CERT.pem")


@enrol.command("import")
@click.argument("certificate", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--chain",
    "chain_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="PEM file with the CA certificates (issuing CA and root).",
)
@click.option(
    "--dea",
    "dea_number",
    help="The DEA number the certificate was issued for (checked against its hash; "
    "default: the `dea_number` setting).",
)
@_MODULE
@_TOKEN
@_PIN
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def import_command(
    certificate: Path,
    chain_file: Path | None,
    dea_number: str | None,
    module: str | None,
    label: str | None,
    pin_stdin: bool,
    as_json: bool,
) -> None:
    """Offline path: put the certificate the CA issued (PEM, DER or .p7b) on the token."""
    certs = read_issued_certificate(certificate.read_bytes())
    chain = load_certificates(chain_file) if chain_file else []
    with logged_in(module, label, pin_stdin, "Import") as ts:
        dea = dea_number or load_config().text("dea_number")
        done, checked = import_issued_certificate(ts, certs, chain, dea)
        token_label = ts.info.label
    _report(done, token_label, as_json, "Certificate imported")
    if not checked:
        click.echo(
            "warning: the CA's root was not given, so the chain was not checked; give "
            "it with --chain to check and save it.",
            err=True,
        )


@enrol.command("renew")
@click.option("--ca-url", help="The CA's EST address (default: the one you enrolled with).")
@_BUNDLE
@click.option("--cert-id", help="CKA_ID (hex) of the certificate, when the token holds several.")
@_ALG
@click.option("--keep-old", is_flag=True, help="Keep the old certificate and key on the token.")
@_MODULE
@_TOKEN
@_PIN
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def renew_command(
    ca_url: str | None,
    ca_bundle: Path | None,
    cert_id: str | None,
    algorithm: str | None,
    keep_old: bool,
    module: str | None,
    label: str | None,
    pin_stdin: bool,
    as_json: bool,
) -> None:
    """Renew the certificate before it expires: new key, request signed by the current key."""
    url, bundle = chosen_ca(ca_url, ca_bundle)
    if not url:
        raise InputError("Give --ca-url: no CA is recorded from an earlier enrolment.")
    token = TokenChoice(module, label, cert_id, pin_stdin=pin_stdin)
    with (
        ca_client(url, bundle) as client,
        open_signing(SigningPurpose.CERTIFICATE, token, rw=True) as session,
    ):
        log_in_or_cancel(session, token, "Renewal")
        identity = session.identity
        done = renew_certificate(
            session,
            client,
            algorithm=_algorithm(algorithm),
            keep_old=keep_old,
            progress=_progress,
        )
        token_label = session.ts.info.label
    _report(done, token_label, as_json, "Renewed certificate installed")
    if not keep_old:
        click.echo(
            f"The old certificate ({identity.key_id.hex()}) and its key were removed "
            "from the token.",
            err=True,
        )


@enrol.command("cleanup")
@click.option("--yes", is_flag=True, help="Remove the keys listed (otherwise only list them).")
@_MODULE
@_TOKEN
@_PIN
@run_cli
def cleanup_command(yes: bool, module: str | None, label: str | None, pin_stdin: bool) -> None:
    """List, and with --yes remove, key pairs left by enrolments that did not finish."""
    with logged_in(module, label, pin_stdin, "Clean-up") as ts:
        found = unfinished_keys(ts)
        if not found:
            click.echo("No unfinished enrolment keys on this token.")
            return
        for key in found:
            click.echo(f"  {key.label}  id {key.key_id.hex()}")
        if not yes:
            click.echo(
                f"{len(found)} key(s) from unfinished enrolments. Run again with --yes "
                "to remove them (an enrolment retried with the same codes would make a "
                "new key)."
            )
            return
        remove_unfinished_keys(ts, found)
    click.echo(f"Removed {len(found)} key pair(s).")
