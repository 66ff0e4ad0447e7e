"""`csos rx user|grant|audit-report`: who may prescribe, and the EPCS audit report.

``--as USER`` names the person acting. CSOS Desktop records it together with
the operating-system login it ran under; binding the two (personal OS
accounts, no shared logins) is the deployment's job (docs/epcs.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.files import write_signed_pair
from csos_desktop.cli.signing import TokenChoice, store_and_session, token_options
from csos_desktop.domain.errors import InputError
from csos_desktop.services.pharmacy_store import Role, open_store
from csos_desktop.services.rx import queries as rx_queries
from csos_desktop.services.rx.access import Actor, os_login
from csos_desktop.services.rx.audit_report import day_report, describe
from csos_desktop.services.rx.grant_approval import (
    approve_grant_with_token,
    execute_revocation_with_token,
)
from csos_desktop.services.rx.grant_revocation import revoke_grant
from csos_desktop.services.rx.grants import propose_grant
from csos_desktop.services.rx.monthly_log import (
    LogOrder,
    log_csv,
    monthly_log,
)
from csos_desktop.services.rx.users import add_user, deactivate_user
from csos_desktop.services.signing import SigningPurpose

F = TypeVar("F", bound=Callable[..., Any])


def as_option(required: bool = True) -> Callable[[F], F]:
    return click.option(
        "--as",
        "as_user",
        required=required,
        metavar="USER",
        help="Your CSOS Desktop user id (recorded with your OS login).",
    )


def actor(user_id: str) -> Actor:
    return Actor(user_id.strip().lower(), os_login())


def local_zone(name: str | None) -> tzinfo:
    """--tz, else $TZ, else the system zone's IANA name, else today's fixed local offset."""
    candidates = [name, os.environ.get("TZ")]
    with_link = Path("/etc/localtime")
    if with_link.is_symlink():
        target = str(with_link.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    for c in candidates:
        if c:
            try:
                return ZoneInfo(c.lstrip(":"))
            except (ZoneInfoNotFoundError, ValueError) as exc:
                if c == name:
                    raise InputError(
                        f"Unknown time zone {name!r}; use an IANA name such as America/Chicago."
                    ) from exc
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


# -- users -----------------------------------------------------------------------------------


@click.group("user")
def user() -> None:
    """Prescribing users: practitioners, agents, access administrators."""


@user.command("add")
@click.argument("user_id")
@click.option("--name", "full_name", required=True, help="Full name, as in the audit log.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--dea",
    "dea_number",
    help="DEA registration number (practitioners; an access administrator who is a registrant).",
)
@click.option("--dea-state", help="The State of that registration (two letters).")
@click.option(
    "--dea-expires",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day that registration ends (YYYY-MM-DD).",
)
@as_option(required=False)
@run_cli
def user_add(
    user_id: str,
    full_name: str,
    role: str,
    dea_number: str | None,
    dea_state: str | None,
    dea_expires: datetime | None,
    as_user: str | None,
) -> None:
    """Add a user (an access administrator does; the first user is an administrator)."""
    with open_store() as store:
        u = add_user(
            store,
            actor(as_user) if as_user else None,
            user_id,
            full_name,
            Role(role),
            dea_number,
            now=datetime.now(UTC),
            dea_state=dea_state,
            dea_expires=dea_expires.date() if dea_expires else None,
        )
    dea = f", DEA {u.dea_number}" if u.dea_number else ""
    click.echo(f"Added {u.role.value} {u.user_id} ({u.full_name}{dea}).")
    if u.role is Role.PRACTITIONER:
        click.echo(
            "To sign, they need a permission proposed by one person and approved by "
            f"another: csos rx grant propose {u.user_id} --as ...",
            err=True,
        )


@user.command("deactivate")
@click.argument("user_id")
@as_option()
@run_cli
def user_deactivate(user_id: str, as_user: str) -> None:
    """End a user's access (their signing permission is revoked with it)."""
    with open_store() as store:
        deactivate_user(store, actor(as_user), user_id, now=datetime.now(UTC))
    click.echo(f"Deactivated {user_id}.")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def user_list(as_json: bool) -> None:
    """Users and whether each may sign now."""
    with open_store() as store:
        users = rx_queries.users(store)
        grants = rx_queries.open_permissions(store, users)
    if as_json:
        rows = []
        for u in users:
            g = grants[u.user_id]
            rows.append({**u.to_json(), "permission": None if g is None else g.to_json()})
        click.echo(json.dumps(rows, indent=2))
        return
    if not users:
        click.echo(
            "No users yet. Add the first access administrator: csos rx user add ID "
            "--name NAME --role access-admin"
        )
    for u in users:
        g = grants[u.user_id]
        sign = (
            ""
            if u.role is not Role.PRACTITIONER
            else ("  may not sign" if g is None else f"  permission #{g.grant_id} {g.state.value}")
        )
        off = "" if u.active else "  (deactivated)"
        click.echo(
            f"{u.user_id:<16} {u.role.value:<13} {u.dea_number or '-':<10} {u.full_name}{sign}{off}"
        )


# -- grants ----------------------------------------------------------------------------------


@click.group("grant")
def grant() -> None:
    """Permission to sign, set by two people (21 CFR 1311.125)."""


@grant.command("propose")
@click.argument("user_id")
@click.option(
    "--registration-verified",
    is_flag=True,
    help="You checked the practitioner's DEA registration and State "
    "authorisation are current (1311.125(b)).",
)
@click.option(
    "--registration-expires",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the practitioner's DEA registration ends (YYYY-MM-DD): signing stops then.",
)
@click.option(
    "--dea",
    "dea_numbers",
    multiple=True,
    help="A registration you verified (repeat; default: all of theirs, or the one a "
    "certificate with DEA extensions is bound to).",
)
@as_option()
@token_options
@run_cli
def grant_propose(
    user_id: str,
    registration_verified: bool,
    registration_expires: datetime,
    dea_numbers: tuple[str, ...],
    as_user: str,
    token: TokenChoice,
) -> None:
    """First person: propose that a practitioner may sign with the certificate on their token.

    The practitioner's token is read (no PIN): the permission names that certificate's
    SHA-256, and signing with any other certificate is refused.
    """
    with store_and_session(token, SigningPurpose.PRESCRIPTION) as (store, session):
        g = propose_grant(
            store,
            actor(as_user),
            user_id,
            certificate_der=session.identity.certificate_der,
            registration_expires=registration_expires.date(),
            registration_verified=registration_verified,
            now=datetime.now(UTC),
            dea_numbers=dea_numbers,
        )
    click.echo(
        f"Proposed permission #{g.grant_id} for {g.user_id} (DEA {g.dea_number}, "
        f"certificate SHA-256 {g.certificate_sha256}). A second person, a DEA registrant, "
        f"approves it: csos rx grant approve {g.grant_id} --as ..."
    )


@grant.command("approve")
@click.argument("grant_id", type=int)
@as_option()
@token_options
@run_cli
def grant_approve(
    grant_id: int,
    as_user: str,
    token: TokenChoice,
) -> None:
    """Second person, a DEA registrant: approve with your own token and PIN (1311.125(c))."""
    with store_and_session(token, SigningPurpose.GRANT_APPROVAL) as (store, session):
        g = approve_grant_with_token(
            store,
            actor(as_user),
            grant_id,
            session,
            token.terminal(),
            now=datetime.now(UTC),
        )
    click.echo(
        f"Permission #{g.grant_id} is active: {g.user_id} may sign with a certificate "
        f"for DEA {g.dea_number}. Your signed approval is in the audit log."
    )


@grant.command("revoke")
@click.argument("user_id")
@click.option("--reason", required=True, help="Why; kept in the audit log.")
@as_option()
@run_cli
def grant_revoke(user_id: str, reason: str, as_user: str) -> None:
    """First person: enter a revocation (an access administrator, or the practitioner).

    Signing stops at once; a second person, a DEA registrant, executes it with their
    token and PIN (`csos rx grant revoke-approve`).
    """
    with open_store() as store:
        g = revoke_grant(store, actor(as_user), user_id, reason, now=datetime.now(UTC))
    if g.state.value == "revoked":
        click.echo(f"Proposed permission #{g.grant_id} of {g.user_id} is withdrawn.")
        return
    click.echo(
        f"Revocation of permission #{g.grant_id} ({g.user_id}) entered; {g.user_id} can no "
        "longer sign. A DEA registrant executes it: "
        f"csos rx grant revoke-approve {g.grant_id} --as ..."
    )


@grant.command("revoke-approve")
@click.argument("grant_id", type=int)
@as_option()
@token_options
@run_cli
def grant_revoke_approve(grant_id: int, as_user: str, token: TokenChoice) -> None:
    """Second person, a DEA registrant: execute an entered revocation with token and PIN."""
    with store_and_session(token, SigningPurpose.GRANT_APPROVAL) as (store, session):
        g = execute_revocation_with_token(
            store, actor(as_user), grant_id, session, token.terminal(), now=datetime.now(UTC)
        )
    click.echo(f"Permission #{g.grant_id} of {g.user_id} is revoked.")


@grant.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def grant_list(as_json: bool) -> None:
    """Every permission record, oldest first."""
    with open_store() as store:
        grants = rx_queries.permissions(store)
    if as_json:
        click.echo(json.dumps([g.to_json() for g in grants], indent=2))
        return
    for g in grants:
        steps = f"proposed by {g.proposed_by} {g.proposed_at}"
        if g.approved_by:
            steps += f", approved by {g.approved_by} {g.approved_at}"
        if g.revoked_by:
            steps += f", revoked by {g.revoked_by} {g.revoked_at} ({g.revoke_reason})"
        click.echo(
            f"#{g.grant_id:<4} {g.user_id:<16} DEA {g.dea_number} {g.state.value:<8} {steps}"
        )


# -- audit report ----------------------------------------------------------------------------


@click.command("audit-report")
@click.option(
    "--date",
    "day",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="The day (YYYY-MM-DD, local time).",
)
@click.option(
    "--tz", "zone_name", help="IANA time zone of the practice (default: this computer's)."
)
@click.option("--all", "everything", is_flag=True, help="Every event, not only prescribing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def audit_report(day: datetime, zone_name: str | None, everything: bool, as_json: bool) -> None:
    """The day's prescribing audit events and alerts. Exit 1 if alerts or a broken chain."""
    zone = local_zone(zone_name)
    when: date = day.date()
    with open_store() as store:
        report = day_report(store, when, zone=zone, everything=everything)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(
            f"EPCS audit report for {when} ({report.zone}): "
            f"{len(report.entries)} event(s), {len(report.alerts)} alert(s)"
        )
        for e in report.entries:
            click.echo("  " + describe(e, zone))
        for a in report.alerts:
            click.echo(
                f"ALERT {a.kind.value}: {a.message} (entries {', '.join(map(str, a.entry_ids))})"
            )
        chain = report.chain
        click.echo(
            f"Audit chain: intact, {chain.entries} entries"
            if chain.intact
            else f"Audit chain: BROKEN at entry {chain.broken.entry_id if chain.broken else '?'}"
            f": {chain.broken.problem if chain.broken else ''}"
        )
    raise SystemExit(1 if report.alerts or not report.chain.intact else 0)


# -- monthly log -----------------------------------------------------------------------------


def log_options(command: F) -> F:
    """--sort and --out, shared by `rx log` (computed) and `rx logs` (kept)."""
    command = click.option(
        "--out",
        "out_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the CSV to this file instead of the terminal.",
    )(command)
    return click.option(
        "--sort",
        "order",
        type=click.Choice([o.value for o in LogOrder]),
        default=LogOrder.DATE.value,
        show_default=True,
        help="Sort by patient, drug or date.",
    )(command)


def write_log(text: str, out_file: Path | None, written: str) -> None:
    """The log's CSV to the terminal, or to *out_file* with "*written* FILE."."""
    if out_file is None:
        click.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        click.echo(f"{written} {out_file}.")


@click.command("log")
@click.option("--month", required=True, help="The month, YYYY-MM (the practice's calendar).")
@click.option("--dea", "practitioner_dea", help="Only this practitioner's prescriptions.")
@log_options
@run_cli
def rx_log(month: str, practitioner_dea: str | None, order: str, out_file: Path | None) -> None:
    """The month's controlled-substance prescriptions as CSV (21 CFR 1311.120(b)(27))."""
    with open_store() as store:
        lines = monthly_log(
            store,
            month,
            practitioner_dea=practitioner_dea.strip().upper() if practitioner_dea else None,
            order=LogOrder(order),
        )
    write_log(
        log_csv(lines), out_file, f"{len(lines)} prescription(s) signed in {month} written to"
    )


@click.command("export")
@click.option("--month", help="The month signed or received, YYYY-MM (local time).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (with --until).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for <rx_id>.json (the signed bytes) and <rx_id>.p7s of each signed "
    "prescription, and sent/ and received/ with the NCPDP SCRIPT messages kept.",
)
@run_cli
def rx_export(
    month: str | None, since: datetime | None, until: datetime | None, out_dir: Path
) -> None:
    """Signed prescriptions byte for byte, for `csos rx verify`, and the NewRx messages sent
    and received with their verdicts (1311.305); all of them without a period."""
    from csos_desktop.services.rx.monthly_log import parse_month, signed_between
    from csos_desktop.services.rx.script_export import export_script_messages

    if month is not None and (since or until):
        raise InputError("Give --month or --since/--until, not both.")
    first, last = (since.date() if since else None), (until.date() if until else None)
    if month is not None:
        year, number = parse_month(month)
        first = date(year, number, 1)
        last = date(year + number // 12, number % 12 + 1, 1) - timedelta(days=1)
    # The period is local days, as the log's; message times are instants.
    start = datetime.combine(first, time.min).astimezone(UTC) if first else None
    end = datetime.combine(last + timedelta(days=1), time.min).astimezone(UTC) if last else None
    with open_store() as store:
        signed = signed_between(store, first, last)
        for s in signed:
            write_signed_pair(out_dir, s.rx_id, s.document, s.signature)
        messages = export_script_messages(store, out_dir, start, end)
    period = month or (f"{first or 'the start'} to {last or 'now'}" if first or last else "all")
    click.echo(
        f"{len(signed)} signed prescription(s) and {messages} NCPDP SCRIPT message(s) "
        f"({period}) written to {out_dir}."
    )
