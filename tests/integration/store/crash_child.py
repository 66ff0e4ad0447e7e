"""Child process for the crash test: signs every draft in the store until it is killed.

Reads the PIN from stdin (never from the command line); prints one line per signature,
while that order's transaction is still open, then pauses so the kill often lands there.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from csos_desktop.domain.order import Order
from csos_desktop.domain.order_state import OrderState
from csos_desktop.sandbox.softhsm import token_by_label
from csos_desktop.services.orders.batch import sign_orders
from csos_desktop.services.orders.order_signer import OrderSigningSession, SignedOrder
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import open_store
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.identity import chain_for, choose_identity, signing_identities
from csos_desktop.token.session import TokenSession


class Announcing:
    def __init__(self, inner: OrderSigningSession) -> None:
        self.identity = inner.identity
        self.inner = inner

    def sign(self, order: Order) -> SignedOrder:
        signed = self.inner.sign(order)
        print("signed", order.order_id, flush=True)
        time.sleep(0.005)
        return signed


def main() -> None:
    db, module, label = sys.argv[1:4]
    pin = sys.stdin.readline().strip()
    ts = TokenSession(token_by_label(module, label))
    ts.open_public()
    certs = read_certificates(ts)
    identity = choose_identity(signing_identities(certs))
    chain = chain_for(identity, chain_file=None, token_certs=certs, stored_chain=None)
    ts.login(pin)
    del pin
    with open_store(Path(db)) as store:
        ids = [r.order_id for r in store.orders.list([OrderState.DRAFT])]
        print("ready", len(ids), flush=True)
        sign_orders(
            store,
            ids,
            Announcing(
                OrderSigningSession(SigningSession(ts, identity, chain, SigningPurpose.ORDER))
            ),
        )
    print("finished", flush=True)


if __name__ == "__main__":
    main()
