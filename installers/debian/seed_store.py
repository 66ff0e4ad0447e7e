"""Package test: give a user an order database made by the installed version's source.

Run with the source tree's Python as the test user (HOME set); prints JSON with what
was written, so the upgrade check can compare it afterwards.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources

from csos_desktop.domain.order import parse_order_input
from csos_desktop.store import open_store
from csos_desktop.store.audit import AuditEvent


def main() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    sample = json.loads(resources.files("csos_desktop.resources.samples")
                        .joinpath("order.json").read_text("utf-8"))
    order = parse_order_input(sample, now=now)
    with open_store() as store:
        with store.transaction():
            store.orders.insert(order, now=now, number_auto=False)
            store.audit.append(AuditEvent.ORDER_IMPORTED, at=now, order_id=order.order_id)
        version = int(store.conn.execute("PRAGMA user_version").fetchone()[0])
        entries = store.audit.verify().entries
        print(json.dumps({"db": str(store.path), "order_id": order.order_id,
                          "schema_version": version, "audit_entries": entries}))


if __name__ == "__main__":
    main()
