"""Home: is the token in, is the certificate good, what needs doing."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from csos_desktop.domain.token_state import pin_wording
from csos_desktop.gui.theme import PIN_TONES, Tone, dot
from csos_desktop.gui.widgets.alerts_card import AlertsCard
from csos_desktop.gui.widgets.card import Card
from csos_desktop.gui.widgets.checklist_card import ChecklistCard
from csos_desktop.services.first_run import SetupFacts, current_checklist, read_setup_facts
from csos_desktop.services.orders import queries
from csos_desktop.services.orders.queries import OrdersSummary as OrdersSummary
from csos_desktop.services.tokens.status import CertificateStatus, TokenStatus

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore

SHOWN = 5  # orders listed per card; the Orders screen has them all


def token_html(status: TokenStatus) -> str:
    """The token card's body."""
    if status.token is None:
        problem = escape(status.problem or "No token inserted.")
        return f"{dot(Tone.BAD)} <b>No token</b><br>{problem}"
    t = status.token
    pin = pin_wording(t.pin_state)
    tone, words = PIN_TONES[pin.severity], pin.short
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
    if len(status.certificates) > 1:  # several locations: one line each
        parts = [_state_html(c, _location_head(c)) for c in status.certificates]
        due = [action for _, action in parts if action]
        return "<br>".join(body for body, _ in parts), due[0] if due else None
    head = (
        f"<b>{escape(cert.subject)}</b><br>DEA {escape(cert.dea_label)} · "
        f"schedules {', '.join(cert.schedules)}<br>"
    )
    return _state_html(cert, head)


def _location_head(cert: CertificateStatus) -> str:
    return (
        f"<b>{escape(cert.location)}</b> — DEA {escape(cert.dea_label)} · schedules "
        f"{', '.join(cert.schedules)} · Id {escape(cert.key_id[:8])}…<br>"
    )


def _state_html(cert: CertificateStatus, head: str) -> tuple[str, str | None]:
    """*head*, then whether the certificate can sign and until when (45-day warning)."""
    if cert.expired:
        return (
            head + f"{dot(Tone.BAD)} <b>Expired</b> on {cert.not_after:%Y-%m-%d}: orders "
            "signed with it are rejected."
        ), "Renew…"
    registration = cert.registration_warning
    if registration is not None:
        tone = Tone.BAD if registration.ended else Tone.WARN
        return head + f"{dot(tone)} {escape(registration.message())}", None
    if cert.renewal_due:
        return (
            head + f"{dot(Tone.WARN)} Expires in <b>{cert.days_left} days</b> "
            f"({cert.not_after:%Y-%m-%d}). Renew now (21 CFR 1311.40)."
        ), "Renew…"
    return (
        head + f"{dot(Tone.OK)} Valid until {cert.not_after:%Y-%m-%d} ({cert.days_left} days)",
        None,
    )


def orders_summary(store: OpenStore) -> OrdersSummary:
    """The order cards' counts and first few orders (a few indexed queries)."""
    return queries.orders_summary(store, SHOWN)


def awaiting_html(summary: OrdersSummary) -> str:
    if not summary.awaiting:
        return f"{dot(Tone.OK)} No delivered order is waiting for its receipt."
    items = "".join(
        f"<li>{escape(r.order_number)} from {escape(r.supplier_name)}</li>"
        for r in summary.awaiting_first
    )
    return (
        f"{dot(Tone.WARN)} <b>{summary.awaiting} order(s)</b> delivered or shipped: record "
        f"their receipt (21 CFR 1305.22(g)).<ul>{items}</ul>"
    )


def attention_html(summary: OrdersSummary) -> str:
    if not summary.attention:
        return f"{dot(Tone.OK)} No order is held or rejected."
    items = "".join(
        f"<li><b>{escape(r.order_number)}</b>: {escape(why)}.</li>"
        for r, why in summary.attention_first
    )
    return f"{dot(Tone.BAD)} <b>{summary.attention} order(s)</b> need attention:<ul>{items}</ul>"


def drafts_html(summary: OrdersSummary, som: Mapping[str, tuple[str, bool]]) -> str:
    """The drafts waiting to be signed, each with what SOM says (*som*: words, flagged).

    *som* is read after the first paint (it needs the order model): until then the
    drafts are listed without it.
    """
    if not summary.drafts:
        return f"{dot(Tone.OK)} No draft is waiting to be signed."
    items = []
    for r in summary.drafts_first:
        words, flagged = som.get(r.order_id, ("", False))
        state = f" — {dot(Tone.WARN if flagged else Tone.OK)} SOM: {escape(words)}" if words else ""
        items.append(f"<li>{escape(r.order_number)} to {escape(r.supplier_name)}{state}</li>")
    return (
        f"{dot(Tone.NEUTRAL)} <b>{summary.drafts} draft(s)</b> waiting to be signed."
        f"<ul>{''.join(items)}</ul>"
    )


def outbox_html(summary: OrdersSummary) -> str:
    if summary.waiting_to_send:
        return (
            f"{dot(Tone.WARN)} {summary.waiting_to_send} signed document(s) waiting to be "
            "sent to the distributor."
        )
    return f"{dot(Tone.OK)} Nothing waiting to be sent."


class HomeScreen(QWidget):
    """Cards: token, certificate, orders awaiting receipt, orders needing attention, outbox."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        title = QLabel("Home")
        title.setObjectName("screenTitle")
        self.new_order_button = QPushButton("&New order…")
        self.new_order_button.setAccessibleName("New order")
        heading = QHBoxLayout()
        heading.addWidget(title, 1)
        heading.addWidget(self.new_order_button)
        layout.addLayout(heading)
        self.checklist_card = ChecklistCard()
        layout.addWidget(self.checklist_card)
        # The daily audit analysis's alerts (gui.jobs.daily_audit fills it; hidden if none).
        self.alerts_card = AlertsCard()
        layout.addWidget(self.alerts_card)
        grid = QGridLayout()
        grid.setSpacing(12)
        self.token_card = Card("Token")
        self.cert_card = Card("CSOS certificate")
        self.receipt_card = Card("Record the receipt of delivered CSOS orders")
        self.attention_card = Card("Orders needing attention")
        self.outbox_card = Card("Sending to the distributor")
        self.drafts_card = Card("Drafts to sign")
        grid.addWidget(self.token_card, 0, 0)
        grid.addWidget(self.cert_card, 0, 1)
        grid.addWidget(self.receipt_card, 1, 0)
        grid.addWidget(self.attention_card, 1, 1)
        grid.addWidget(self.drafts_card, 2, 0)
        grid.addWidget(self.outbox_card, 2, 1)
        layout.addLayout(grid)
        layout.addStretch(1)
        self._outbox_html = ""
        self._summary: OrdersSummary | None = None
        self._draft_som: Mapping[str, tuple[str, bool]] = {}
        self._sync_html = ""
        # Until the token thread reports and the set-up facts are read (after the first
        # paint: MainWindow.check_setup), the checklist says it is checking.
        self._status = TokenStatus(None, None, (), "Looking for tokens…")
        self.checklist_card.show_checking()
        self._show_cards(self._status)

    def show_orders(self, summary: OrdersSummary) -> None:
        self.receipt_card.set_body(awaiting_html(summary))
        self.receipt_card.set_action("Record receipts…" if summary.awaiting else None)
        self.attention_card.set_body(attention_html(summary))
        self.attention_card.set_action("Show these orders…" if summary.attention else None)
        self._outbox_html = outbox_html(summary)
        self._show_outbox()
        self._summary = summary
        self._show_drafts()

    def show_draft_som(self, som: Mapping[str, tuple[str, bool]]) -> None:
        """Each listed draft's SOM state: order id → (words, flagged)."""
        self._draft_som = som
        self._show_drafts()

    def _show_drafts(self) -> None:
        if self._summary is None:
            return
        self.drafts_card.set_body(drafts_html(self._summary, self._draft_som))
        self.drafts_card.set_action("Review and sign drafts…" if self._summary.drafts else None)

    def show_sync(self, html: str, sending: bool) -> None:
        """The last exchange with the distributor, and *Send now* (disabled while sending)."""
        self._sync_html = html
        self.outbox_card.set_action("Sending…" if sending else "Send now")
        self.outbox_card.button.setAccessibleName("Send now to the distributor")
        self.outbox_card.button.setEnabled(not sending)
        self._show_outbox()

    def _show_outbox(self) -> None:
        parts = [p for p in (self._outbox_html, self._sync_html) if p]
        self.outbox_card.set_body("<br>".join(parts))

    def show_status(self, status: TokenStatus) -> None:
        """A new token state: the cards, and the checklist with the set-up read again."""
        self._status = status
        self.show_setup_facts(read_setup_facts())
        self._show_cards(status)

    def show_setup_facts(self, facts: SetupFacts) -> None:
        self.checklist_card.show_items(current_checklist(self._status, facts))

    def setup_unreadable(self, message: str) -> None:
        self.checklist_card.set_body(f"The set-up could not be checked: {escape(message)}")

    def _show_cards(self, status: TokenStatus) -> None:
        self.token_card.set_body(token_html(status))
        body, action = certificate_html(status)
        self.cert_card.set_body(body)
        self.cert_card.set_action(action)
