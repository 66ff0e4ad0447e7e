"""Audit entries for events that change no order: a certificate installed, a setting changed.

The token and the configuration file cannot share a transaction with the
store, so the entry is written right after the change; if the store cannot be
opened the caller is told, and the change itself stands.
"""

from __future__ import annotations

from datetime import UTC, datetime

from csos_desktop.store import lifecycle, open_store
from csos_desktop.store.audit import AuditEvent


def record_certificate_installed(
    *, how: str, subject: str, dea_number: str | None, serial: int, not_after: datetime, key_id: str
) -> None:
    """``certificate.installed`` with what an inspector needs to tie signatures to it."""
    with open_store() as store:
        lifecycle.record_event(
            store,
            AuditEvent.CERTIFICATE_INSTALLED,
            now=datetime.now(UTC),
            details={
                "how": how,
                "subject": subject,
                "dea_number": dea_number,
                "serial_number": str(serial),
                "not_after": not_after.isoformat(),
                "key_id": key_id,
            },
        )


def record_setting_changed(key: str, action: str, value: str | None, source: str) -> None:
    """``settings.changed``: which key, set or unset, the value now in force and its source."""
    with open_store() as store:
        lifecycle.record_event(
            store,
            AuditEvent.SETTINGS_CHANGED,
            now=datetime.now(UTC),
            details={"key": key, "action": action, "value": value, "source": source},
        )
