"""Prescriptions: drafts per patient, the ready-for-signing queue, review-and-attest signing.

Agents and practitioners prepare drafts (`csos rx draft add`); here everyone on
record sees them, per practitioner and patient. A practitioner ticks the drafts
ready for signing and opens the review (21 CFR 1311.140(a)(1)-(2)); the dialog
shows the review with the attestation and asks token and PIN on the token
thread. Agents see the drafts but get no sign button. Reads here are short
queries on the UI thread's own connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.pharmacy import Pharmacy
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.services.pharmacy_store import Role, RxUser
from csos_desktop.services.rx import queries as rx_queries
from csos_desktop.services.rx.access import Actor, os_login
from csos_desktop.services.rx.drafts import PatientQueue, queue

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore

if TYPE_CHECKING:  # the signing stack is imported when a signing starts
    from csos_desktop.gui.dialogs.rx_signing import RxSigningDialog
    from csos_desktop.gui.jobs.signing import Outcome
    from csos_desktop.services.rx.ceremony import RevocationCheck

RX_ID = Qt.ItemDataRole.UserRole
ROLE_WORDS = {
    Role.PRACTITIONER: "practitioner",
    Role.AGENT: "agent",
    Role.ACCESS_ADMIN: "access administrator",
}


class PrescriptionsScreen(QWidget):
    """Acting user, drafts per patient (tick = ready for signing), the ready queue, Sign."""

    signed = Signal()  # prescriptions were signed (they left the queue for the outbox)

    def __init__(
        self,
        store: OpenStore | None,
        launcher: SigningLauncher,
        store_problem: str | None = None,
        revocation: Callable[[], RevocationCheck] | None = None,
    ) -> None:
        super().__init__()
        self._store = store
        self._launcher = launcher
        self._problem = store_problem
        self._revocation = revocation
        self._users: list[RxUser] = []
        self._groups: list[PatientQueue] = []
        self._filling = False
        self.dialog: RxSigningDialog | None = None

        login = os_login() or "unknown"
        layout = QVBoxLayout(self)
        title = QLabel("Prescriptions")
        title.setObjectName("screenTitle")
        hint = QLabel(
            "Controlled-substance prescriptions waiting for the practitioner's "
            "signature. Tick the drafts that are ready, then review and sign one "
            "patient's prescriptions with your token and PIN."
        )
        hint.setWordWrap(True)
        hint.setAccessibleDescription("About prescriptions")
        user_row = QHBoxLayout()
        user_label = QLabel("Acting &user:")
        self.user = QComboBox()
        self.user.setAccessibleName("Acting user")
        user_label.setBuddy(self.user)
        user_row.addWidget(user_label)
        user_row.addWidget(self.user, 1)
        self.binding = QLabel(
            f"Choose yourself. Your deployment binds this choice to your operating-system "
            f"login ({escape(login)}), which is recorded with everything you do here."
        )
        self.binding.setWordWrap(True)
        self.binding.setAccessibleDescription("User binding")
        self.drafts = QTreeWidget()
        self.drafts.setAccessibleName("Drafts per patient")
        self.drafts.setHeaderLabels(
            ["Patient / prescription", "Schedule", "Prepared by", "Prescriber DEA"]
        )
        self.drafts.setColumnWidth(0, 380)
        ready_label = QLabel("&Ready for signing:")
        self.ready = QListWidget()
        self.ready.setAccessibleName("Ready for signing")
        self.ready.setMaximumHeight(140)
        ready_label.setBuddy(self.ready)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription("Prescriptions status")
        self.sign_button = QPushButton("Review and &sign…")
        self.sign_button.setAccessibleName("Review and sign prescriptions")
        self.pharmacy = QComboBox()
        self.pharmacy.setAccessibleName("Patient's pharmacy")
        self.pharmacy.addItem("No NewRx (csos-rx/1 to the configured pharmacy)", None)
        self.directory_button = QPushButton("Pharmacy &directory")
        self.directory_button.setAccessibleName("Load the pharmacy directory")
        self.directory_button.clicked.connect(self.load_directory)
        buttons = QHBoxLayout()
        pharmacy_label = QLabel("Patient's pharmacy:")
        pharmacy_label.setBuddy(self.pharmacy)
        buttons.addWidget(pharmacy_label)
        buttons.addWidget(self.pharmacy, 1)
        buttons.addWidget(self.directory_button)
        buttons.addWidget(self.sign_button)
        buttons.addStretch(1)
        for w in (title, hint):
            layout.addWidget(w)
        layout.addLayout(user_row)
        layout.addWidget(self.binding)
        layout.addWidget(self.drafts, 1)
        layout.addWidget(ready_label)
        layout.addWidget(self.ready)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

        self.user.currentIndexChanged.connect(self._user_changed)
        self.drafts.itemChanged.connect(self._ticked)
        self.drafts.currentItemChanged.connect(self._selection_changed)
        self.sign_button.clicked.connect(self.sign)
        self.reload()

    # -- reading ---------------------------------------------------------------------
    @property
    def acting(self) -> RxUser | None:
        i = self.user.currentIndex()
        return self._users[i] if 0 <= i < len(self._users) else None

    def reload(self) -> None:
        """Re-read users and drafts (another window, the CLI or a signing changed them)."""
        if self._store is None:
            self._say(Tone.BAD, self._problem or "The prescription store is unavailable.")
            self.sign_button.setVisible(False)
            return
        chosen = self.acting.user_id if self.acting else None
        try:
            users = list(rx_queries.users(self._store, active_only=True))
        except CsosError as exc:
            self._say(Tone.BAD, exc.message)
            return
        self._users = users
        self.user.blockSignals(True)
        self.user.clear()
        for u in users:
            self.user.addItem(f"{u.full_name} ({u.user_id}, {ROLE_WORDS[u.role]})")
        ids = [u.user_id for u in users]
        self.user.setCurrentIndex(ids.index(chosen) if chosen in ids else 0 if ids else -1)
        self.user.blockSignals(False)
        self._user_changed()

    def _user_changed(self) -> None:
        user = self.acting
        signer = user is not None and user.role is Role.PRACTITIONER
        self.sign_button.setVisible(signer)
        assert self._store is not None
        try:
            groups = queue(self._store, user.dea_number if signer and user else None)
        except CsosError as exc:
            self._say(Tone.BAD, exc.message)
            return
        self._fill(groups, signer)

    def _fill(self, groups: list[PatientQueue], checkable: bool) -> None:
        self._filling = True  # clearing the tree moves the selection: ignore until refilled
        self.drafts.clear()
        self._groups = groups
        for g in groups:
            n = len(g.drafts)
            top = QTreeWidgetItem([f"{g.patient_name} — {n} draft(s)", "", "", g.practitioner_dea])
            top.setData(0, RX_ID, None)
            for d in g.drafts:
                child = QTreeWidgetItem(
                    [
                        f"{d.drug} ({d.rx_id[:8]})",
                        f"C-{d.schedule}",
                        d.prepared_by,
                        d.practitioner_dea,
                    ]
                )
                child.setData(0, RX_ID, d.rx_id)
                if checkable:
                    child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    child.setCheckState(0, Qt.CheckState.Unchecked)
                top.addChild(child)
            self.drafts.addTopLevelItem(top)
            top.setExpanded(True)
        self._filling = False
        self._update_ready()

    # -- the ready queue ---------------------------------------------------------------
    def _ticked(self, item: QTreeWidgetItem, column: int) -> None:
        if not self._filling:
            parent = item.parent()
            if parent is not None:
                self.drafts.setCurrentItem(parent)
            self._update_ready()

    def _selection_changed(self, *_: object) -> None:
        if not self._filling:
            self._update_ready()

    def ready_ids(self) -> dict[int, list[str]]:
        """Ticked drafts per patient group (index into the queue)."""
        out: dict[int, list[str]] = {}
        for i in range(self.drafts.topLevelItemCount()):
            top = self.drafts.topLevelItem(i)
            assert top is not None
            for j in range(top.childCount()):
                child = top.child(j)
                if child is not None and child.checkState(0) is Qt.CheckState.Checked:
                    out.setdefault(i, []).append(str(child.data(0, RX_ID)))
        return out

    def _chosen_group(self, ready: dict[int, list[str]]) -> int | None:
        item = self.drafts.currentItem()
        if item is not None:
            top = item.parent() or item
            index = self.drafts.indexOfTopLevelItem(top)
            if index in ready:
                return index
        return next(iter(ready)) if len(ready) == 1 else None

    def _update_ready(self) -> None:
        ready = self.ready_ids()
        self.ready.clear()
        for i, ids in ready.items():
            g = self._groups[i]
            names = {d.rx_id: d.drug for d in g.drafts}
            for rx_id in ids:
                self.ready.addItem(f"{g.patient_name}: {names[rx_id]} ({rx_id[:8]})")
        user = self.acting
        if user is None:
            self._say(
                Tone.NEUTRAL,
                "No prescribing user is on record: an access administrator "
                "adds users (csos rx user add).",
            )
        elif user.role is not Role.PRACTITIONER:
            self._say(
                Tone.NEUTRAL,
                f"{len(self._groups)} patient(s) with drafts. You act as "
                f"{ROLE_WORDS[user.role]}: you see and prepare drafts; only the "
                "practitioner signs them (21 CFR 1311.125).",
            )
        elif not self._groups:
            self._say(Tone.OK, "No prescription of yours is waiting for signature.")
        elif not ready:
            self._say(Tone.NEUTRAL, "Tick the drafts that are ready for signing.")
        elif self._chosen_group(ready) is None:
            self._say(
                Tone.WARN,
                "Select one patient: a signing list holds one patient's "
                "prescriptions (21 CFR 1311.140(a)(1)).",
            )
        else:
            n = len(ready[self._chosen_group(ready) or 0])
            self._say(Tone.OK, f"{n} prescription(s) ready: press Review and sign.")
        self.sign_button.setEnabled(self._chosen_group(ready) is not None)

    def _say(self, tone: Tone, text: str) -> None:
        self.status.setText(f"{dot(tone)} {escape(text)}")

    # -- signing ---------------------------------------------------------------------
    def sign(self) -> None:
        user = self.acting
        ready = self.ready_ids()
        group = self._chosen_group(ready)
        if (
            self._store is None
            or user is None
            or user.role is not Role.PRACTITIONER
            or group is None
        ):
            return
        why = self._launcher.unavailable()
        if why is not None:
            self._say(Tone.BAD, why)
            return
        from csos_desktop.gui.dialogs.rx_signing import (
            RxSigningJob,
            default_revocation,
            open_rx_dialog,
        )

        check = (self._revocation or default_revocation)()
        job = RxSigningJob(
            self._store.path,
            Actor(user.user_id, os_login()),
            self._groups[group].patient_key,
            ready[group],
            self._launcher.target(),
            check,
            pharmacy=self.pharmacy.currentData(),
        )
        assert self._launcher.worker is not None
        self.dialog = open_rx_dialog(self, job, self._launcher.worker)
        self.dialog.signed.connect(self._after_sign)

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
            self._say(Tone.BAD, exc.message)

    def _after_sign(self, outcome: Outcome) -> None:
        self.reload()
        if outcome.signed:
            self.signed.emit()
