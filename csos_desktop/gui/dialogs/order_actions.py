"""Orders screen actions on a sent order: cancel (1305.28), declare lost (1305.26), balance.

A small form asks the reason (and, to cancel part of an order, the packages per
line); the signing dialog then shows what is signed and asks the PIN.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from csos_desktop.domain.balance import LineBalance
from csos_desktop.domain.errors import InputError
from csos_desktop.gui.theme import Tone, dot
from csos_desktop.services.pharmacy_store import OrderRecord, Statement

if TYPE_CHECKING:
    from csos_desktop.gui.dialogs.signing import SigningDialog
    from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
    from csos_desktop.gui.jobs.signing import SigningJob, TokenTarget
    from csos_desktop.services.pharmacy_store import OpenStore

_SPEC = re.compile(r"\s*([0-9]+)\s*=\s*([0-9]+)\s*")


def parse_quantities(text: str) -> dict[int, int] | None:
    """``"2=1, 3=2"`` → {2: 1, 3: 2}; empty → None (every open package)."""
    if not text.strip():
        return None
    out: dict[int, int] = {}
    for part in text.split(","):
        m = _SPEC.fullmatch(part)
        if m is None or int(m.group(2)) < 1:
            raise InputError(f"{part.strip()!r}: write LINE=PACKAGES, e.g. 2=1, 3=2")
        out[int(m.group(1))] = out.get(int(m.group(1)), 0) + int(m.group(2))
    return out


def balance_html(balances: Sequence[LineBalance]) -> str:
    """One line per order line: ordered, shipped, cancelled, voided, received, open."""
    rows = []
    for b in balances:
        shipped = "not reported yet" if b.shipped is None else str(b.shipped)
        void = f", <b>{b.expired} void (60 days passed)</b>" if b.expired else ""
        rows.append(
            f"Line {b.line_no}: ordered {b.ordered}, shipped {shipped}, cancelled {b.cancelled},"
            f" voided by the supplier {b.supplier_voided}{void}, received {b.received};"
            f" open {b.open_balance}"
        )
    return "<br>".join(rows)


def statements_html(statements: Sequence[Statement]) -> str:
    """The distributor's signed statements: verified (its word) or rejected, and why."""
    rows = []
    for st in statements:
        if st.signature is None:
            continue  # unsigned text: nothing was there to verify
        what = f"{st.kind.value} statement ({st.received_at})"
        if st.verified:
            rows.append(f"{dot(Tone.OK)} {what} verified")
        else:
            rows.append(f"{dot(Tone.BAD)} <b>{what} rejected</b>: {escape(st.rejection or '')}")
    return "<br>".join(rows)


class NoticeForm(QDialog):
    """Reason (and lines to cancel) for one order; OK hands them to ``on_accept``."""

    def __init__(
        self,
        parent: QWidget,
        title: str,
        prompt: str,
        on_accept: Callable[[str, str], str | None],
        *,
        with_lines: bool,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self._on_accept = on_accept
        layout = QVBoxLayout(self)
        intro = QLabel(prompt)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason")
        form.addRow("&Reason:", self.reason)
        self.lines = QLineEdit()
        self.lines.setAccessibleName("Packages per line")
        self.lines.setPlaceholderText("empty: every package not yet shipped; or 2=1, 3=2")
        if with_lines:
            form.addRow("&Lines:", self.lines)
        layout.addLayout(form)
        self.problem = QLabel()
        self.problem.setTextFormat(Qt.TextFormat.RichText)
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.ok_button = QPushButton("&Continue to signing…")
        self.ok_button.setDefault(True)
        cancel = QPushButton("Close")
        buttons.addWidget(self.ok_button)
        buttons.addWidget(cancel)
        layout.addLayout(buttons)
        self.ok_button.clicked.connect(self._ok)
        cancel.clicked.connect(self.reject)

    def _ok(self) -> None:
        problem = self._on_accept(self.reason.text(), self.lines.text())
        if problem:
            self.problem.setText(f"{dot(Tone.BAD)} {problem}")
            return
        self.accept()


class OrderActions:
    """Cancel and declare-lost buttons for the Orders screen, and the dialogs they open."""

    def __init__(
        self,
        parent: QWidget,
        store: OpenStore | None,
        launcher: SigningLauncher | None,
        selected: Callable[[], OrderRecord | None],
        report: Callable[[str], None],
        done: Callable[[object], None],
    ) -> None:
        self._parent, self._store, self._launcher = parent, store, launcher
        self._selected, self._report, self._done = selected, report, done
        self.cancel_button = QPushButton("&Cancel order…")
        self.cancel_button.setAccessibleName("Cancel order")
        self.lost_button = QPushButton("Declare &lost…")
        self.lost_button.setAccessibleName("Declare order lost")
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.lost_button.clicked.connect(self.lost_selected)
        self.form: NoticeForm | None = None
        self.dialog: SigningDialog | None = None

    def buttons(self) -> tuple[QPushButton, QPushButton]:
        return self.cancel_button, self.lost_button

    def _ready(self) -> OrderRecord | None:
        rec = self._selected()
        if rec is None:
            self._report(f"{dot(Tone.WARN)} Select one sent order first.")
            return None
        why_not = self._launcher.unavailable() if self._launcher else "Signing is not available."
        if why_not:
            self._report(f"{dot(Tone.BAD)} {why_not}")
            return None
        return rec

    def cancel_selected(self) -> NoticeForm | None:
        rec = self._ready()
        if rec is None:
            return None
        lines = ""
        if self._store is not None:
            # The signing stack (PKCS#11) loads on first use, not with the Orders screen.
            from csos_desktop.services.orders import notices as order_notices

            open_lines = [
                f"line {b.line_no}: {b.open_balance} open"
                for b in order_notices.order_balances(self._store, rec.order_id)
            ]
            lines = "; ".join(open_lines)
        return self._form(
            "Cancel order",
            f"Cancel all or part of order {rec.order_number} before it ships "
            f"(21 CFR 1305.28). {lines}",
            lambda reason, spec: self._start_cancel(rec, reason, spec),
            with_lines=True,
        )

    def lost_selected(self) -> NoticeForm | None:
        rec = self._ready()
        if rec is None:
            return None
        return self._form(
            "Declare order lost",
            f"Order {rec.order_number} was lost or never arrived (21 CFR 1305.26): say how. "
            "A replacement draft with a new number is created.",
            lambda reason, _spec: self._start_lost(rec, reason),
            with_lines=False,
        )

    def _form(
        self,
        title: str,
        prompt: str,
        on_accept: Callable[[str, str], str | None],
        *,
        with_lines: bool,
    ) -> NoticeForm:
        self.form = NoticeForm(self._parent, title, prompt, on_accept, with_lines=with_lines)
        self.form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.form.show()
        return self.form

    def _start_cancel(self, rec: OrderRecord, reason: str, spec: str) -> str | None:
        from csos_desktop.gui.jobs.notices import CancelJob

        try:
            quantities = parse_quantities(spec)
        except InputError as exc:
            return exc.message
        return self._open(CancelJob(self._path(), self._target(), rec.order_id, quantities, reason))

    def _start_lost(self, rec: OrderRecord, reason: str) -> str | None:
        from csos_desktop.gui.jobs.notices import LostOrderJob

        return self._open(LostOrderJob(self._path(), self._target(), rec.order_id, reason))

    def _open(self, job: SigningJob) -> str | None:
        assert self._launcher is not None
        self.dialog = self._launcher.open(self._parent, job)
        self.dialog.signed.connect(self._done)
        return None

    def _path(self) -> Path:
        assert self._store is not None
        return self._store.path

    def _target(self) -> TokenTarget:
        assert self._launcher is not None
        return self._launcher.target()
