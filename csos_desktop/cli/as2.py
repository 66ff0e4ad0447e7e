"""`csos as2 ...`: the pharmacy's AS2 endpoint (855, 856 and 997 from the distributor)."""

from __future__ import annotations

from pathlib import Path

import click

from csos_desktop.cli.common import run_cli


@click.group()
def as2() -> None:
    """AS2 (RFC 4130) with the distributor; settings: `csos config keys` (as2_*)."""


@as2.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), required=True, help="Port to listen on.")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: all)."
)
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="PEM certificate (chain) for HTTPS; without it, plain HTTP (the messages are "
    "signed, and encrypted when the distributor encrypts).",
)
@click.option(
    "--tls-key", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Its key."
)
@run_cli
def serve(port: int, host: str, tls_cert: Path | None, tls_key: Path | None) -> None:
    """Receive the distributor's 855, 856 and 997 as AS2 messages until stopped (Ctrl+C).

    Each message must come from as2_partner_id to as2_id, signed by
    as2_partner_certificate; its document is kept and linked to its order as `csos x12
    receive` does, and it gets the receipt (MDN) the sender asks for: signed or not,
    on the answer or POSTed to its Receipt-Delivery-Option address. A message that cannot
    be opened is kept with the reason and answered with an error MDN.
    """
    from csos_desktop.domain.errors import InputError
    from csos_desktop.services.sync.as2_serve import as2_server

    if (tls_cert is None) != (tls_key is None):
        raise InputError("Give both --tls-cert and --tls-key, or neither.")
    tls = (tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None
    server = as2_server(host, port, tls=tls, report=click.echo)
    scheme = "https" if tls else "http"
    click.echo(f"AS2 endpoint at {scheme}://{host}:{server.server_address[1]}/ (Ctrl+C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
