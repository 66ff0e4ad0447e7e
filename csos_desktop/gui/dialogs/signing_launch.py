"""Opening the signing dialog from a screen: which token and certificate, which worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from csos_desktop.gui.jobs.token_thread import TokenWorker

if TYPE_CHECKING:  # imported when first used: the signing stack is not needed to start
    from csos_desktop.gui.dialogs.signing import SigningDialog
    from csos_desktop.gui.jobs.signing import SigningJob, TokenTarget


class SigningLauncher:
    """Shared by Orders and Receiving: one token thread, the certificate the status bar shows."""

    def __init__(self, worker: TokenWorker | None) -> None:
        self.worker = worker

    def unavailable(self) -> str | None:
        """Why signing cannot start now, in words; None when it can."""
        if self.worker is None:
            return "Signing is not available in this mode (no token thread)."
        status = self.worker.last_status
        if status is None or not status.present:
            return "Insert your token to sign."
        if status.certificate is None:
            return "No CSOS certificate on this token: enrol first (Certificates)."
        return None

    def target(self) -> TokenTarget:
        from csos_desktop.gui.jobs.signing import TokenTarget

        assert self.worker is not None
        status = self.worker.last_status
        cert = status.certificate if status else None
        label = status.token.label if status and status.token else None
        return TokenTarget(
            self.worker.module, label, self.worker.configured, cert.key_id if cert else None
        )

    def open(self, parent: QWidget, job: SigningJob) -> SigningDialog:
        """Show the dialog (window-modal, not blocking the event loop) and return it."""
        from PySide6.QtCore import Qt  # not at import: see theme.set_rich_text

        from csos_desktop.gui.dialogs.signing import SigningDialog

        assert self.worker is not None
        dialog = SigningDialog(job, self.worker, parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()
        return dialog
