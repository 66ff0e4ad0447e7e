"""The patient's pharmacy for a signing: none (csos-rx/1 as before), or one from the directory.

The practitioner chooses it from the network's directory (`csos rx pharmacies`); the
signing then also signs each prescription as an NCPDP SCRIPT NewRx to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.pharmacy import Pharmacy


class PharmacyChoice(QWidget):
    """Label, list and *Pharmacy directory*; `problem` carries a failed read, worded."""

    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.pharmacy = QComboBox()
        self.pharmacy.setAccessibleName("Patient's pharmacy")
        self.pharmacy.addItem("No NewRx (csos-rx/1 to the configured pharmacy)", None)
        self.directory_button = QPushButton("Pharmacy &directory")
        self.directory_button.setAccessibleName("Load the pharmacy directory")
        self.directory_button.clicked.connect(self.load_directory)
        label = QLabel("Patient's pharmacy:")
        label.setBuddy(self.pharmacy)
        row.addWidget(label)
        row.addWidget(self.pharmacy, 1)
        row.addWidget(self.directory_button)

    def chosen(self) -> Pharmacy | None:
        data = self.pharmacy.currentData()
        return data if isinstance(data, Pharmacy) else None

    def set_pharmacies(self, pharmacies: Sequence[Pharmacy]) -> None:
        """The directory's pharmacies to choose from (the first entry stays "no NewRx")."""
        while self.pharmacy.count() > 1:
            self.pharmacy.removeItem(1)
        for p in pharmacies:
            a = p.address
            self.pharmacy.addItem(
                f"{p.name}, {a.street}, {a.city} (NCPDP {p.ncpdp_id}, NPI {p.npi})", p
            )

    def load_directory(self) -> None:
        """Read the network's pharmacy directory (a short call to the configured server)."""
        from csos_desktop.services.rx.network import directory, network_client

        try:
            with network_client() as client:
                self.set_pharmacies(directory(client))
        except CsosError as exc:
            self.problem.emit(exc.message)
