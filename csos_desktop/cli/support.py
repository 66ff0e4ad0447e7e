"""`csos support-bundle`: logs and diagnostics for support, without secrets."""

from __future__ import annotations

from pathlib import Path

import click

from csos_desktop.cli.common import run_cli


@click.command("support-bundle")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Zip file to write, e.g. csos-support.zip.",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@click.option("--no-doctor", is_flag=True, help="Leave out the doctor checks (faster, offline).")
@run_cli
def support_bundle(out: Path, force: bool, no_doctor: bool) -> None:
    """Write a zip of logs, doctor output and configuration (no PINs, credentials or codes)."""
    from csos_desktop.doctor.runner import run_doctor
    from csos_desktop.logs import setup_logging
    from csos_desktop.support_bundle import write_bundle

    setup_logging()
    result = write_bundle(out, doctor=None if no_doctor else run_doctor, overwrite=force)
    click.echo(
        f"Wrote {result.path} ({len(result.members)} files). It contains no PINs, "
        "one-time codes or credentials; send it to your support contact."
    )
