"""Prescriptions: the drafts queue, the signed history, practice users and permissions.

Agents and practitioners prepare and edit drafts here (or with `csos rx draft add`);
everyone on record sees them, per practitioner and patient. A practitioner ticks the
drafts ready for signing and opens the review (21 CFR 1311.140(a)(1)-(2)); the dialog
shows the review with the attestation and asks token and PIN on the token thread.
Agents see the drafts but get no sign button. Who acts is taken on only by *Act as*
(widgets/acting_user.py). Reads here are short queries on the UI thread's connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.clock import utc_now
from csos_desktop.domain.errors import CsosError
from csos_desktop.gui.dialogs.confirm import ConfirmDialog
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.screens.rx_practice import PracticePanel
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.acting_user import ROLE_WORDS, ActingUser
from csos_desktop.gui.widgets.pharmacy_choice import PharmacyChoice
from csos_desktop.gui.widgets.rx_history import SignedHistory
from csos_desktop.services.pharmacy_store import Role, RxUser
from csos_desktop.services.rx import queries as rx_queries
from csos_desktop.services.rx.access import Actor, os_login
from csos_desktop.services.rx.drafts import PatientQueue, queue, void_draft

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore

if TYPE_CHECKING:  # the signing stack is imported when a signing starts
    from csos_desktop.domain.pharmacy import Pharmacy
    from csos_desktop.gui.dialogs.rx_draft import RxDraftDialog
    from csos_desktop.gui.dialogs.rx_signing import RxSigningDialog
    from csos_desktop.gui.jobs.signing import Outcome
    from csos_desktop.services.rx.ceremony import RevocationCheck

RX_ID = Qt.ItemDataRole.UserRole


class PrescriptionsScreen(QWidget):
    """Acting user; tabs: drafts per patient (tick = ready) and Sign, history, practice."""

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
        self._groups: list[PatientQueue] = []
        self._filling = False
        self.dialog: RxSigningDialog | None = None
        self.editor: RxDraftDialog | None = None
        self.confirm: ConfirmDialog | None = None

        layout = QVBoxLayout(self)
        title = QLabel("Prescriptions")
        title.setObjectName("screenTitle")
        hint = QLabel(
            "Controlled-substance prescriptions: prepare drafts, tick those ready and "
            "review and sign one patient's prescriptions with your token and PIN."
        )
        hint.setWordWrap(True)
        hint.setAccessibleDescription("About prescriptions")
        self.acting_user = ActingUser(os_login() or "unknown")
        self.user = self.acting_user.user  # the list to choose from (Act as takes it on)
        self.binding = self.acting_user.binding
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Prescription views")
        queue_page = QWidget()
        page = QVBoxLayout(queue_page)
        self.drafts = QTreeWidget()
        self.drafts.setAccessibleName("Drafts per patient")
        self.drafts.setHeaderLabels(
            ["Patient / prescription", "Schedule", "Prepared by", "Prescriber DEA"]
        )
        self.drafts.setColumnWidth(0, 380)
        self.new_button = QPushButton("&New prescription…")
        self.new_button.setAccessibleName("Prepare a new prescription")
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setAccessibleName("Edit the selected draft")
        draft_row = QHBoxLayout()
        draft_row.addWidget(self.new_button)
        draft_row.addWidget(self.edit_button)
        self.void_button = QPushButton("&Void draft…")
        self.void_button.setAccessibleName("Void the selected draft")
        draft_row.addWidget(self.void_button)
        draft_row.addStretch(1)
        ready_label = QLabel("&Ready for signing:")
        self.ready = QListWidget()
        self.ready.setAccessibleName("Ready for signing")
        self.ready.setMaximumHeight(120)
        ready_label.setBuddy(self.ready)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription("Prescriptions status")
        self.sign_button = QPushButton("Review and &sign…")
        self.sign_button.setAccessibleName("Review and sign prescriptions")
        self.pharmacy_choice = PharmacyChoice()
        self.pharmacy_choice.problem.connect(lambda text: self._say(Tone.BAD, text))
        self.pharmacy = self.pharmacy_choice.pharmacy
        buttons = QHBoxLayout()
        buttons.addWidget(self.pharmacy_choice, 1)
        buttons.addWidget(self.sign_button)
        page.addWidget(self.drafts, 1)
        page.addLayout(draft_row)
        page.addWidget(ready_label)
        page.addWidget(self.ready)
        page.addWidget(self.status)
        page.addLayout(buttons)
        self.tabs.addTab(queue_page, "&Queue")
        self.history: SignedHistory | None = None
        self.practice: PracticePanel | None = None
        if store is not None:
            self.history = SignedHistory(store)
            self.practice = PracticePanel(store, launcher, lambda: self.acting)
            self.practice.changed.connect(self._users_changed)
            self.tabs.addTab(self.history, "Signed hist&ory")
            # Two tables and two forms: taller than a small screen, so the tab scrolls.
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(self.practice)
            self.tabs.addTab(scroll, "Users and &permissions")
        for w in (title, hint, self.acting_user):
            layout.addWidget(w)
        layout.addWidget(self.tabs, 1)

        self.acting_user.changed.connect(self._user_changed)
        self.drafts.itemChanged.connect(self._ticked)
        self.drafts.currentItemChanged.connect(self._selection_changed)
        self.drafts.itemActivated.connect(lambda item, _col: self._open(item))
        self.new_button.clicked.connect(self.new_draft)
        self.edit_button.clicked.connect(lambda: self._open(self.drafts.currentItem()))
        self.void_button.clicked.connect(self.void_selected)
        self.sign_button.clicked.connect(self.sign)
        self.reload()

    # -- reading ---------------------------------------------------------------------
    @property
    def acting(self) -> RxUser | None:
        return self.acting_user.acting

    def reload(self) -> None:
        """Re-read users, drafts and history (another window, the CLI or a signing changed them)."""
        if self._store is None:
            self._say(Tone.BAD, self._problem or "The prescription store is unavailable.")
            for w in (self.sign_button, self.new_button, self.edit_button, self.void_button):
                w.setVisible(False)
            return
        for panel in (self.history, self.practice):
            if panel is not None:
                panel.reload()
        self._users_changed()

    def _users_changed(self) -> None:
        assert self._store is not None
        try:
            users = list(rx_queries.users(self._store, active_only=True))
        except CsosError as exc:
            self._say(Tone.BAD, exc.message)
            return
        self.acting_user.set_users(users)
        self._user_changed()

    def _user_changed(self) -> None:
        user = self.acting
        signer = user is not None and user.role is Role.PRACTITIONER
        self.sign_button.setVisible(signer)
        preparer = user is not None and user.role is not Role.ACCESS_ADMIN
        self.new_button.setEnabled(preparer)
        self.edit_button.setEnabled(preparer)
        self.void_button.setEnabled(preparer)
        assert self._store is not None
        try:
            if signer and user is not None:
                # Every registration of theirs (1311.120(b)(7)): one group per DEA number
                # and patient, each signed under its own registration.
                regs = rx_queries.registrations(self._store, user.user_id)
                deas = [r.dea_number for r in regs] or [user.dea_number or ""]
                groups = [g for dea in deas for g in queue(self._store, dea)]
            else:
                groups = queue(self._store, None)
        except CsosError as exc:
            self._say(Tone.BAD, exc.message)
            return
        self._fill(groups, signer)

    # -- preparing and editing ------------------------------------------------------------
    def new_draft(self) -> None:
        self._edit(None)

    def _open(self, item: QTreeWidgetItem | None) -> None:
        rx_id = item.data(0, RX_ID) if item is not None else None
        if rx_id is None:
            self._say(Tone.WARN, "Select a prescription draft to edit.")
            return
        self._edit(str(rx_id))

    def _edit(self, rx_id: str | None) -> None:
        """The draft form (window-modal); it saves through the preparing services."""
        user = self.acting
        if self._store is None or user is None:
            self._say(Tone.WARN, "Choose yourself under Acting user and press Act as first.")
            return
        from csos_desktop.gui.dialogs.rx_draft import open_draft_form

        try:
            self.editor = open_draft_form(
                self, self._store, Actor(user.user_id, os_login()), self.acting_user.users, rx_id
            )
        except CsosError as exc:
            self._say(Tone.BAD, exc.message)
            return
        self.editor.accepted.connect(self._saved)

    def _saved(self) -> None:
        rec = self.editor.record if self.editor is not None else None
        self._user_changed()
        if rec is not None:
            for item in self.drafts.findItems(
                "", Qt.MatchFlag.MatchContains | Qt.MatchFlag.MatchRecursive
            ):
                if item.data(0, RX_ID) == rec.rx_id:
                    self.drafts.setCurrentItem(item)  # the saved draft stays selected
            self._say(Tone.OK, f"Draft {rec.rx_id[:8]} saved: {rec.drug} for {rec.patient_name}.")

    def void_selected(self) -> None:
        """Asks why, then takes the selected draft off the queue (its record stays)."""
        item = self.drafts.currentItem()
        rx_id = item.data(0, RX_ID) if item is not None else None
        user = self.acting
        if self._store is None or user is None:
            self._say(Tone.WARN, "Choose yourself under Acting user and press Act as first.")
            return
        if rx_id is None:
            self._say(Tone.WARN, "Select the prescription draft to void.")
            return
        draft = next(d for g in self._groups for d in g.drafts if d.rx_id == rx_id)
        self.confirm = ConfirmDialog(
            self,
            "Void draft",
            f"Void the draft {draft.drug} for {draft.patient_name}? It leaves the queue and "
            "cannot be signed; the draft and your reason stay on record.",
            "&Void draft",
            reason_label="&Reason:",
        )
        actor = Actor(user.user_id, os_login())
        self.confirm.confirmed.connect(lambda reason: self._void(actor, str(rx_id), reason))
        self.confirm.open()

    def _void(self, actor: Actor, rx_id: str, reason: str) -> None:
        assert self._store is not None
        try:
            rec = void_draft(self._store, actor, rx_id, reason, now=utc_now())
        except CsosError as exc:
            self._user_changed()  # another window may have changed the queue
            self._say(Tone.BAD, exc.message)
            return
        self._user_changed()
        self._say(Tone.OK, f"Draft {rec.rx_id[:8]} ({rec.drug} for {rec.patient_name}) is void.")

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
        if user is None and not self.acting_user.users:
            self._say(
                Tone.NEUTRAL,
                "No prescribing user is on record: the first access administrator adds "
                "themselves, then everyone else, under Users and permissions.",
            )
        elif user is None:
            self._say(
                Tone.NEUTRAL,
                f"{len(self._groups)} patient(s) with drafts. Choose yourself under "
                "Acting user and press Act as to prepare or sign.",
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
            pharmacy=self.pharmacy_choice.chosen(),
            dea=self._groups[group].practitioner_dea,
        )
        assert self._launcher.worker is not None
        self.dialog = open_rx_dialog(self, job, self._launcher.worker)
        self.dialog.signed.connect(self._after_sign)

    def set_pharmacies(self, pharmacies: Sequence[Pharmacy]) -> None:
        self.pharmacy_choice.set_pharmacies(pharmacies)

    def _after_sign(self, outcome: Outcome) -> None:
        self.reload()
        if outcome.signed:
            self.signed.emit()
