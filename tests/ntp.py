"""The tests' time reference: the sandbox's SNTP responder on 127.0.0.1, never NIST's."""

from __future__ import annotations

from csos_desktop.sandbox.ntp import NtpServer

__all__ = ["NtpServer", "ntp_policy_line", "shared_ntp"]

_shared: NtpServer | None = None


def shared_ntp() -> NtpServer:
    """This process's responder, started on first use: what test policies name as ntp_server."""
    global _shared
    if _shared is None:
        _shared = NtpServer()
    return _shared


def ntp_policy_line() -> str:
    """The machine-policy line that points the clock check at :func:`shared_ntp`."""
    return f'ntp_server = "{shared_ntp().address}"\n'
