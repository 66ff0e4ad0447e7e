"""The main window: navigation on the left, one screen at a time, status bar below."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.config import load_config
from csos_desktop.domain.token_state import pin_wording
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.help_menu import HelpMenu
from csos_desktop.gui.jobs.pool import run_job
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.screens.home import HomeScreen, OrdersSummary, orders_summary
from csos_desktop.gui.screens.stack import ScreenAttribute, ScreenStack, lazy_screen
from csos_desktop.gui.theme import ACCESSIBLE_TEXT_ROLE, PIN_TONES, Tone, dot, set_rich_text
from csos_desktop.gui.tray import Tray, icon
from csos_desktop.gui.widgets.fit import fit_to_screen
from csos_desktop.services.first_run import FirstRunStep, read_setup_facts
from csos_desktop.services.pharmacy_store import StoreError
from csos_desktop.services.tokens.status import TokenStatus

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore

if TYPE_CHECKING:  # the other screens load when first shown (screens/stack.py)
    from csos_desktop.gui.jobs.sync import DistributorSync, SyncResult
    from csos_desktop.gui.screens.activity import ActivityScreen
    from csos_desktop.gui.screens.certificates import CertificatesScreen
    from csos_desktop.gui.screens.orders import OrdersScreen
    from csos_desktop.gui.screens.poa import PoaScreen
    from csos_desktop.gui.screens.prescriptions import PrescriptionsScreen
    from csos_desktop.gui.screens.receiving import ReceivingScreen
    from csos_desktop.gui.screens.settings import SettingsScreen

ORDERS_REFRESH_MS = 10_000
#: Fits a 1024x768 screen; smaller screens get their free area (the screens scroll).
DEFAULT_SIZE = (1000, 700)
#: Screens without an icon of their own borrow one (the others use their name).
SCREEN_ICONS = {
    "Prescriptions": "orders",
    "Power of attorney": "certificates",
    "Prescription inbox": "orders",
}  # the sync worker changes orders behind our back
#: The signal by which a screen says it changed orders (Home and the status bar re-read).
CHANGES_ORDERS = {"Orders": "changed", "Receiving": "receipt_signed", "Prescriptions": "signed"}


def status_bar_texts(status: TokenStatus) -> tuple[str, str]:
    """(token, certificate) texts for the status bar."""
    if status.token is None:
        token = f"{dot(Tone.BAD)} No token"
    else:
        info = status.token
        pin = pin_wording(info.pin_state)
        tone, kind = PIN_TONES[pin.severity], ""
        if info.software:
            # Shown as such everywhere (21 CFR 1311.115: hard tokens only for EPCS).
            kind = f" · {info.kind_text}"
            tone = Tone.WARN if tone is Tone.OK else tone
        token = f"{dot(tone)} Token '{info.label}'{kind} · {pin.short}"
    cert = status.certificate
    if cert is None:
        cert_text = f"{dot(Tone.NEUTRAL)} No certificate"
    elif cert.expired:
        cert_text = f"{dot(Tone.BAD)} Certificate expired"
    elif cert.renewal_due:
        cert_text = f"{dot(Tone.WARN)} Certificate: {cert.days_left} days left"
    else:
        cert_text = f"{dot(Tone.OK)} Certificate: {cert.days_left} days left"
    return token, cert_text


def outbox_text(summary: OrdersSummary | None, configured: bool = True) -> str:
    """Never green without a distributor: nothing waiting is not the same as connected."""
    if summary is None:
        return f"{dot(Tone.BAD)} Order store unavailable"
    if not configured:
        return f"{dot(Tone.NEUTRAL)} Distributor: not configured · nothing waiting to send"
    if summary.waiting_to_send:
        return f"{dot(Tone.WARN)} Distributor: {summary.waiting_to_send} waiting to send"
    return f"{dot(Tone.OK)} Distributor: nothing waiting to send"


class MainWindow(QMainWindow):
    """Screens are registered by name; each has `show_status(TokenStatus)` when it needs it."""

    # The screens behind the first one, built on first use (reading one builds it).
    orders: ScreenAttribute[OrdersScreen] = ScreenAttribute("Orders")
    receiving: ScreenAttribute[ReceivingScreen] = ScreenAttribute("Receiving")
    certificates: ScreenAttribute[CertificatesScreen] = ScreenAttribute("Certificates")
    activity: ScreenAttribute[ActivityScreen] = ScreenAttribute("Activity")
    settings: ScreenAttribute[SettingsScreen] = ScreenAttribute("Settings")
    prescriptions: ScreenAttribute[PrescriptionsScreen] = ScreenAttribute("Prescriptions")
    poa: ScreenAttribute[PoaScreen] = ScreenAttribute("Power of attorney")

    def __init__(
        self,
        demo_banner: str | None = None,
        store: OpenStore | None = None,
        store_problem: str | None = None,
        token: TokenWorker | None = None,
        sync: DistributorSync | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("CSOS Desktop")
        self.setWindowIcon(icon("app"))
        fit_to_screen(self, *DEFAULT_SIZE)
        self._store = store
        self._status: TokenStatus | None = None
        self._summary: OrdersSummary | None = None
        self.sync = sync
        self.launcher = SigningLauncher(token)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setAccessibleName("Navigation")
        self.nav.setFixedWidth(200)
        self.nav.setIconSize(QSize(20, 20))
        self.stack = ScreenStack()
        self.stack.built.connect(self._screen_built)
        self.home = HomeScreen()
        launcher, problem = self.launcher, store_problem
        for name, screen in (
            ("Home", self.home),
            ("Orders", lazy_screen("orders", "OrdersScreen", store, problem, launcher)),
            ("Receiving", lazy_screen("receiving", "ReceivingScreen", store, launcher, problem)),
            ("Certificates", lazy_screen("certificates", "CertificatesScreen", token)),
            ("Activity", lazy_screen("activity", "ActivityScreen", store, problem)),
            ("Settings", lazy_screen("settings", "SettingsScreen")),
            (
                "Prescriptions",
                lazy_screen("prescriptions", "PrescriptionsScreen", store, launcher, problem),
            ),
            ("Power of attorney", lazy_screen("poa", "PoaScreen", store, launcher, problem)),
            (
                "Prescription inbox",
                lazy_screen("rx_inbox", "RxInboxScreen", store, problem, launcher),
            ),
        ):
            self.add_screen(name, screen)
        self.nav.currentRowChanged.connect(self.stack.show_row)
        self.nav.currentRowChanged.connect(self._screen_shown)
        self.nav.setCurrentRow(0)

        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(0, 0, 0, 0)
        if demo_banner:
            banner = QLabel(demo_banner)
            banner.setObjectName("demoBanner")
            banner.setAccessibleDescription("Demo banner")
            outer.addWidget(banner)
        row = QHBoxLayout()
        row.addWidget(self.nav)
        # A screen wider or taller than the window scrolls, at any size or scaling.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.stack)
        row.addWidget(scroll, 1)
        outer.addLayout(row, 1)
        self.setCentralWidget(body)

        self.token_label = QLabel()
        self.cert_label = QLabel()
        self.outbox_label = QLabel()
        for label, name in (
            (self.token_label, "Token status"),
            (self.cert_label, "Certificate status"),
            (self.outbox_label, "Distributor status"),
        ):
            label.setAccessibleDescription(name)
            self.statusBar().addWidget(label)
        # Alt+1..9 jump between screens: a full keyboard path.
        for i in range(9):
            shortcut = QShortcut(QKeySequence(f"Alt+{i + 1}"), self)
            shortcut.activated.connect(lambda i=i: self.nav.setCurrentRow(i))
        self.home.receipt_card.button.clicked.connect(lambda: self.show_screen("Receiving"))
        self.home.attention_card.button.clicked.connect(self._show_attention)
        self.home.cert_card.button.clicked.connect(self._certificate_action)
        self.home.new_order_button.clicked.connect(self.new_order)
        self.home.drafts_card.button.clicked.connect(self._show_drafts)
        self._painted = False  # the drafts' SOM state is read after the first paint
        self.home.checklist_card.step_chosen.connect(self._first_run_step)
        self.lost_dialog: QDialog | None = None
        menu = self.menuBar().addMenu("&Token")
        menu.addAction("Change &PIN…", self._change_pin)
        menu.addAction("&Move a certificate file onto the token…", self._move_file)
        menu.addAction("Report a &lost token…", self.report_lost_token)
        self.help = HelpMenu(self)
        self.tray = Tray(self)
        self._refresh = QTimer(self)
        self._refresh.setInterval(ORDERS_REFRESH_MS)
        self._refresh.timeout.connect(self.refresh_orders)
        self._refresh.start()
        if token is not None:
            token.status_changed.connect(self.show_status)
        # Home shows the same "looking" state itself; the set-up checks come after the
        # first paint (check_setup).
        self._status = TokenStatus(None, None, (), "Looking for tokens…")
        token_text, cert_text = status_bar_texts(self._status)
        set_rich_text(self.token_label, token_text)
        set_rich_text(self.cert_label, cert_text)
        self.tray.update(self._summary, self._status)
        self._sync = sync
        self._closed = False
        if sync is not None:
            sync.setParent(self)
            sync.started.connect(self._sync_started)
            sync.finished.connect(self._synced)
            self.home.outbox_card.button.clicked.connect(sync.send_now)
            self._show_sync()
        self.refresh_orders()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Timers stop with the window: the store they read may be closed right after it,
        # and a sync pass still running must not refresh a closed window when it ends.
        self._closed = True
        self._refresh.stop()
        if self._sync is not None:
            self._sync.stop()
        super().closeEvent(event)

    def add_screen(
        self, name: str, screen: QWidget | Callable[[], QWidget], icon_name: str | None = None
    ) -> None:
        """A screen, or a factory that builds it when it is first shown or asked for."""
        self.stack.add(name, screen)
        item = QListWidgetItem(icon(icon_name or SCREEN_ICONS.get(name, name.lower())), name)
        item.setData(ACCESSIBLE_TEXT_ROLE, f"{name} (Alt+{len(self.stack.names)})")
        self.nav.addItem(item)

    @property
    def screens(self) -> dict[str, QWidget]:
        """Every screen by name (one not shown yet is a placeholder until it is)."""
        return self.stack.pages()

    def _screen_built(self, name: str, screen: QWidget) -> None:
        """A screen just built catches up: the token's state, and what it changes."""
        signal = CHANGES_ORDERS.get(name)
        if signal is not None:
            getattr(screen, signal).connect(self.refresh_orders)
        show = getattr(screen, "show_status", None)
        if show is not None and self._status is not None:
            show(self._status)

    def show_screen(self, name: str) -> None:
        self.nav.setCurrentRow(self.stack.names.index(name))

    def _screen_shown(self, row: int) -> None:
        # Screens over the store re-read when shown: another window or the sync may have changed it.
        name = self.stack.current_name()
        if name == "Receiving" and self._store is not None:
            self.receiving.reload()
        if name == "Orders":
            self.orders.refresh()
        if name == "Prescriptions" and self._store is not None:
            self.prescriptions.reload()

    def check_setup(self) -> None:
        """Read the getting-started facts (trust anchors, distributor) off the UI thread.

        The app calls it from the event loop after the first paint: reading the trust store
        loads the certificate parser, which the first screen does not need before then.
        """
        run_job(self, read_setup_facts, self.home.show_setup_facts, self.home.setup_unreadable)
        self._painted = True
        self._show_draft_som()

    def _show_draft_som(self) -> None:
        """What SOM says about each draft on Home (it needs the order model: not at start)."""
        if self._store is None or self._summary is None or not self._painted:
            return
        from datetime import UTC, datetime

        from csos_desktop.services.som.drafts import draft_som

        now = datetime.now(UTC)
        states = {}
        for rec in self._summary.drafts_first:
            som = draft_som(self._store, rec.order_id, now=now)
            if som is not None:
                states[rec.order_id] = (som.words, som.flagged)
        self.home.show_draft_som(states)

    def new_order(self) -> None:
        self.show_screen("Orders")
        self.orders.new_order()

    def _show_drafts(self) -> None:
        self.orders.filter.setCurrentText("Drafts")
        self.show_screen("Orders")
        self.orders.table.setFocus()
        if self.orders.table.model() is not None and self.orders.table.model().rowCount():
            self.orders.table.selectRow(0)

    def _show_attention(self) -> None:
        self.orders.filter.setCurrentText("Needs attention")
        self.show_screen("Orders")

    def _change_pin(self) -> None:
        self.show_screen("Certificates")
        self.certificates.change_pin()

    def _move_file(self) -> None:
        self.show_screen("Certificates")
        self.certificates.move_file()

    def report_lost_token(self) -> QDialog | None:
        from PySide6.QtCore import Qt  # not at import: see theme.set_rich_text

        from csos_desktop.gui.dialogs.lost_token import LostTokenDialog

        if self._store is None:
            return None
        self.lost_dialog = LostTokenDialog(self._store, self)
        self.lost_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.lost_dialog.show()
        return self.lost_dialog

    def _first_run_step(self, step: FirstRunStep) -> None:
        screens = {
            FirstRunStep.CERTIFICATE: "Certificates",
            FirstRunStep.REGISTRANT: "Power of attorney",
        }
        self.show_screen(screens.get(step, "Settings"))

    def _certificate_action(self) -> None:
        self.show_screen("Certificates")
        self.certificates.primary_action()

    def refresh_orders(self) -> None:
        if self._closed:
            return
        if self._store is None:
            set_rich_text(self.outbox_label, outbox_text(None))
            return
        try:
            self._summary = orders_summary(self._store)
        except StoreError as exc:
            set_rich_text(self.outbox_label, f"{dot(Tone.BAD)} {exc.message}")
            return
        self.home.show_orders(self._summary)
        self._show_draft_som()
        self._show_sync()
        self.tray.update(self._summary, self._status)

    # -- the distributor ---------------------------------------------------------------
    def _show_sync(self) -> None:
        if self.sync is None:
            configured = bool(load_config().text("distributor_url"))
            set_rich_text(self.outbox_label, outbox_text(self._summary, configured))
            return
        from csos_desktop.gui.jobs.sync import result_html, status_text

        waiting = self._summary.waiting_to_send if self._summary else None
        set_rich_text(self.outbox_label, status_text(self.sync.last, waiting, self.sync.running))
        self.home.show_sync(result_html(self.sync.last, self.sync.running), self.sync.running)

    def _sync_started(self) -> None:
        self._show_sync()

    def _synced(self, result: SyncResult) -> None:
        """A pass ended: statuses may have moved; re-read the screens and tell the tray."""
        self.refresh_orders()  # Home, the status bar and the tray (shipped → record receipt)
        report = result.report
        moved = report is not None and bool(report.sent or report.refused or report.updated)
        if moved and self.stack.current_name() == "Orders":
            self.orders.refresh()
        # Receiving is not reloaded under the user's typing: it re-reads when next shown.
        self.tray.sync_finished(result)

    def show_status(self, status: TokenStatus) -> None:
        self._status = status
        token, cert = status_bar_texts(status)
        set_rich_text(self.token_label, token)
        set_rich_text(self.cert_label, cert)
        for screen in self.stack.built_screens():
            show = getattr(screen, "show_status", None)
            if show is not None:
                show(status)
        self.tray.update(self._summary, status)
