"""`csos doctor`: checks an IT admin can run over the phone."""

from __future__ import annotations

import json
import sys

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.doctor.result import DoctorReport, Status

_MARK = {Status.OK: "OK  ", Status.SKIPPED: "SKIP", Status.WARNING: "WARN", Status.ERROR: "FAIL"}


def render(report: DoctorReport) -> str:
    lines = [
        f"CSOS Desktop {report.versions.get('csos_desktop', '?')} doctor, {report.generated_at}"
    ]
    for r in report.results:
        lines.append(f"[{_MARK[r.status]}] {r.title}: {r.summary}")
        if r.fix and r.status is not Status.OK:
            lines.append(f"       fix: {r.fix}")
    worst = report.worst
    lines.append(
        "All checks passed."
        if worst.severity == 0
        else f"Worst result: {worst.value} (exit code {report.exit_code})."
    )
    return "\n".join(lines)


@click.command()
@click.option("--module", help="Path of the PKCS#11 driver (default: configured or detected).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.5, 60),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the distributor.",
)
@run_cli
def doctor(module: str | None, as_json: bool, timeout: float) -> None:
    """Check driver, tokens, certificate, distributor, clock, database.

    Exit code: 0 all passed (or not applicable), 1 a warning, 2 an error.
    """
    from csos_desktop.doctor.runner import run_doctor
    from csos_desktop.logs import setup_logging

    log = setup_logging()
    report = run_doctor(module=module, timeout=timeout)
    import logging

    logging.getLogger("csos_desktop.doctor").info(
        "doctor: worst=%s %s",
        report.worst.value,
        ", ".join(f"{r.check}={r.status.value}" for r in report.results),
    )
    if as_json:
        click.echo(json.dumps({**report.to_json(), "log_file": str(log)}, indent=2))
    else:
        click.echo(render(report))
    sys.exit(report.exit_code)
