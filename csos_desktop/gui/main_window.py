"""The main window: navigation on the left, one screen at a time, status bar below."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.gui.screens.activity import ActivityScreen
from csos_desktop.gui.screens.certificates import CertificatesScreen
from csos_desktop.gui.screens.home import HomeScreen
from csos_desktop.gui.screens.orders import OrdersScreen
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.services.token_status import TokenStatus
from csos_desktop.store import Store


def status_bar_texts(status: TokenStatus) -> tuple[str, str]:
    """(token, certificate) texts for the status bar."""
    if status.token is None:
        token = f"{dot(Tone.BAD)} No token"
    else:
        token = f"{dot(Tone.OK)} Token '{status.token.label}' · PIN {status.token.pin_state.value}"
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


class MainWindow(QMainWindow):
    """Screens are registered by name; each has `show_status(TokenStatus)` when it needs it."""

    def __init__(
        self,
        demo_banner: str | None = None,
        store: Store | None = None,
        store_problem: str | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("CSOS Desktop")
        self.resize(1100, 700)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setAccessibleName("Navigation")
        self.nav.setFixedWidth(190)
        self.stack = QStackedWidget()
        self.screens: dict[str, QWidget] = {}
        self.home = HomeScreen()
        self.orders = OrdersScreen(store, store_problem)
        self.certificates = CertificatesScreen()
        self.activity = ActivityScreen(store, store_problem)
        for name, screen in (
            ("Home", self.home),
            ("Orders", self.orders),
            ("Certificates", self.certificates),
            ("Activity", self.activity),
        ):
            self.add_screen(name, screen)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
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
        for label, name in (
            (self.token_label, "Token status"),
            (self.cert_label, "Certificate status"),
        ):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setAccessibleName(name)
            self.statusBar().addWidget(label)
        # Alt+1..9 jump between screens: a full keyboard path.
        for i in range(9):
            shortcut = QShortcut(QKeySequence(f"Alt+{i + 1}"), self)
            shortcut.activated.connect(lambda i=i: self.nav.setCurrentRow(i))
        self.show_status(TokenStatus(None, None, (), "Looking for tokens…"))

    def add_screen(self, name: str, screen: QWidget) -> None:
        self.screens[name] = screen
        self.nav.addItem(name)
        self.stack.addWidget(screen)

    def show_screen(self, name: str) -> None:
        self.nav.setCurrentRow(list(self.screens).index(name))

    def show_status(self, status: TokenStatus) -> None:
        token, cert = status_bar_texts(status)
        self.token_label.setText(token)
        self.cert_label.setText(cert)
        for screen in self.screens.values():
            show = getattr(screen, "show_status", None)
            if show is not None:
                show(status)
