"""Help: the manual, the keyboard guide, a support bundle, and what version this is."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from csos_desktop import __version__
from csos_desktop.gui.jobs.pool import run_job

#: The manual beside the sources (a source checkout or an unpacked release).
MANUAL = Path(__file__).resolve().parents[2] / "docs" / "gui.md"
ONLINE_HINT = "docs/gui.md in the CSOS Desktop release you installed"

KEYBOARD_GUIDE = """<p><b>Every task works from the keyboard.</b></p>
<ul>
<li><b>Alt+1 … Alt+8</b>: go to Home, Orders, Receiving, Certificates, Activity,
Settings, Prescriptions, Power of attorney.</li>
<li><b>Tab</b> and <b>Shift+Tab</b> move between controls; Tab leaves a table,
the arrow keys move inside it.</li>
<li>In a list: <b>Enter</b> opens the selected row, the <b>Menu</b> key (or Shift+F10)
shows what can be done with it.</li>
<li>The underlined letter of a button or field: <b>Alt</b> and that letter.</li>
<li><b>Escape</b> closes a dialog; an order with changes asks first.</li>
</ul>"""


class HelpMenu:
    """Adds Help to *window*'s menu bar; the support bundle is written off the UI thread."""

    def __init__(self, window: QMainWindow) -> None:
        self._window = window
        self.last_bundle: Path | None = None
        self.message: QMessageBox | None = None
        menu = window.menuBar().addMenu("&Help")
        menu.addAction("User &manual", self.manual)
        menu.addAction("&Keyboard and screen reader", self.keyboard)
        menu.addAction("Save a &support bundle…", self.ask_bundle)
        menu.addSeparator()
        menu.addAction("&About CSOS Desktop", self.about)
        self.menu = menu

    def _tell(
        self, title: str, text: str, kind: QMessageBox.Icon = QMessageBox.Icon.Information
    ) -> None:
        """A message that does not block the event loop (the window keeps refreshing)."""
        self.message = QMessageBox(kind, title, text, parent=self._window)
        self.message.open()

    def manual(self) -> None:
        if MANUAL.is_file():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(MANUAL)))
            return
        QMessageBox.information(self._window, "User manual", f"The manual is {ONLINE_HINT}.")

    def keyboard(self) -> None:
        QMessageBox.information(self._window, "Keyboard and screen reader", KEYBOARD_GUIDE)

    def about(self) -> None:
        QMessageBox.about(
            self._window,
            "About CSOS Desktop",
            f"<p><b>CSOS Desktop {__version__}</b></p><p>DEA CSOS controlled-substance "
            "ordering and EPCS prescriptions, signed on your hardware token.</p>",
        )

    def ask_bundle(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self._window, "Save a support bundle", "csos-support.zip", "Zip files (*.zip)"
        )
        if name:
            self.write_bundle(Path(name))

    def write_bundle(self, out: Path) -> None:
        """Logs, doctor checks and settings, never secrets (what `csos support-bundle` writes)."""
        from csos_desktop.doctor.runner import run_doctor
        from csos_desktop.support_bundle import BundleResult, write_bundle

        def done(result: BundleResult) -> None:
            self.last_bundle = result.path
            self._tell(
                "Support bundle saved",
                f"Saved {result.path} ({len(result.members)} files). It holds no PINs, "
                "one-time codes or credentials: send it to your support contact.",
            )

        def failed(message: str) -> None:
            self._tell("Support bundle", message, QMessageBox.Icon.Warning)

        run_job(
            self._window,
            lambda: write_bundle(out, doctor=run_doctor, overwrite=True),
            done,
            failed,
        )
