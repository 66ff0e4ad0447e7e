"""Reporting a lost or stolen token: each step an audit entry; the reports read back from them."""

from __future__ import annotations

from datetime import datetime

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.token_loss import KnownCertificate, LossReport
from csos_desktop.services.rx.grant_revocation import RevocationEvent, revoke_on_event
from csos_desktop.store import Store, lifecycle
from csos_desktop.store.access import Grant
from csos_desktop.store.audit import AuditEntry, AuditEvent

_INSTALLED = (AuditEvent.CERTIFICATE_INSTALLED.value, AuditEvent.KEY_IMPORTED.value)


def known_certificates(store: Store) -> list[KnownCertificate]:
    """Certificates installed on this computer's tokens, newest last, one per serial."""
    seen: dict[str, KnownCertificate] = {}
    for e in store.audit.entries():
        if e.event in _INSTALLED and e.details.get("serial_number"):
            d = e.details
            cert = KnownCertificate(
                str(d.get("subject") or ""),
                str(d.get("dea_number") or ""),
                str(d["serial_number"]),
                str(d.get("not_after", "")),
            )
            seen.pop(cert.serial_number, None)
            seen[cert.serial_number] = cert
    return list(seen.values())


def _parse(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def loss_reports(store: Store) -> list[LossReport]:
    """Every report, with its sent time once marked."""
    reports: dict[int, LossReport] = {}
    for e in store.audit.entries():
        if e.event == AuditEvent.TOKEN_LOSS_REPORTED.value:
            reports[e.entry_id] = _report(e)
        elif e.event == AuditEvent.TOKEN_LOSS_SENT.value:
            rid = int(str(e.details["report_id"]))
            if rid in reports:
                old = reports[rid]
                reports[rid] = LossReport(
                    old.report_id, old.discovered_at, old.certificate, _parse(e.at)
                )
    return list(reports.values())


def _report(e: AuditEntry) -> LossReport:
    d = e.details
    cert = None
    if d.get("serial_number"):
        cert = KnownCertificate(
            str(d.get("subject") or ""),
            str(d.get("dea_number") or ""),
            str(d["serial_number"]),
            str(d.get("not_after", "")),
        )
    return LossReport(e.entry_id, _parse(str(d["discovered_at"])), cert)


def report_loss(
    store: Store,
    *,
    discovered_at: datetime,
    now: datetime,
    serial: str | None = None,
    practitioner: str | None = None,
) -> LossReport:
    """Record the loss (``token.loss-reported``) for the certificate given or the only one known.

    In the same transaction, the permission to sign prescriptions of the practitioner
    named, and of any practitioner registered under the lost certificate's DEA number,
    is revoked (21 CFR 1311.125(d)(1)).
    """
    if discovered_at > now:
        raise InputError("The loss cannot be discovered in the future: check the date and time.")
    known = known_certificates(store)
    cert: KnownCertificate | None
    if serial is not None:
        matching = [c for c in known if c.serial_number == serial]
        cert = matching[0] if matching else KnownCertificate("", "", serial, "")
    else:
        cert = known[-1] if len(known) == 1 else None
    details: dict[str, object] = {"discovered_at": discovered_at.isoformat()}
    if cert is not None:
        details.update(
            subject=cert.subject,
            dea_number=cert.dea_number,
            serial_number=cert.serial_number,
            not_after=cert.not_after,
        )
    with store.transaction():
        revoked = _revoke_grants(store, cert, practitioner, now)
        details["revoked_grants"] = [g.grant_id for g in revoked]
        store.audit.append(AuditEvent.TOKEN_LOSS_REPORTED, at=now, details=details)
    return loss_reports(store)[-1]


def grants_revoked_with(store: Store, report_id: int) -> list[int]:
    """The signing permissions the loss report *report_id* revoked."""
    for e in store.audit.entries():
        if e.entry_id == report_id and e.event == AuditEvent.TOKEN_LOSS_REPORTED.value:
            ids = e.details.get("revoked_grants") or []
            return [int(str(i)) for i in ids] if isinstance(ids, list) else []
    return []


def _revoke_grants(
    store: Store, cert: KnownCertificate | None, practitioner: str | None, now: datetime
) -> list[Grant]:
    grants: dict[int, Grant] = {}
    if practitioner is not None:
        store.rx_users.get(practitioner)  # an unknown user id is refused, not ignored
        own = store.rx_grants.open_for(practitioner)
        if own is not None:
            grants[own.grant_id] = own
    if cert is not None and cert.dea_number:
        grants.update((g.grant_id, g) for g in store.rx_grants.open_for_dea(cert.dea_number))
    return [
        revoke_on_event(store, g, RevocationEvent.TOKEN_LOST, "token reported lost or stolen", now)
        for g in grants.values()
    ]


def mark_sent(store: Store, report_id: int, *, now: datetime, how: str) -> LossReport:
    """``token.loss-sent``: the CA has been told (by phone, e-mail or the signed request)."""
    reports = {r.report_id: r for r in loss_reports(store)}
    if report_id not in reports:
        raise InputError(f"No lost-token report {report_id}; `csos token loss-status` lists them.")
    if reports[report_id].sent_at is not None:
        raise InputError(f"Report {report_id} is already marked as sent.")
    lifecycle.record_event(
        store, AuditEvent.TOKEN_LOSS_SENT, now=now, details={"report_id": report_id, "how": how}
    )
    return {r.report_id: r for r in loss_reports(store)}[report_id]
