"""Practice users and their signing permissions: the `csos rx user|grant` of the window.

Every action goes to the same service the command line calls, as the acting user, and
a refusal is shown as the service words it (it is in the audit log too). A permission
takes two people (21 CFR 1311.125(c)): the first proposes it with the practitioner's
token inserted (its certificate is named, no PIN); the second, a DEA registrant,
approves it in the signing dialog with their own token and PIN. A revocation is
entered by one person (signing stops at once) and executed the same way by a second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.clock import utc_now
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.timestamps import local_text
from csos_desktop.gui.dialogs.confirm import ConfirmDialog
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.gui.widgets.acting_user import ROLE_WORDS
from csos_desktop.services.pharmacy_store import Grant, GrantState, Role, RxUser
from csos_desktop.services.rx.access import Actor, os_login
from csos_desktop.services.rx.grant_revocation import revoke_grant
from csos_desktop.services.rx.grants import propose_grant
from csos_desktop.services.rx.history import practice_records
from csos_desktop.services.rx.users import add_user, deactivate_user

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore

USER_COLUMNS = ("User", "Name", "Role", "DEA number", "Signing permission")
GRANT_COLUMNS = (
    "#",
    "Practitioner",
    "DEA number",
    "State",
    "Proposed by",
    "Approved by",
    "Revocation",
)


def _table(name: str, columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setAccessibleName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setTabKeyNavigation(False)  # Tab leaves the table
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.setMinimumHeight(150)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()


def permission_words(grant: Grant | None) -> str:
    if grant is None:
        return "none"
    if grant.revoke_entered_by:
        return f"#{grant.grant_id} revocation entered (cannot sign)"
    return f"#{grant.grant_id} {grant.state.value}"


class PracticePanel(QWidget):
    """Users, their permissions, and the one- and two-person steps on them."""

    changed = Signal()  # users or permissions changed: the acting-user list re-reads

    def __init__(
        self,
        store: OpenStore,
        launcher: SigningLauncher,
        acting: Callable[[], RxUser | None],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__()
        self._store, self._launcher, self._acting, self._clock = store, launcher, acting, clock
        self._users: list[RxUser] = []
        self._grants: list[Grant] = []
        self.dialog: QWidget | None = None  # the last signing dialog opened (approvals)
        self.confirm: ConfirmDialog | None = None
        layout = QVBoxLayout(self)
        self.users = _table("Practice users", USER_COLUMNS)
        layout.addWidget(self.users)
        self.deactivate_button = QPushButton("&Deactivate user…")
        self.deactivate_button.setAccessibleName("Deactivate the selected user")
        user_row = QHBoxLayout()
        user_row.addStretch(1)
        user_row.addWidget(self.deactivate_button)
        layout.addLayout(user_row)

        add = QGroupBox("Add a user")
        # One row of fields under the list: the list keeps the height.
        form = QHBoxLayout(add)
        self.new_id = QLineEdit()
        self.new_id.setAccessibleName("New user id")
        self.new_id.setPlaceholderText("e.g. drsmith")
        self.new_name = QLineEdit()
        self.new_name.setAccessibleName("New user's full name")
        self.new_role = QComboBox()
        self.new_role.setAccessibleName("New user's role")
        for role in (Role.PRACTITIONER, Role.AGENT, Role.ACCESS_ADMIN):
            self.new_role.addItem(ROLE_WORDS[role], role)
        self.new_dea = QLineEdit()
        self.new_dea.setAccessibleName("New user's DEA number")
        self.new_dea.setPlaceholderText("if a registrant")
        self.add_button = QPushButton("Add use&r")
        self.add_button.setAccessibleName("Add the user")
        for text, field, stretch in (
            ("User id:", self.new_id, 1),
            ("Full name:", self.new_name, 2),
            ("Role:", self.new_role, 0),
            ("DEA:", self.new_dea, 1),
        ):
            label = QLabel(text)
            label.setBuddy(field)
            form.addWidget(label)
            form.addWidget(field, stretch)
        form.addWidget(self.add_button)
        layout.addWidget(add)

        self.grants = _table("Signing permissions", GRANT_COLUMNS)
        layout.addWidget(self.grants)
        steps = QGroupBox("Permission to sign (two people, 21 CFR 1311.125)")
        steps_form = QFormLayout(steps)
        self.expires = QLineEdit()
        self.expires.setAccessibleName("DEA registration ends")
        self.expires.setPlaceholderText("YYYY-MM-DD")
        self.expires.setMaximumWidth(140)
        self.verified = QCheckBox(
            "I checked the practitioner's DEA registration and State authorisation are current"
        )
        self.verified.setAccessibleName("Registration verified")
        self.propose_button = QPushButton("Propose permi&ssion")
        self.propose_button.setAccessibleName("Propose permission for the selected user")
        self.approve_button = QPushButton("Appro&ve…")
        self.approve_button.setAccessibleName("Approve the selected permission")
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Revocation reason")
        self.revoke_button = QPushButton("E&nter revocation")
        self.revoke_button.setAccessibleName("Enter the revocation of the selected permission")
        self.execute_button = QPushButton("E&xecute revocation…")
        self.execute_button.setAccessibleName("Execute the revocation of the selected permission")
        first = QHBoxLayout()
        first.addWidget(self.propose_button)
        first.addWidget(self.approve_button)
        first.addStretch(1)
        second = QHBoxLayout()
        second.addWidget(self.reason, 1)
        second.addWidget(self.revoke_button)
        second.addWidget(self.execute_button)
        ends = QHBoxLayout()
        ends.addWidget(self.expires)
        ends.addWidget(self.verified, 1)
        steps_form.addRow("Registration ends:", ends)
        steps_form.addRow("", first)
        steps_form.addRow("Reason:", second)
        layout.addWidget(steps)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription("Users and permissions status")
        layout.addWidget(self.status)

        self.add_button.clicked.connect(self.add_user)
        self.deactivate_button.clicked.connect(self.deactivate)
        self.propose_button.clicked.connect(self.propose)
        self.approve_button.clicked.connect(self.approve)
        self.revoke_button.clicked.connect(self.enter_revocation)
        self.execute_button.clicked.connect(self.execute_revocation)
        self.reload()

    # -- reading -----------------------------------------------------------------------
    def reload(self) -> None:
        try:
            records = practice_records(self._store)
        except CsosError as exc:
            self.say(Tone.BAD, exc.message)
            return
        self._users, self._grants = list(records.users), list(records.grants)
        permission = records.permission
        _fill(
            self.users,
            [
                [
                    u.user_id,
                    u.full_name + ("" if u.active else " (deactivated)"),
                    ROLE_WORDS[u.role],
                    u.dea_number or "-",
                    permission_words(permission[u.user_id]) if u.role is Role.PRACTITIONER else "-",
                ]
                for u in self._users
            ],
        )
        _fill(
            self.grants,
            [
                [
                    str(g.grant_id),
                    g.user_id,
                    g.dea_number,
                    g.state.value,
                    f"{g.proposed_by} {local_text(g.proposed_at)}",
                    f"{g.approved_by} {local_text(g.approved_at)}" if g.approved_by else "-",
                    self._revocation_words(g),
                ]
                for g in self._grants
            ],
        )

    @staticmethod
    def _revocation_words(g: Grant) -> str:
        if g.revoked_by:
            return f"revoked by {g.revoked_by} {local_text(g.revoked_at)} ({g.revoke_reason})"
        if g.revoke_entered_by:
            return f"entered by {g.revoke_entered_by} ({g.revoke_reason}); awaits a registrant"
        return "-"

    def selected_user(self) -> RxUser | None:
        row = self.users.currentRow()
        return self._users[row] if 0 <= row < len(self._users) else None

    def selected_grant(self) -> Grant | None:
        row = self.grants.currentRow()
        return self._grants[row] if 0 <= row < len(self._grants) else None

    def say(self, tone: Tone, text: str) -> None:
        self.status.setText(f"{dot(tone)} {escape(text)}")

    def _actor(self) -> Actor | None:
        user = self._acting()
        if user is None:
            self.say(Tone.WARN, "Choose yourself under Acting user and press Act as first.")
            return None
        return Actor(user.user_id, os_login())

    def _done(self, tone: Tone, text: str) -> None:
        self.reload()
        self.say(tone, text)
        self.changed.emit()

    # -- one-person steps ---------------------------------------------------------------
    def add_user(self) -> None:
        """The first user needs no actor (an access administrator); later ones an admin."""
        actor = None
        if self._users:
            actor = self._actor()
            if actor is None:
                return
        try:
            user = add_user(
                self._store,
                actor,
                self.new_id.text(),
                self.new_name.text(),
                Role(self.new_role.currentData()),
                self.new_dea.text().strip() or None,
                now=self._clock(),
            )
        except CsosError as exc:
            self.say(Tone.BAD, exc.message)
            return
        for edit in (self.new_id, self.new_name, self.new_dea):
            edit.clear()
        hint = (
            " To sign, they need a permission proposed by one person and approved by another."
            if user.role is Role.PRACTITIONER
            else ""
        )
        self._done(
            Tone.OK, f"Added {ROLE_WORDS[user.role]} {user.full_name} ({user.user_id}).{hint}"
        )

    def deactivate(self) -> None:
        """An access administrator ends a user's access, after a confirmation."""
        user, actor = self.selected_user(), self._actor()
        if actor is None:
            return
        if user is None:
            self.say(Tone.WARN, "Select the user to deactivate.")
            return
        self.confirm = ConfirmDialog(
            self,
            "Deactivate user",
            f"End the access of {user.full_name} ({user.user_id})? They can no longer "
            "prepare or sign prescriptions and an open signing permission is revoked with "
            "it. Their records stay.",
            "&Deactivate",
        )
        self.confirm.confirmed.connect(lambda _reason: self._deactivate(actor, user.user_id))
        self.confirm.open()

    def _deactivate(self, actor: Actor, user_id: str) -> None:
        try:
            user = deactivate_user(self._store, actor, user_id, now=self._clock())
        except CsosError as exc:
            self.say(Tone.BAD, exc.message)
            return
        self._done(Tone.OK, f"Deactivated {user.full_name} ({user.user_id}).")

    def enter_revocation(self) -> None:
        """First person: signing stops at once; a registrant executes it (or a proposal ends)."""
        grant, actor = self.selected_grant(), self._actor()
        if actor is None:
            return
        if grant is None:
            self.say(Tone.WARN, "Select the permission to revoke.")
            return
        try:
            g = revoke_grant(
                self._store, actor, grant.user_id, self.reason.text(), now=self._clock()
            )
        except CsosError as exc:
            self.say(Tone.BAD, exc.message)
            return
        self.reason.clear()
        if g.state is GrantState.REVOKED:
            self._done(Tone.OK, f"Proposed permission #{g.grant_id} of {g.user_id} is withdrawn.")
        else:
            self._done(
                Tone.WARN,
                f"Revocation of permission #{g.grant_id} ({g.user_id}) entered: they can no "
                "longer sign. A second person, a DEA registrant, executes it.",
            )

    # -- steps with a token -------------------------------------------------------------
    def propose(self) -> None:
        """First person: name the certificate on the practitioner's token (read, no PIN)."""
        user, actor = self.selected_user(), self._actor()
        if actor is None:
            return
        if user is None:
            self.say(Tone.WARN, "Select the practitioner in the users list.")
            return
        try:
            ends = date.fromisoformat(self.expires.text().strip())
        except ValueError:
            self.say(Tone.BAD, "Give the day the DEA registration ends as YYYY-MM-DD.")
            self.expires.setFocus()
            return
        why = self._launcher.unavailable()
        if why is not None:
            self.say(Tone.BAD, f"{why} (the practitioner's token names the certificate).")
            return
        from csos_desktop.gui.jobs.rx_grants import token_certificate

        target, verified = self._launcher.target(), self.verified.isChecked()
        assert self._launcher.worker is not None
        self.say(Tone.NEUTRAL, "Reading the certificate on the practitioner's token…")
        self._launcher.worker.submit(
            self,
            lambda _progress: token_certificate(target),
            lambda der: self._proposed(actor, user.user_id, der, ends, verified),
            lambda exc: self.say(Tone.BAD, getattr(exc, "message", str(exc))),
        )

    def _proposed(self, actor: Actor, user_id: str, der: bytes, ends: date, ok: bool) -> None:
        try:
            g = propose_grant(
                self._store,
                actor,
                user_id,
                certificate_der=der,
                registration_expires=ends,
                registration_verified=ok,
                now=self._clock(),
            )
        except CsosError as exc:
            self.say(Tone.BAD, exc.message)
            return
        self.verified.setChecked(False)
        self._done(
            Tone.WARN,
            f"Proposed permission #{g.grant_id} for {g.user_id} (certificate SHA-256 "
            f"{g.certificate_sha256[:16] if g.certificate_sha256 else '?'}…). A second person, "
            "a DEA registrant, approves it with their token and PIN.",
        )

    def approve(self) -> None:
        self._second_person("grant")

    def execute_revocation(self) -> None:
        self._second_person("revoke")

    def _second_person(self, step: str) -> None:
        """The signing dialog: the second person's token and PIN (21 CFR 1311.125(c))."""
        grant, actor = self.selected_grant(), self._actor()
        if actor is None:
            return
        if grant is None:
            self.say(Tone.WARN, "Select the permission in the list.")
            return
        why = self._launcher.unavailable()
        if why is not None:
            self.say(Tone.BAD, why)
            return
        from csos_desktop.gui.jobs.rx_grants import GrantApprovalJob, SecondStep

        job = GrantApprovalJob(
            self._store.path, actor, grant.grant_id, SecondStep(step), self._launcher.target()
        )
        dialog = self._launcher.open(self, job)
        dialog.signed.connect(lambda _outcome: self._done(Tone.NEUTRAL, "Permissions re-read."))
        self.dialog = dialog
