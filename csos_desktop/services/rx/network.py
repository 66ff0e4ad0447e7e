"""The network side of NCPDP SCRIPT for both front ends: directory, mailbox, answers.

The distributor URL, CA bundle and bearer token are the sync settings (`csos config`,
the OS keyring); TLS is verified as for every distributor call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.pharmacy import Pharmacy
from csos_desktop.services.rx.receive import PharmacyTrust, Received, receive
from csos_desktop.services.sync.service import credential_place, settings_from_config
from csos_desktop.store.local_store import Store
from csos_desktop.sync.client import DistributorClient


@contextmanager
def network_client(
    url: str | None = None, ca_bundle: Path | None = None, *, token: str | None = None
) -> Iterator[DistributorClient]:
    """A client of the configured distributor/network (*token*: tests and the demo)."""
    from csos_desktop.sync.credentials import load_token

    settings = settings_from_config(url, ca_bundle)
    where = settings.require_url()
    bearer = token if token is not None else load_token(where, credential_place())
    with DistributorClient(where, bearer, ca_bundle=settings.ca_bundle) as client:
        yield client


def directory(client: DistributorClient) -> list[Pharmacy]:
    return client.pharmacy_directory()


def choose_pharmacy(client: DistributorClient, ncpdp_id: str) -> Pharmacy:
    """The directory's entry for *ncpdp_id*: a prescription goes only to a listed pharmacy."""
    for pharmacy in client.pharmacy_directory():
        if pharmacy.ncpdp_id == ncpdp_id:
            return pharmacy
    raise InputError(
        f"No pharmacy with NCPDP ID {ncpdp_id} in the network's directory; list them with "
        "`csos rx pharmacies` and choose the patient's pharmacy."
    )


def receive_from_server(
    store: Store,
    client: DistributorClient,
    *,
    own_ncpdp_id: str,
    trust: PharmacyTrust,
    now: datetime,
) -> Sequence[Received]:
    """Every message waiting in this pharmacy's mailbox: verified, kept, answered."""
    out: list[Received] = []
    for message in client.newrx_inbox(own_ncpdp_id):
        if message.answered:
            continue
        got = receive(
            store,
            message.message,
            own_ncpdp_id=own_ncpdp_id,
            source="server",
            trust=trust,
            now=now,
        )
        client.answer_newrx(own_ncpdp_id, message.message_id, got.answer)
        out.append(got)
    return out
