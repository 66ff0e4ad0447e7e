"""`csos sandbox ca serve|issue-codes`: the test CA over HTTPS (attach to the `ca` group)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.sandbox import _DIR, _schedules, ca
from csos_desktop.domain.schedule import Schedule
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.codes import DEFAULT_MAX_ATTEMPTS, DEFAULT_VALID_DAYS, CodeStore


@ca.command("serve")
@_DIR
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8443,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one). Keep it fixed: issued certificates name it in "
    "their CRL address.",
)
@run_cli
def ca_serve(directory: Path, host: str, port: int) -> None:
    """Serve the test CA over HTTPS: EST enrolment, CRLs, OCSP, revocation requests."""
    # Imported here: FastAPI and uvicorn would slow every other `csos` command's start.
    from csos_desktop.sandbox.ca_server import prepare_ca
    from csos_desktop.sandbox.https import bind, url_of, uvicorn_server

    test_ca = TestCa.load(directory)
    sock = bind(host, port)
    app, tls = prepare_ca(test_ca, sock, host)
    url = url_of(sock)
    click.echo(f"CSOS sandbox CA (TEST ONLY) listening at {url}")
    click.echo(f"  clients trust it with: --ca-bundle {directory / 'root.pem'}")
    click.echo("  stop with Ctrl+C")
    sys.stdout.flush()  # tests and scripts read the URL before the server blocks
    uvicorn_server(app, tls, access_log=True).run(sockets=[sock])


@ca.command("issue-codes")
@_DIR
@click.option("--dea", required=True, help="Applicant's DEA number.")
@click.option("--name", required=True, help="Registrant name for the certificate.")
@click.option(
    "--schedules",
    required=True,
    callback=_schedules,
    help="Schedules the registrant may order, e.g. 2,2N,3,3N,4,5.",
)
@click.option(
    "--valid-days",
    default=DEFAULT_VALID_DAYS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Days until the codes expire.",
)
@click.option(
    "--max-attempts",
    default=DEFAULT_MAX_ATTEMPTS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Wrong authorisation codes before they lock.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def ca_issue_codes(
    directory: Path,
    dea: str,
    name: str,
    schedules: frozenset[Schedule],
    valid_days: int,
    max_attempts: int,
    as_json: bool,
) -> None:
    """Make one-time enrolment codes for an applicant (as the CA would post them)."""
    TestCa.load(directory)  # refuse a directory that is not a CA
    codes = CodeStore(directory).issue(
        name=name,
        dea_number=dea,
        schedules=schedules,
        valid_days=valid_days,
        max_attempts=max_attempts,
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "reference_number": codes.reference_number,
                    "authorization_code": codes.authorization_code,
                    "expires": codes.expires.isoformat(),
                }
            )
        )
        return
    click.echo(f"reference number:   {codes.reference_number}")
    click.echo(f"authorisation code: {codes.authorization_code}")
    click.echo(
        f"expires:            {codes.expires:%Y-%m-%d %H:%M} UTC "
        f"(single use, {max_attempts} wrong tries lock them)"
    )
