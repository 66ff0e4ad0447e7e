"""`csos-gui`: the desktop application.

`--screenshot DIR` renders every main screen with the current data to PNG
files and exits; `--self-test` opens the main window, saves a screenshot and
exits 0 (installers and CI use it). Both run without a display.
`--exit-after-first-paint` is the ordinary start-up, ended once the main window has
painted, so start-up is measured on the real entry point.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from csos_desktop import __version__
from csos_desktop.domain.errors import CsosError
from csos_desktop.startup import start_logging

#: How long closing waits for a sync pass still running before the store is closed.
SHUTDOWN_WAIT_MS = 30_000

if TYPE_CHECKING:
    from csos_desktop.services.pharmacy_store import OpenStore


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="csos-gui", description="CSOS Desktop")
    ap.add_argument("--version", action="version", version=f"csos-gui {__version__}")
    ap.add_argument("--module", help="PKCS#11 driver path (default: detected)")
    ap.add_argument(
        "--screenshot",
        type=Path,
        metavar="DIR",
        help="save a PNG of every main screen to DIR and exit",
    )
    ap.add_argument(
        "--self-test",
        action="store_true",
        help="open the main window offscreen, save a screenshot, exit 0",
    )
    ap.add_argument(
        "--exit-after-first-paint",
        action="store_true",
        help="start as usual, print 'first paint' once the main window is painted, exit 0 "
        "(measures start-up: benchmarks/gui_start.py)",
    )
    ap.add_argument("--demo-banner", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def save_screens(window: object, directory: Path) -> list[Path]:
    """Render each screen of *window* to DIR/NN-name.png."""
    from PySide6.QtWidgets import QApplication

    from csos_desktop.gui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    for i, name in enumerate(window.screens):
        window.show_screen(name)
        for _ in range(3):  # a layout settling can post another layout request
            QApplication.processEvents()
        path = directory / f"{i + 1:02d}-{name.lower().replace(' ', '-')}.png"
        if not window.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        saved.append(path)
    return saved


def open_store_for_gui() -> tuple[OpenStore | None, str | None]:
    """The UI thread's own connection, or why there is none (shown on the screens)."""
    from csos_desktop.services.pharmacy_store import open_store

    try:
        # The daily audit analysis runs on the worker pool (gui.jobs.daily_audit), not here.
        return open_store(analyse=False), None
    except CsosError as exc:
        return None, exc.message


def main(argv: Sequence[str] | None = None) -> int:
    """Run the GUI (or render screenshots / self-test) and return the exit code."""
    args = _parse(argv)
    start_logging()
    headless = args.screenshot is not None or args.self_test
    if headless and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Before PySide6 is imported: it reads the source of every module imported after it
    # (its __feature__ check), which costs the store's modules a second time.
    store, problem = open_store_for_gui()

    from PySide6.QtCore import QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from csos_desktop.config import load_config
    from csos_desktop.gui import theme
    from csos_desktop.gui.jobs.token_thread import TokenThread, TokenWorker
    from csos_desktop.gui.main_window import MainWindow
    from csos_desktop.services.context import build_context, current, install
    from csos_desktop.services.tokens.status import read_token_status

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("CSOS Desktop")
    from csos_desktop.gui.gc_guard import collect_on_gui_thread

    collect_on_gui_thread(app)  # never collect Qt objects from the token thread
    app.setQuitOnLastWindowClosed(True)  # the tray icon alone does not keep the app running
    theme.apply(app)
    config = load_config()
    if not current().demo:  # `csos demo` opened this window on the context it built
        install(build_context(config=config))
    configured, label = current().driver, config.text("token_label")
    if headless:
        window = MainWindow(demo_banner=args.demo_banner, store=store, store_problem=problem)
        # One synchronous read so the pictures show the real token state.
        window.show_status(read_token_status(args.module, label, configured=configured))
        window.show()
        app.processEvents()
        window.check_setup()  # the set-up checklist and the drafts' SOM state, as after a paint
        if args.screenshot is not None:
            for path in save_screens(window, args.screenshot):
                print(path)
        else:
            out = Path(tempfile.gettempdir()) / "csos-gui-self-test.png"
            ok = window.grab().save(str(out))
            print(f"self-test: main window shown, screenshot {out}" if ok else "self-test failed")
            return 0 if ok else 1
        return 0

    worker = TokenWorker(args.module, configured, label)
    thread = TokenThread(worker)
    sync = None
    if store is not None:  # distributor passes on the pool, each with its own connection
        from csos_desktop.gui.jobs.sync import DistributorSync

        sync = DistributorSync(store.path)
    window = MainWindow(
        demo_banner=args.demo_banner, store=store, store_problem=problem, token=worker, sync=sync
    )
    window.show()
    if args.exit_after_first_paint:  # before the token thread and the sync start
        app.processEvents()  # the expose event: the window paints
        print("first paint", flush=True)
        if store is not None:
            store.close()
        return 0
    # PKCS#11 loads on the token thread's first poll, and the trust store is read for the
    # getting-started card, both started from the event loop: not while the window is built
    # and shown.
    QTimer.singleShot(0, thread.start)
    QTimer.singleShot(0, window.check_setup)
    if sync is not None:
        sync.start()
    if store is not None:  # 1311.150(b): analysed at start and every 24 h, alerts on Home
        from csos_desktop.gui.jobs.daily_audit import DailyAudit

        audit = DailyAudit(store.path, window.home.alerts_card, parent=window)
        QTimer.singleShot(0, audit.start)
    try:
        return app.exec()
    finally:
        if sync is not None:
            sync.stop()
        thread.stop()
        # A sync pass still on the pool would write through a store being closed and run
        # Python while the interpreter shuts down (a crash on exit): let it end first.
        QThreadPool.globalInstance().waitForDone(SHUTDOWN_WAIT_MS)
        if store is not None:
            store.close()


if __name__ == "__main__":
    sys.exit(main())
