"""The system tray icon and its notifications: shipped → record receipt, expiring, intercepted.

What to announce is a pure function of the previous and the new state, so it is
tested without a tray; the icon only shows the messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.screens.home import OrdersSummary
from csos_desktop.services.tokens.status import TokenStatus

if TYPE_CHECKING:
    from csos_desktop.gui.jobs.sync import SyncResult


#: Qt reads the icons by file name, so they are files on disk (tree, wheel or bundle); named
#: from here rather than by importlib.resources, whose readers import zipfile at start-up.
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"


def icon(name: str) -> QIcon:
    """An SVG icon from ``csos_desktop/resources/icons`` (sharp at any DPI)."""
    return QIcon(str(ICONS / f"{name}.svg"))


@dataclass(frozen=True)
class Seen:
    """What was already announced, so each event is told once."""

    shipped: frozenset[str] = frozenset()
    intercepted: frozenset[str] = frozenset()
    expiry_warned: bool = False


def notifications(
    seen: Seen | None, summary: OrdersSummary | None, status: TokenStatus | None
) -> tuple[Seen, list[tuple[str, str]]]:
    """(what is now known, messages to show); the first call only learns the state."""
    awaiting = summary.awaiting_first if summary else ()
    attention = summary.attention_first if summary else ()
    shipped = frozenset(
        r.order_id for r in awaiting if r.state in (OrderState.SHIPPED, OrderState.SHIPPED_PARTIAL)
    )
    held = frozenset(r.order_id for r, _ in attention if r.state is OrderState.INTERCEPTED)
    cert = status.certificate if status else None
    due = bool(cert and cert.renewal_due)
    now = Seen(shipped, held, due)
    if seen is None:
        return now, []
    out = [
        (f"Order {r.order_number} shipped", "Record its receipt when it arrives (Receiving).")
        for r in awaiting
        if r.order_id in shipped - seen.shipped
    ]
    out += [
        (f"Order {r.order_number} held for review", why[0].upper() + why[1:] + ".")
        for r, why in attention
        if r.order_id in held - seen.intercepted
    ]
    if cert is not None and due and not seen.expiry_warned:
        out.append(
            ("CSOS certificate expired", "Enrol again with new codes from the CA.")
            if cert.expired
            else (
                "CSOS certificate expiring",
                cert.warning.message()
                if cert.warning is not None
                else f"{cert.days_left} day(s) left: renew it in Certificates.",
            )
        )
    return now, out


def sync_notifications(previous: SyncResult | None, result: SyncResult) -> list[tuple[str, str]]:
    """After a distributor pass: documents it refused, and the link lost (once, not per try)."""
    from csos_desktop.gui.jobs.sync import Link

    out: list[tuple[str, str]] = []
    if result.report is not None and result.report.refused:
        n = len(result.report.refused)
        out.append(
            (
                f"{n} document(s) refused by the distributor",
                "See Orders → Needs attention for the reasons.",
            )
        )
    if result.link is Link.OFFLINE and previous is not None and previous.link is Link.ONLINE:
        out.append(
            (
                "Distributor offline",
                f"{result.reason or 'No answer'}. Signed documents "
                "stay queued and are sent when it answers again.",
            )
        )
    return out


class Tray:
    """The tray icon with Show/Quit; `notify` shows a message when a tray exists."""

    def __init__(self, window: QWidget) -> None:
        self.icon = QSystemTrayIcon(icon("app"), window)
        self.icon.setToolTip("CSOS Desktop")
        menu = QMenu(window)
        menu.addAction("Show CSOS Desktop", window.showNormal)
        menu.addAction("Quit", window.close)
        self.icon.setContextMenu(menu)
        self._window = window
        self.icon.activated.connect(self._raise)
        self.seen: Seen | None = None
        self._last_sync: SyncResult | None = None
        self.shown: list[tuple[str, str]] = []  # kept for tests and the offscreen platform
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon.show()

    def _raise(self) -> None:
        self._window.showNormal()
        self._window.raise_()

    def update(self, summary: OrdersSummary | None, status: TokenStatus | None) -> None:
        self.seen, messages = notifications(self.seen, summary, status)
        self._show(messages)

    def _show(self, messages: list[tuple[str, str]]) -> None:
        for title, text in messages:
            self.shown.append((title, text))
            if self.icon.isVisible():
                self.icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information)

    def sync_finished(self, result: SyncResult) -> None:
        """Announce what a distributor pass needs the user to know (shipped orders come
        through `update`, which the window calls with the re-read summary)."""
        messages = sync_notifications(self._last_sync, result)
        self._last_sync = result
        self._show(messages)
