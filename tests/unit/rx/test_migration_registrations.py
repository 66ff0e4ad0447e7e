"""The registrations migration over a store made before it: each user's DEA number
becomes their first registration, each permission verified the one it named, and a
practitioner permitted before it still signs (nothing lost, nothing to redo)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from csos_desktop.domain.timestamps import format_timestamp
from csos_desktop.services.rx.permission import require_signing_grant
from csos_desktop.store import Store, open_store
from csos_desktop.store.db import connect
from csos_desktop.store.migrations import bundled_migrations, migrate, schema_version
from tests.unit.rx.helpers import SMITH_CERT
from tests.unit.rx.test_registrations import GOOD, smith_identity
from tests.unit.store.helpers import Clock

MINE = next(m.version for m in bundled_migrations() if m.name == "rx_registrations")


def store_before(path: Path, clock: Clock) -> None:
    """A practice as the version before wrote it: one DEA number per user, one permission."""
    conn = connect(path)
    migrate(conn, path, clock=clock, migrations=bundled_migrations()[: MINE - 1])
    at = format_timestamp(clock())
    users = [
        ("ann", "Ann Admin", "access-admin", None, None),
        ("drwho", "Dr. Who Admin", "access-admin", "BJ6125341", "ann"),
        ("drsmith", "Dr. Jane Smith", "practitioner", "AB1234563", "ann"),
        ("bob", "Bob Agent", "agent", None, "ann"),
    ]
    with conn:
        conn.executemany(
            "INSERT INTO rx_users (user_id, full_name, role, dea_number, created_at, "
            "created_by) VALUES (?, ?, ?, ?, ?, ?)",
            [(u, n, r, d, at, by) for u, n, r, d, by in users],
        )
        conn.execute(
            "INSERT INTO rx_grants (user_id, dea_number, state, proposed_by, proposed_at, "
            "registration_verified, approved_by, approved_at, certificate_sha256, "
            "registration_expires) VALUES ('drsmith', 'AB1234563', 'active', 'ann', ?, 1, "
            "'drwho', ?, ?, '2029-10-31')",
            (at, at, hashlib.sha256(SMITH_CERT).hexdigest()),
        )
    assert schema_version(conn) == MINE - 1
    conn.close()


def test_the_single_dea_number_becomes_the_first_registration(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "csos.db"
    store_before(path, clock)
    clock.advance(minutes=1)
    with open_store(path, clock=clock) as store:
        assert store.migration is not None and store.migration.backup is not None
        assert schema_version(store.conn) >= MINE
        smith = store.rx_registrations.of_user("drsmith")
        assert [(r.dea_number, r.state, r.expires, r.added_by) for r in smith] == [
            ("AB1234563", None, "2029-10-31", "ann")  # its end: the one the permission named
        ]
        assert [r.dea_number for r in store.rx_registrations.of_user("drwho")] == ["BJ6125341"]
        assert store.rx_registrations.of_user("bob") == []
        assert store.rx_registrations.of_user("ann") == []
        [grant] = store.rx_grants.all()
        assert store.rx_registrations.verified_by(grant.grant_id) == ("AB1234563",)
        assert [u.dea_number for u in store.rx_users.all()] == [
            None,
            None,
            "AB1234563",
            "BJ6125341",
        ]
        signs(store, clock)
        assert store.integrity_errors() == []


def signs(store: Store, clock: Clock) -> None:
    """The permission granted before the migration still lets Dr. Smith sign."""
    with store.transaction():
        user, grant = require_signing_grant(
            store, "drsmith", smith_identity(), GOOD, clock(), "AB1234563"
        )
    assert user.user_id == "drsmith" and grant.grant_id == 1
