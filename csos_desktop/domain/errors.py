"""Base of every error meant to be read by a pharmacist, prescriber or IT admin.

An exception deriving from :class:`CsosError` carries a message written for the
person at the counter: what went wrong and what to do next. Anything else that
escapes is a bug and is reported as such. Messages never contain a PIN,
a one-time code or a credential.
"""

from __future__ import annotations


class CsosError(Exception):
    """An error with a message a user can act on."""

    #: Exit code the CLI uses when this error ends a command.
    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(CsosError):
    """The user's input (a file, an argument) cannot be used as given."""

    exit_code = 2


class PrePinRefusal(CsosError):
    """A check run before the PIN is asked refused: nothing was signed, no PIN was used.

    Every check in the signing session's ``pre_pin_checks`` stage raises a subclass,
    so callers can tell "fix this first" from a token or network failure.
    """


class SessionRefused(PrePinRefusal):
    """Nothing can be signed in this session (certificate, token, clock): stop before the PIN."""


class ItemRefused(PrePinRefusal):
    """This one order, receipt or prescription cannot be signed; a batch goes on without it."""
