"""The main window: navigation on the left, one screen at a time, status bar below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.config import load_config
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.screens.activity import ActivityScreen
from csos_desktop.gui.screens.certificates import CertificatesScreen
from csos_desktop.gui.screens.home import HomeScreen, OrdersSummary, orders_summary
from csos_desktop.gui.screens.orders import OrdersScreen
from csos_desktop.gui.screens.poa import PoaScreen
from csos_desktop.gui.screens.prescriptions import PrescriptionsScreen
from csos_desktop.gui.screens.receiving import ReceivingScreen
from csos_desktop.gui.screens.settings import SettingsScreen
from csos_desktop.gui.theme import PIN_TONES, Tone, dot
from csos_desktop.gui.tray import Tray, icon
from csos_desktop.services.first_run import FirstRunStep
from csos_desktop.services.tokens.status import TokenStatus
from csos_desktop.store import Store
from csos_desktop.store.db import StoreError
from csos_desktop.token.pin import pin_wording

if TYPE_CHECKING:
    from csos_desktop.gui.jobs.sync import DistributorSync, SyncResult

ORDERS_REFRESH_MS = 10_000
#: Screens without an icon of their own borrow one (the others use their name).
SCREEN_ICONS = {
    "Prescriptions": "orders",
    "Power of attorney": "certificates",
}  # the sync worker changes orders behind our back


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

    def __init__(
        self,
        demo_banner: str | None = None,
        store: Store | None = None,
        store_problem: str | None = None,
        token: TokenWorker | None = None,
        sync: DistributorSync | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("CSOS Desktop")
        self.setWindowIcon(icon("app"))
        self.resize(1180, 760)
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
        self.stack = QStackedWidget()
        self.screens: dict[str, QWidget] = {}
        self.home = HomeScreen()
        self.orders = OrdersScreen(store, store_problem, self.launcher)
        self.receiving = ReceivingScreen(store, self.launcher, store_problem)
        self.certificates = CertificatesScreen(token)
        self.activity = ActivityScreen(store, store_problem)
        self.settings = SettingsScreen()
        self.prescriptions = PrescriptionsScreen(store, self.launcher, store_problem)
        self.poa = PoaScreen(store, self.launcher, store_problem)
        for name, screen in (
            ("Home", self.home),
            ("Orders", self.orders),
            ("Receiving", self.receiving),
            ("Certificates", self.certificates),
            ("Activity", self.activity),
            ("Settings", self.settings),
            ("Prescriptions", self.prescriptions),
            ("Power of attorney", self.poa),
        ):
            self.add_screen(name, screen)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.currentRowChanged.connect(self._screen_shown)
        self.nav.setCurrentRow(0)

        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(0, 0, 0, 0)
        if demo_banner:
            banner = QLabel(demo_banner)
            banner.setObjectName("demoBanner")
            banner.setAccessibleName("Demo banner")
            outer.addWidget(banner)
        row = QHBoxLayout()
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
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
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setAccessibleName(name)
            self.statusBar().addWidget(label)
        # Alt+1..9 jump between screens: a full keyboard path.
        for i in range(9):
            shortcut = QShortcut(QKeySequence(f"Alt+{i + 1}"), self)
            shortcut.activated.connect(lambda i=i: self.nav.setCurrentRow(i))
        self.home.receipt_card.button.clicked.connect(lambda: self.show_screen("Receiving"))
        self.home.attention_card.button.clicked.connect(self._show_attention)
        self.home.cert_card.button.clicked.connect(self._certificate_action)
        self.home.checklist_card.step_chosen.connect(self._first_run_step)
        self.lost_dialog: QDialog | None = None
        menu = self.menuBar().addMenu("&Token")
        menu.addAction("Change &PIN…", self._change_pin)
        menu.addAction("&Move a certificate file onto the token…", self._move_file)
        menu.addAction("Report a &lost token…", self.report_lost_token)
        self.orders.changed.connect(self.refresh_orders)
        self.receiving.receipt_signed.connect(self.refresh_orders)
        self.prescriptions.signed.connect(self.refresh_orders)
        self.tray = Tray(self)
        self._refresh = QTimer(self)
        self._refresh.setInterval(ORDERS_REFRESH_MS)
        self._refresh.timeout.connect(self.refresh_orders)
        self._refresh.start()
        if token is not None:
            token.status_changed.connect(self.show_status)
        self.show_status(TokenStatus(None, None, (), "Looking for tokens…"))
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

    def add_screen(self, name: str, screen: QWidget, icon_name: str | None = None) -> None:
        self.screens[name] = screen
        item = QListWidgetItem(icon(icon_name or SCREEN_ICONS.get(name, name.lower())), name)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{name} (Alt+{len(self.screens)})")
        self.nav.addItem(item)
        self.stack.addWidget(screen)

    def show_screen(self, name: str) -> None:
        self.nav.setCurrentRow(list(self.screens).index(name))

    def _screen_shown(self, row: int) -> None:
        # Screens over the store re-read when shown: another window or the sync may have changed it.
        screen = self.stack.widget(row)
        reload = getattr(screen, "reload", None) if screen is self.receiving else None
        if reload is not None and self._store is not None:
            reload()
        if screen is self.orders:
            self.orders.refresh()
        if screen is self.prescriptions and self._store is not None:
            self.prescriptions.reload()

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
        from csos_desktop.gui.dialogs.lost_token import LostTokenDialog

        if self._store is None:
            return None
        self.lost_dialog = LostTokenDialog(self._store, self)
        self.lost_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.lost_dialog.show()
        return self.lost_dialog

    def _first_run_step(self, step: FirstRunStep) -> None:
        self.show_screen("Certificates" if step is FirstRunStep.CERTIFICATE else "Settings")

    def _certificate_action(self) -> None:
        self.show_screen("Certificates")
        self.certificates.primary_action()

    def refresh_orders(self) -> None:
        if self._closed:
            return
        if self._store is None:
            self.outbox_label.setText(outbox_text(None))
            return
        try:
            self._summary = orders_summary(self._store)
        except StoreError as exc:
            self.outbox_label.setText(f"{dot(Tone.BAD)} {exc.message}")
            return
        self.home.show_orders(self._summary)
        self._show_sync()
        self.tray.update(self._summary, self._status)

    # -- the distributor ---------------------------------------------------------------
    def _show_sync(self) -> None:
        if self.sync is None:
            configured = bool(load_config().text("distributor_url"))
            self.outbox_label.setText(outbox_text(self._summary, configured))
            return
        from csos_desktop.gui.jobs.sync import result_html, status_text

        waiting = self._summary.waiting_to_send if self._summary else None
        self.outbox_label.setText(status_text(self.sync.last, waiting, self.sync.running))
        self.home.show_sync(result_html(self.sync.last, self.sync.running), self.sync.running)

    def _sync_started(self) -> None:
        self._show_sync()

    def _synced(self, result: SyncResult) -> None:
        """A pass ended: statuses may have moved; re-read the screens and tell the tray."""
        self.refresh_orders()  # Home, the status bar and the tray (shipped → record receipt)
        report = result.report
        moved = report is not None and bool(report.sent or report.refused or report.updated)
        if moved and self.stack.currentWidget() is self.orders:
            self.orders.refresh()
        # Receiving is not reloaded under the user's typing: it re-reads when next shown.
        self.tray.sync_finished(result)

    def show_status(self, status: TokenStatus) -> None:
        self._status = status
        token, cert = status_bar_texts(status)
        self.token_label.setText(token)
        self.cert_label.setText(cert)
        for screen in self.screens.values():
            show = getattr(screen, "show_status", None)
            if show is not None:
                show(status)
        self.tray.update(self._summary, status)
