"""A logged-in token session that closes itself after 10 minutes without use.

21 CFR 1311.55(b)(5) requires re-authentication after ten minutes of
inactivity. The limit can be lowered by configuration, never raised. The
session is used from one thread (the token worker); the idle check runs on
every use and can also be triggered by a UI timer via :meth:`expire_if_idle`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from types import TracebackType

import pkcs11
from pkcs11 import exceptions as p11

from csos_desktop.domain.token_errors import LoginExpired, PinLocked, WrongPin
from csos_desktop.known_secrets import remember_secret
from csos_desktop.token.library import translated_errors
from csos_desktop.token.slots import PinState, describe, pin_state_from_flags, refreshed

MAX_IDLE_SECONDS = 600.0


def retries_hint(token: pkcs11.Token, label: str) -> PinState:
    """What the token's flags say after a wrong PIN; PinLocked if that was the last try."""
    state = pin_state_from_flags(refreshed(token).flags)
    if state is PinState.LOCKED:
        raise PinLocked(label)
    return state


class TokenSession:
    """Owns one PKCS#11 session on one token; PIN is used once and not kept."""

    def __init__(
        self,
        token: pkcs11.Token,
        *,
        idle_timeout: float = MAX_IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        rw: bool = False,
    ) -> None:
        if idle_timeout <= 0:
            raise ValueError("idle_timeout must be positive")
        self.token = token
        self.info = describe(token)
        self.idle_timeout = min(idle_timeout, MAX_IDLE_SECONDS)
        self._clock = clock
        self._rw = rw
        self._session: pkcs11.Session | None = None
        self._last_used = 0.0
        #: Bumped at each login so holders of object handles know to look them up again.
        self.generation = 0

    # -- login ---------------------------------------------------------------
    def login(self, pin: str | None) -> None:
        """Open the session and log in. ``pin=None`` uses the reader's PIN pad.

        A wrong PIN raises WrongPin with the token's retries hint; it is never
        retried here. The PIN string is not stored.
        """
        self.close()
        state = pin_state_from_flags(refreshed(self.token).flags)
        if state is PinState.LOCKED:
            raise PinLocked(self.info.label)
        user_pin: object = pkcs11.PROTECTED_AUTH if pin is None else pin
        remember_secret(pin)  # as a keyed hash: log redaction then finds it even bare
        try:
            with translated_errors("logging in"):
                try:
                    self._session = self.token.open(rw=self._rw, user_pin=user_pin)
                except p11.PinIncorrect:
                    raise WrongPin(self._retries_hint()) from None
                except (p11.PinLenRange, p11.PinInvalid):
                    # The token refuses the PIN's shape without counting a try.
                    raise WrongPin(PinState.OK) from None
        finally:
            del pin, user_pin
        self._last_used = self._clock()
        self.generation += 1

    def open_public(self) -> None:
        """Open a session without logging in (reading certificates and public keys)."""
        self.close()
        with translated_errors("opening the token"):
            self._session = self.token.open(rw=self._rw)
        self._last_used = self._clock()
        self.generation += 1

    def _retries_hint(self) -> PinState:
        return retries_hint(self.token, self.info.label)

    # -- use -----------------------------------------------------------------
    @property
    def logged_in(self) -> bool:
        return self._session is not None

    def expire_if_idle(self) -> bool:
        """Close the session if idle past the limit; True if it was closed now."""
        if self._session is not None and self._clock() - self._last_used >= self.idle_timeout:
            self.close()
            return True
        return False

    @property
    def session(self) -> pkcs11.Session:
        """The live session; raises LoginExpired after the idle limit."""
        if self.expire_if_idle() or self._session is None:
            minutes = int(self.idle_timeout // 60) or 1
            raise LoginExpired(
                f"The token session was closed after {minutes} minute(s) without use, "
                "as the DEA requires. Enter your PIN again to continue."
            )
        self._last_used = self._clock()
        return self._session

    def close(self) -> None:
        """Log out and close; safe to call twice or after the token was pulled."""
        session, self._session = self._session, None
        if session is not None:
            # Already gone with the token: nothing left to protect.
            with contextlib.suppress(p11.PKCS11Error):
                session.close()

    def __enter__(self) -> TokenSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
