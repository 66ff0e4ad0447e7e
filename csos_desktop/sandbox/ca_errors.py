"""What the sandbox test CA refuses, each with a message the operator can act on."""

from __future__ import annotations

from csos_desktop.domain.errors import InputError


class CaDirectoryExists(InputError):
    """`init` was pointed at a directory that already holds a CA."""


class NotACaDirectory(InputError):
    """A directory is missing CA files or they are unreadable."""


class CsrInvalid(InputError):
    """A certificate request cannot be parsed, is unsigned, or uses an unsupported key."""


class IssueRefused(InputError):
    """The registrant data or validity asked for cannot go into a certificate."""


class RevocationRefused(InputError):
    """Unknown serial, already revoked, or an unknown reason name."""
