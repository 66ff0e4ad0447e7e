"""What can stop an enrolment, renewal or revocation request, in words a user can act on.

Messages never contain the PIN or the authorisation code.
"""

from __future__ import annotations

from csos_desktop.domain.errors import CsosError


class EnrolmentError(CsosError):
    """Base of enrolment errors.

    ``retryable``: the same enrolment (same login, key and codes) may simply be run
    again, e.g. after a network failure. It is a property of the error's type, which an
    instance may narrow; it is never read from the message's words.
    """

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class CaUnreachable(EnrolmentError):
    """No answer from the CA (network, DNS, timeout, proxy)."""

    retryable = True


class CaCertificateUntrusted(EnrolmentError):
    """The CA's TLS certificate does not verify: we never continue without TLS."""


class CaUnavailable(EnrolmentError):
    """The CA answered with a server error."""

    retryable = True


class CaRefused(EnrolmentError):
    """The CA refused the request for a stated reason."""

    exit_code = 2

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class EnrolmentCodesRefused(CaRefused):
    """The one-time codes were wrong, used, expired or locked (``code`` says which).

    Never retryable: a retry sends the same codes again, which cannot succeed and, for
    wrong codes, counts towards locking them.
    """

    retryable = False  # and CaRefused's constructor offers no way to say otherwise


class CaReplyInvalid(EnrolmentError):
    """The CA's reply is unreadable, truncated or not what was asked for."""


class IssuedCertificateRejected(EnrolmentError):
    """The certificate the CA returned is not the one applied for; nothing was written."""
