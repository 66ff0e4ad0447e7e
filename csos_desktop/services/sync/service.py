"""Distributor sync, one way for the GUI, the CLI and the demo: settings, a worker, a pass.

The settings come from one configuration key set (``distributor_url``, ``ca_bundle``,
``sync_interval_minutes``, default 15 minutes, at least 1; ``distributor_connection`` and
the ``as2_*`` keys, ``as2_settings``). The network stack is
imported inside the functions: the GUI's first paint must not pay for httpx.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from csos_desktop import paths
from csos_desktop.domain.errors import InputError
from csos_desktop.services.context import is_demo_home
from csos_desktop.services.sync.as2_settings import As2NotConfigured, As2Settings, as2_settings
from csos_desktop.store import Store, open_store

if TYPE_CHECKING:  # named in the front ends' signatures too (`as` marks them exported)
    from csos_desktop.sync.client import RetryPolicy as RetryPolicy
    from csos_desktop.sync.credentials import CredentialPlace
    from csos_desktop.sync.worker import SyncReport as SyncReport
    from csos_desktop.sync.worker import SyncWorker
    from csos_desktop.trust.revocation import RevocationSource

#: ``sync_interval_minutes`` when it is not set (the setting's default; docs/gui.md).
DEFAULT_INTERVAL_MINUTES = 15
PENDING_LIMIT = 1000


class Link(Enum):
    ONLINE = "online"
    OFFLINE = "offline"
    NOT_CONFIGURED = "not configured"


@dataclass(frozen=True)
class DistributorSettings:
    """Where the distributor is and how often to talk to it (from the configuration)."""

    url: str | None
    ca_bundle: Path | None = None
    interval_minutes: int = DEFAULT_INTERVAL_MINUTES
    #: The pharmacy that receives signed prescriptions (``rx_pharmacy_id``); None: none set.
    pharmacy_id: str | None = None
    #: Orders signed as X12 go over AS2 (``distributor_connection = AS2``); None: REST.
    as2: As2Settings | None = None
    #: Why the AS2 connection configured cannot be used (sync then sends nothing).
    as2_problem: str | None = None

    @property
    def interval_seconds(self) -> float:
        return 60.0 * self.interval_minutes

    def require_url(self) -> str:
        if not self.url:
            raise InputError(
                "No distributor is configured: give --url or set it with "
                "'csos config set distributor_url https://...'."
            )
        return self.url


def settings_from_config(
    url: str | None = None, ca_bundle: Path | None = None
) -> DistributorSettings:
    """The settings in force, read afresh; *url* / *ca_bundle* override the configuration."""
    from csos_desktop.config import load_config

    config = load_config()
    raw = config.get("sync_interval_minutes")
    try:
        interval = int(str(raw)) if raw is not None else DEFAULT_INTERVAL_MINUTES
    except ValueError:
        interval = DEFAULT_INTERVAL_MINUTES
    if ca_bundle is None:
        configured = config.text("ca_bundle")
        ca_bundle = Path(configured) if configured else None
    as2, as2_problem = None, None
    try:
        as2 = as2_settings(config)
    except As2NotConfigured as exc:
        as2_problem = exc.message
    return DistributorSettings(
        url or config.text("distributor_url"),
        ca_bundle,
        max(1, interval),
        config.text("rx_pharmacy_id"),
        as2,
        as2_problem,
    )


@contextmanager
def sync_worker(
    store: Store,
    settings: DistributorSettings,
    *,
    token: str | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = 15.0,
    statement_revocation: RevocationSource | None = None,
) -> Iterator[SyncWorker]:
    """A worker over a verified-TLS client; the credential comes from the keyring.
    *statement_revocation*: where statements' CRLs come from (default: cache and fetcher)."""
    from csos_desktop.services.context import current
    from csos_desktop.services.orders.catalogue import active_catalogue
    from csos_desktop.sync.client import DistributorClient
    from csos_desktop.sync.credentials import load_token
    from csos_desktop.sync.worker import CursorFile, SyncWorker

    url = settings.require_url()
    if settings.as2_problem is not None:
        raise As2NotConfigured(settings.as2_problem)
    as2 = None if settings.as2 is None else settings.as2.connection(settings.ca_bundle)
    bearer = token if token is not None else load_token(url, credential_place())
    cursor = CursorFile(paths.data_dir() / "sync-cursor.json", url)
    with DistributorClient(
        url, bearer, ca_bundle=settings.ca_bundle, timeout=timeout, retry=retry
    ) as client:
        yield SyncWorker(
            store,
            client,
            cursor,
            pharmacy_id=settings.pharmacy_id,
            statement_roots=current().trust_anchors(),
            catalogue=active_catalogue(store),
            statement_revocation=statement_revocation,
            as2=as2,
        )


@dataclass(frozen=True)
class SyncResult:
    """One pass: online, offline (with the reason) or not configured; what is still queued."""

    link: Link
    reason: str | None
    waiting: int | None
    report: SyncReport | None
    at: datetime


def sync_pass(
    store_path: Path,
    settings: DistributorSettings,
    *,
    retry: RetryPolicy | None = None,
    timeout: float = 15.0,
) -> SyncResult:
    """Send the outbox and pull statuses once; never raises for a distributor, credential
    or network problem (the result says which)."""
    from csos_desktop.sync.credentials import NoCredential
    from csos_desktop.sync.errors import DistributorError

    now = datetime.now(UTC)
    with open_store(store_path) as store:
        if not settings.url:
            return SyncResult(
                Link.NOT_CONFIGURED,
                "no distributor address is set (Settings)",
                _waiting(store),
                None,
                now,
            )
        report: SyncReport | None = None
        try:
            with sync_worker(store, settings, retry=retry, timeout=timeout) as worker:
                report = worker.run_once()
        except (NoCredential, As2NotConfigured) as exc:
            return SyncResult(Link.NOT_CONFIGURED, exc.message, _waiting(store), None, now)
        except DistributorError as exc:  # refused credential, wrong address, broken server
            return SyncResult(Link.OFFLINE, exc.message, _waiting(store), report, now)
        link = Link.OFFLINE if report.stopped else Link.ONLINE
        return SyncResult(link, report.stopped, _waiting(store), report, now)


def _waiting(store: Store) -> int:
    return len(store.outbox.pending(PENDING_LIMIT))


def save_credential(url: str | None, token: str) -> tuple[str, str]:
    """Keep the distributor's bearer token for *url* (or the configured address).

    Returns the address and where the token went (the system keyring, or a file with a
    warning when there is none), for the user to know. Never logs the token.
    """
    from csos_desktop.sync.credentials import save_token  # keyring: only when signing in

    address = settings_from_config(url).require_url()
    return address, save_token(address, token, credential_place())


def credential_place() -> CredentialPlace:
    """Where the credential falls back to; the demo's own home, for `csos demo` itself."""
    from csos_desktop.sync.credentials import CredentialPlace, default_place

    place = default_place()
    return CredentialPlace(place.file, demo=is_demo_home(paths.home()))
