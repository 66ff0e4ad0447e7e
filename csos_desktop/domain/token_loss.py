"""A lost or stolen token: the report to the CA and its 24-hour deadline (21 CFR 1311.30(e)).

Pure values: the audit log holds the facts (services/tokens/loss.py reads them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

REPORT_DEADLINE = timedelta(hours=24)


@dataclass(frozen=True)
class KnownCertificate:
    """A certificate this computer installed, as its audit entry recorded it."""

    subject: str
    dea_number: str
    serial_number: str
    not_after: str


@dataclass(frozen=True)
class LossReport:
    report_id: int
    discovered_at: datetime
    certificate: KnownCertificate | None
    sent_at: datetime | None = None

    @property
    def deadline(self) -> datetime:
        return self.discovered_at + REPORT_DEADLINE

    def time_left(self, now: datetime) -> timedelta:
        return self.deadline - now

    def deadline_text(self, now: datetime) -> str:
        if self.sent_at is not None:
            return f"Report {self.report_id}: sent to the CA at {self.sent_at:%Y-%m-%d %H:%M} UTC."
        left = self.time_left(now)
        when = f"{self.deadline:%Y-%m-%d %H:%M} UTC"
        if left.total_seconds() <= 0:
            return (
                f"Report {self.report_id}: OVERDUE since {when}. 21 CFR 1311.30(e) asks for the "
                "CA to be told within 24 hours of discovering the loss: call it now."
            )
        hours, rest = divmod(int(left.total_seconds()), 3600)
        return (
            f"Report {self.report_id}: tell the CA before {when} ({hours} h {rest // 60} min "
            "left, 21 CFR 1311.30(e)); then mark it sent."
        )

    def text_for_ca(self) -> str:
        """What to send (or read out) to the CA when the token cannot sign the request."""
        lines = [
            "Request to revoke a CSOS certificate: token lost or stolen (keyCompromise).",
            f"Loss discovered: {self.discovered_at:%Y-%m-%d %H:%M} UTC.",
        ]
        cert = self.certificate
        if cert is None:
            lines.append("Certificate: serial number not known on this computer; please find it")
            lines.append("by our DEA registration number.")
        else:
            lines.append(f"Subscriber: {cert.subject}")
            if cert.dea_number:  # CSOS certificates carry only its hash: known if recorded
                lines.append(f"DEA registration number: {cert.dea_number}")
            lines += [
                f"Certificate serial number: {cert.serial_number}",
                f"Certificate valid until: {cert.not_after}",
            ]
        lines.append("Please revoke it and confirm; we will enrol for a new certificate.")
        return "\n".join(lines)
