"""Loading a PKCS#11 module once per process and mapping its errors to ours."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pkcs11
from pkcs11 import exceptions as p11
from pkcs11._pkcs11 import lib as Pkcs11Lib

from csos_desktop.domain.token_errors import (
    KeyNotFound,
    NoModule,
    PinChangeRequired,
    PinLocked,
    TokenOperationFailed,
    TokenRemoved,
)

#: The library's types, named here so layers above token/ never import the library.
Pkcs11Token = pkcs11.Token
__all__ = [
    "Pkcs11Lib",
    "Pkcs11Token",
    "load_library",
    "refresh_library",
    "translated_errors",
]

_lock = threading.Lock()
_loaded: dict[str, Pkcs11Lib] = {}


def load_library(path: str) -> Pkcs11Lib:
    """Load (once) and initialise the PKCS#11 module at *path*."""
    with _lock:
        lib = _loaded.get(path)
        if lib is None:
            try:
                lib = pkcs11.lib(path)
            except (OSError, RuntimeError, p11.PKCS11Error) as exc:
                raise NoModule(
                    f"The PKCS#11 driver {path} could not be loaded ({type(exc).__name__}). "
                    "Check that it is the driver for your token and matches this computer "
                    "(64-bit)."
                ) from exc
            _loaded[path] = lib
        return lib


def refresh_library(path: str) -> Pkcs11Lib:
    """Re-initialise the module so tokens inserted since loading are seen."""
    lib = load_library(path)
    with _lock:
        try:
            lib.reinitialize()
        except p11.PKCS11Error as exc:
            raise NoModule(f"The PKCS#11 driver {path} could not be re-initialised.") from exc
    return lib


_REMOVED = (
    p11.TokenNotPresent,
    p11.DeviceRemoved,
    p11.SessionHandleInvalid,
    p11.SessionClosed,
    p11.SlotIDInvalid,
    p11.TokenNotRecognised,
)


@contextmanager
def translated_errors(action: str) -> Iterator[None]:
    """Turn python-pkcs11 exceptions into our typed errors (PIN errors are handled at login)."""
    try:
        yield
    except _REMOVED as exc:
        raise TokenRemoved(f"while {action}") from exc
    except p11.PinLocked as exc:
        raise PinLocked() from exc
    except p11.PinExpired as exc:
        raise PinChangeRequired(
            "The token's PIN has expired and must be changed with the token vendor's tool "
            "before it can sign."
        ) from exc
    except p11.NoSuchKey as exc:
        raise KeyNotFound(f"The key needed for {action} is not on this token.") from exc
    except p11.PKCS11Error as exc:
        raise TokenOperationFailed(
            f"The token reported an error while {action} ({type(exc).__name__}). "
            "Remove and re-insert the token, then try again; if it persists, run 'csos doctor'."
        ) from exc
