"""`csos as2 serve`: the pharmacy's AS2 endpoint, from the configured AS2 settings.

For a chain office or a server that the distributor can reach: its 855, 856 and 997
come as AS2 messages instead of through the REST changes feed, and are taken in as
`csos x12 receive` takes files (``sync.as2_inbox``).
"""

from __future__ import annotations

from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path

from csos_desktop.services.sync.as2_settings import As2NotConfigured, as2_settings
from csos_desktop.store import open_store
from csos_desktop.sync.as2_inbox import As2Inbox, serve


def as2_server(
    host: str,
    port: int,
    *,
    tls: tuple[Path, Path] | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> ThreadingHTTPServer:
    """The server (not yet serving: call ``serve_forever``); As2NotConfigured when the AS2
    settings are not all set."""
    from csos_desktop.config import load_config

    config = load_config()
    settings = as2_settings(config, always=True)
    if settings is None:  # pragma: no cover - always=True returns settings or raises
        raise As2NotConfigured("the AS2 settings are not set")
    ca_bundle = config.text("ca_bundle")
    inbox = As2Inbox(
        settings.party(),
        settings.as2_id,
        settings.partner(),
        settings.partner_id,
        ca_bundle=Path(ca_bundle) if ca_bundle else None,
    )
    return serve(inbox, open_store, host, port, tls=tls, report=report)
