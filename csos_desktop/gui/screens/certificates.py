"""Certificates: every CSOS certificate on the inserted token, with its details."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.services.token_status import CertificateStatus, TokenStatus

COLUMNS = (
    "Subject",
    "DEA number",
    "Schedules",
    "Valid from",
    "Valid until",
    "Days left",
    "Status",
    "Id",
)


def state_words(cert: CertificateStatus) -> str:
    if cert.expired:
        return "Expired"
    if cert.renewal_due:
        return "Renew now"
    return "Valid"


class CertificatesScreen(QWidget):
    """A read-only table; enrolment and renewal attach here."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        title = QLabel("Certificates")
        title.setObjectName("screenTitle")
        self.note = QLabel()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Certificates on the token")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(title)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)

    def show_status(self, status: TokenStatus) -> None:
        certs = status.certificates
        label = status.token.label if status.token else None
        self.note.setText(
            f"Token '{label}': {len(certs)} CSOS certificate(s)."
            if label
            else (status.problem or "No token inserted.")
        )
        self.table.setRowCount(len(certs))
        for row, c in enumerate(certs):
            values = (
                c.subject,
                c.dea_number,
                ", ".join(c.schedules),
                f"{c.not_before:%Y-%m-%d}",
                f"{c.not_after:%Y-%m-%d}",
                str(c.days_left),
                state_words(c),
                c.key_id,
            )
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
