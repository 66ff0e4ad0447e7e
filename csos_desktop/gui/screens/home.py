"""Home: is the token in, is the certificate good, what needs doing."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from csos_desktop.gui.card import Card
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.services.token_status import TokenStatus
from csos_desktop.token.slots import PinState

PIN_WORDS = {
    PinState.OK: (Tone.OK, "PIN ready"),
    PinState.COUNT_LOW: (Tone.WARN, "PIN: several wrong tries, few left"),
    PinState.FINAL_TRY: (Tone.BAD, "PIN: final try before the token locks"),
    PinState.LOCKED: (Tone.BAD, "PIN locked: contact your token administrator"),
    PinState.TO_BE_CHANGED: (Tone.WARN, "PIN must be changed"),
    PinState.NOT_INITIALIZED: (Tone.BAD, "Token not initialised"),
}


def token_html(status: TokenStatus) -> str:
    """The token card's body."""
    if status.token is None:
        problem = escape(status.problem or "No token inserted.")
        return f"{dot(Tone.BAD)} <b>No token</b><br>{problem}"
    t = status.token
    tone, words = PIN_WORDS[t.pin_state]
    pad = "<br>PIN is typed on the reader's keypad." if t.protected_auth_path else ""
    return (
        f"{dot(Tone.OK)} <b>{escape(t.label)}</b> inserted<br>"
        f"{escape(t.manufacturer)} {escape(t.model)}, serial {escape(t.serial)}<br>"
        f"{dot(tone)} {words}{pad}"
    )


def certificate_html(status: TokenStatus) -> tuple[str, str | None]:
    """The certificate card's body, and the action to offer (renew) if any."""
    cert = status.certificate
    if status.token is None:
        return f"{dot(Tone.NEUTRAL)} Insert your token to see its certificate.", None
    if cert is None:
        return (
            f"{dot(Tone.BAD)} <b>No CSOS certificate</b> on this token.<br>"
            "Enrol with the one-time codes from your certificate authority."
        ), "Enrol…"
    head = (
        f"<b>{escape(cert.subject)}</b><br>DEA {escape(cert.dea_number)} · "
        f"schedules {', '.join(cert.schedules)}<br>"
    )
    if cert.expired:
        return (
            head + f"{dot(Tone.BAD)} <b>Expired</b> on {cert.not_after:%Y-%m-%d}: orders "
            "signed with it are rejected."
        ), "Renew…"
    if cert.renewal_due:
        return (
            head + f"{dot(Tone.WARN)} Expires in <b>{cert.days_left} days</b> "
            f"({cert.not_after:%Y-%m-%d}). Renew now (21 CFR 1311.40)."
        ), "Renew…"
    return (
        head + f"{dot(Tone.OK)} Valid until {cert.not_after:%Y-%m-%d} ({cert.days_left} days)",
        None,
    )


class HomeScreen(QWidget):
    """Cards for the token and the certificate; order cards join as their services land."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        title = QLabel("Home")
        title.setObjectName("screenTitle")
        layout.addWidget(title)
        grid = QGridLayout()
        grid.setSpacing(12)
        self.token_card = Card("Token")
        self.cert_card = Card("CSOS certificate")
        grid.addWidget(self.token_card, 0, 0)
        grid.addWidget(self.cert_card, 0, 1)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.show_status(TokenStatus(None, None, (), "Looking for tokens…"))

    def show_status(self, status: TokenStatus) -> None:
        self.token_card.set_body(token_html(status))
        body, action = certificate_html(status)
        self.cert_card.set_body(body)
        self.cert_card.set_action(action)
