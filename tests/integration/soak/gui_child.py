"""The GUI as a pharmacist keeps it open, offscreen, for the soak test.

``python -m tests.integration.soak.gui_child URL CA_BUNDLE INTERVAL_MS``: the main window with
its distributor sync every INTERVAL_MS (the constructor's seam, not the configuration),
printing every text its status bar shows and every sync result, one per line, until standard
input closes. "ready" once the window holds its connection.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path


def main(url: str, ca_bundle: str, interval_ms: int) -> int:
    from PySide6.QtCore import QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from csos_desktop.gui.app import open_store_for_gui
    from csos_desktop.gui.jobs.sync import DistributorSync
    from csos_desktop.gui.main_window import MainWindow
    from csos_desktop.services.sync.service import DistributorSettings

    store, problem = open_store_for_gui()
    app = QApplication(sys.argv[:1])
    if store is None:
        print(f"store problem: {problem}", flush=True)
        return 1
    settings = DistributorSettings(url, Path(ca_bundle), 1)
    sync = DistributorSync(store.path, lambda: settings, interval_ms=interval_ms)
    window = MainWindow(store=store, store_problem=problem, sync=sync)
    window.show()
    shown: list[str] = []

    def report() -> None:
        text = window.outbox_label.text()
        if not shown or shown[-1] != text:
            shown.append(text)
            print(f"status: {text}", flush=True)

    def synced(result: object) -> None:
        print(f"sync: {result!r}", flush=True)

    sync.finished.connect(synced)
    poll = QTimer()
    poll.timeout.connect(report)
    poll.start(100)
    # Standard input closing is the signal to quit (the soak test holds it open).
    closed = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        closed.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()

    def quit_when_idle() -> None:
        # As the window closing does: no new pass, and the one running ends first.
        if closed.is_set():
            sync.stop()
            if not sync.running:
                app.quit()

    stopper = QTimer()
    stopper.timeout.connect(quit_when_idle)
    stopper.start(100)
    sync.start()
    window.refresh_orders()
    print("ready", flush=True)
    code = app.exec()
    QThreadPool.globalInstance().waitForDone(30_000)
    window.close()
    store.close()
    print("closed", flush=True)
    return code


if __name__ == "__main__":
    code = main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
    sys.stdout.flush()
    # Skip the interpreter's teardown: Qt's objects are gone already, and collecting their
    # Python wrappers at exit is not what this test is about.
    os._exit(code)
