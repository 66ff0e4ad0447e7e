"""The one TLS client context: sync, enrolment, the doctor and the revocation fetcher.

Certificate and host name verification are always on; trust is the configured CA
bundle, else the system store (certifi when a frozen bundle cannot find the OS store);
TLS 1.2 at least. Contexts are kept per bundle file and its modification time: loading
a store costs milliseconds, and a context is safe to share between connections.
"""

from __future__ import annotations

import functools
import ssl
from pathlib import Path

from csos_desktop.domain.errors import InputError


class CaBundleUnusable(InputError):
    """The configured CA bundle cannot be read as PEM certificates."""


@functools.lru_cache(maxsize=8)
def _context(ca_bundle: str | None, _mtime: float) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise CaBundleUnusable(
            f"Cannot use {ca_bundle} as the CA bundle: it must be a PEM file of the CA's "
            "root certificate(s)."
        ) from exc
    if ca_bundle is None and not ctx.get_ca_certs():
        try:
            import certifi

            ctx.load_verify_locations(certifi.where())
        except ImportError:
            pass
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def tls_context(ca_bundle: Path | str | None) -> ssl.SSLContext:
    """A verifying client context trusting *ca_bundle* (a PEM file) or the system store."""
    if ca_bundle is None or str(ca_bundle) == "":
        return _context(None, 0.0)
    try:
        mtime = Path(ca_bundle).stat().st_mtime
    except OSError as exc:
        raise CaBundleUnusable(
            f"Cannot use {ca_bundle} as the CA bundle: it cannot be read ({exc.strerror})."
        ) from exc
    return _context(str(ca_bundle), mtime)
