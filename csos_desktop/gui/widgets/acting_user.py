"""Who acts in the Prescriptions screen: chosen in a list, taken on only by *Act as*.

A combo box changes its value on the arrow keys and the mouse wheel. The acting user is
recorded with everything done here (21 CFR 1311.125: each action is the person's own),
so browsing the list must never switch identity: the choice takes effect on an explicit
press of *Act as*, and the line beside it always says who acts now.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from csos_desktop.services.pharmacy_store import Role, RxUser

ROLE_WORDS = {
    Role.PRACTITIONER: "practitioner",
    Role.AGENT: "agent",
    Role.ACCESS_ADMIN: "access administrator",
}


def user_text(user: RxUser) -> str:
    return f"{user.full_name} ({user.user_id}, {ROLE_WORDS[user.role]})"


class ActingUser(QWidget):
    """The list of active users, *Act as*, and the person acting now."""

    changed = Signal()  # the acting user was switched (by Act as, or left the list)

    def __init__(self, os_login: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._users: list[RxUser] = []
        self._acting: RxUser | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        label = QLabel("Acting &user:")
        self.user = QComboBox()
        self.user.setAccessibleName("Acting user")
        self.user.setAccessibleDescription("Choose yourself, then press Act as")
        # The wheel passing over the list must not even change the choice.
        self.user.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        label.setBuddy(self.user)
        self.act_button = QPushButton("&Act as")
        self.act_button.setAccessibleName("Act as the chosen user")
        self.current = QLabel()
        self.current.setTextFormat(Qt.TextFormat.RichText)
        self.current.setAccessibleDescription("Who acts now")
        row.addWidget(label)
        row.addWidget(self.user, 1)
        row.addWidget(self.act_button)
        layout.addLayout(row)
        layout.addWidget(self.current)
        self.binding = QLabel(
            f"Choose yourself and press Act as. Your deployment binds this choice to your "
            f"operating-system login ({escape(os_login)}), which is recorded with everything "
            "you do here."
        )
        self.binding.setWordWrap(True)
        self.binding.setAccessibleDescription("User binding")
        layout.addWidget(self.binding)
        self.user.currentIndexChanged.connect(self._choice_moved)
        self.act_button.clicked.connect(self.act)
        self._show()

    @property
    def acting(self) -> RxUser | None:
        return self._acting

    @property
    def users(self) -> list[RxUser]:
        return list(self._users)

    def set_users(self, users: Sequence[RxUser]) -> None:
        """The active users; the acting one stays if still active, else nobody acts."""
        self._users = list(users)
        ids = [u.user_id for u in users]
        acting = self._acting.user_id if self._acting else None
        self.user.blockSignals(True)
        self.user.clear()
        for u in users:
            self.user.addItem(user_text(u))
        self.user.setCurrentIndex(ids.index(acting) if acting in ids else 0 if ids else -1)
        self.user.blockSignals(False)
        left = acting is not None and acting not in ids
        self._acting = self._users[ids.index(acting)] if acting in ids else None
        self._show()
        if left:
            self.changed.emit()

    def choose(self, user_id: str) -> None:
        """Select *user_id* in the list (not acting yet: press Act as)."""
        ids = [u.user_id for u in self._users]
        self.user.setCurrentIndex(ids.index(user_id))

    def act(self) -> None:
        """Take on the user chosen in the list."""
        i = self.user.currentIndex()
        chosen = self._users[i] if 0 <= i < len(self._users) else None
        if chosen is None or chosen == self._acting:
            return
        self._acting = chosen
        self._show()
        self.changed.emit()

    def _choice_moved(self) -> None:
        self._show()

    def _show(self) -> None:
        i = self.user.currentIndex()
        chosen = self._users[i] if 0 <= i < len(self._users) else None
        self.act_button.setEnabled(chosen is not None and chosen != self._acting)
        if self._acting is None:
            self.current.setText("Nobody acts yet: choose yourself and press <b>Act as</b>.")
        else:
            self.current.setText(f"Acting as <b>{escape(user_text(self._acting))}</b>.")
