"""The walk-through behind `make demo` / `csos demo`: the whole loop on one machine.

A SoftHSM2 token, the sandbox CA and distributor served over HTTPS on loopback,
enrolment with one-time codes, three orders signed in one login, sent, shipped,
received with signed receipts, archived and verified; a draft that trips SOM;
and a tampered order rejected. Each step says how it was checked, with OpenSSL
where an independent tool exists.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import crl as asn1_crl
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop import paths
from csos_desktop.config import set_value
from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.enrol.est_client import EstClient, OneTimeCodes
from csos_desktop.enrol.flow import enrol
from csos_desktop.enrol.records import Records
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.ca_server import start_ca
from csos_desktop.sandbox.codes import CodeStore
from csos_desktop.sandbox.demo_as2 import start_as2
from csos_desktop.sandbox.demo_checks import (
    demo_revocation,
    demo_rx_check,
    demo_source,
    som_step,
    tamper_check,
)
from csos_desktop.sandbox.demo_orders import (
    order_input,
    usual_lines,
    write_history_csv,
    year_number,
)
from csos_desktop.sandbox.demo_rx import newrx_step
from csos_desktop.sandbox.distributor.customers import add_customer
from csos_desktop.sandbox.distributor.pharmacy import SANDBOX_PHARMACY
from csos_desktop.sandbox.distributor.seed import seed_history
from csos_desktop.sandbox.distributor.server import (
    RunningDistributor,
    open_distributor,
    start_in_thread,
)
from csos_desktop.sandbox.https import RunningServer, bind, url_of
from csos_desktop.sandbox.softhsm import create_token, token_by_label
from csos_desktop.services.archive.export import export_archive
from csos_desktop.services.archive.verify import verify_archive
from csos_desktop.services.context import DEMO_MARKER, enter_demo
from csos_desktop.services.orders.catalogue import import_synthetic
from csos_desktop.services.orders.drafts import import_orders
from csos_desktop.services.orders.lifecycle import sign_orders_on_token
from csos_desktop.services.orders.poa import record_registrant
from csos_desktop.services.orders.receipts import record_receipt
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.services.signing.documents import TokenDocumentSigner
from csos_desktop.services.sync.service import DistributorSettings, sync_worker
from csos_desktop.services.trust_anchors import TrustMaterial
from csos_desktop.store import open_store
from csos_desktop.sync.client import DistributorClient, HistoryRow
from csos_desktop.sync.credentials import FILE_NAME, CredentialPlace, save_token
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.identity import signing_identities
from csos_desktop.token.session import TokenSession
from csos_desktop.trust.anchors import add_anchor, anchor_certificates

DEMO_LABEL = "CSOS Demo"
#: Shown to the user on purpose: a demo token protects nothing.
DEMO_PIN = "123456"
DEMO_DEA = "AB1234563"
DEMO_NAME = "Main Street Pharmacy"
#: Who signed the demo pharmacy's registration application (1305.05): the token's holder.
DEMO_REGISTRANT = "Jordan Demo"
DEMO_SCHEDULES = "2,2N,3,3N,4,5"
MARKER = DEMO_MARKER

Say = Callable[[str], None]


class DemoPin:
    """The demo token's PIN, typed for the user (a real PIN is always asked)."""

    def ask_pin(self, token: object, warning: str | None) -> str:
        return DEMO_PIN

    def show_pin_pad_prompt(self, token: object) -> None:
        pass

    def notify(self, message: str) -> None:
        pass


@dataclass
class DemoRun:
    """What stays up after the demo (for the GUI) and where things are."""

    home: Path
    softhsm_conf: Path
    module: str
    ca_dir: Path
    ca_server: RunningServer
    distributor: RunningDistributor
    som_draft: str

    def stop(self) -> None:
        self.distributor.stop()
        self.ca_server.stop()


def prepare_home(home: Path) -> None:
    """Start from an empty demo directory; never wipe a directory we did not make.

    A home holding only empty folders is claimed (nothing in it can be lost). The marker is
    removed last, so a run interrupted while clearing still finds its own directory.
    """
    if home.exists() and not _only_empty_dirs(home):
        if not (home / MARKER).exists():
            raise CsosError(
                f"{home} exists and is not a demo directory; choose another with --home."
            )
        for entry in home.iterdir():
            if entry.name == MARKER:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("made by csos demo; safe to delete\n", encoding="utf-8")


def _only_empty_dirs(path: Path) -> bool:
    return all(
        entry.is_dir() and not entry.is_symlink() and _only_empty_dirs(entry)
        for entry in path.iterdir()
    )


def run_demo(home: Path, say: Say) -> DemoRun:
    """Run every step; the CA and distributor keep serving until ``DemoRun.stop()``."""
    prepare_home(home)
    # This process runs the demo on the home it has just marked: its CA publishes CRLs on
    # 127.0.0.1 (fetched from the first step on, not refused and then remembered as failed),
    # and EPCS may use its SoftHSM2 token (1311.115 otherwise refuses a software token).
    enter_demo(home)
    say("CSOS Desktop demo. Everything runs on this machine; nothing is sent anywhere else.\n")
    hsm = create_token(home / "softhsm", DEMO_LABEL, DEMO_PIN)
    say(f"[1/9] Demo token '{DEMO_LABEL}' (SoftHSM2, a real PKCS#11 module); demo PIN {DEMO_PIN}.")

    # The CA's own certificates name its CRL addresses, so bind before creating it:
    # verifiers fetch the CRLs from there, as relying parties do.
    ca_sock = bind("127.0.0.1", 0)
    ca_url = url_of(ca_sock)
    ca = TestCa.init(
        home / "sandbox-ca",
        crl_url=f"{ca_url}/crl/issuing.crl",
        root_crl_url=f"{ca_url}/crl/root.crl",
    )
    ca_server = start_ca(ca, sock=ca_sock)
    # The distributor fetches the CRLs from the CA's distribution points, as suppliers do.
    distributor = open_distributor(ca.directory, fetch_crls=True)
    customer, token = add_customer(distributor.engine, dea_number=DEMO_DEA, name=DEMO_NAME)
    seeded = seed_history(distributor.engine, DEMO_DEA, today=datetime.now(UTC).date())
    running = start_in_thread(distributor, ca.directory, bind("127.0.0.1", 0))
    root = ca.directory / "root.pem"
    set_value("distributor_url", running.url)
    set_value("ca_bundle", str(root))
    set_value("rx_pharmacy_id", SANDBOX_PHARMACY)  # the sandbox distributor's own inbox
    add_anchor(root.read_bytes(), str(root), now=datetime.now(UTC))  # the demo trusts its CA
    # The sandbox credential stays in the demo's own home, out of the user's keyring.
    where = save_token(running.url, token, CredentialPlace(paths.config_dir() / FILE_NAME, True))
    say(
        f"[2/9] Sandbox CA at {ca_server.url} and distributor at {running.url} (HTTPS, test "
        f"CA root {root.name}); {seeded:,} lines of two years' history for {DEMO_DEA}; "
        f"distributor credential kept in {where}."
    )

    codes = CodeStore(ca.directory).issue(
        name=DEMO_NAME, dea_number=DEMO_DEA, schedules=parse_schedule_list(DEMO_SCHEDULES)
    )
    ts = TokenSession(token_by_label(hsm.module, DEMO_LABEL), rw=True)
    ts.login(DEMO_PIN)
    with EstClient(ca_server.url, ca_bundle=root) as est:
        done = enrol(
            ts,
            est,
            OneTimeCodes(codes.reference_number, codes.authorization_code),
            records=Records(paths.data_dir()),
        )
    say(
        f"[3/9] Enrolled over EST with one-time codes (reference {codes.reference_number}): "
        f"RSA-2048 key generated on the token, certificate for DEA {done.dea_number} "
        f"(a hash bound to subject serialNumber {done.info.subject_serial}), "
        f"schedules {', '.join(sorted(s.value for s in done.info.schedules))}."
    )

    catalogue = bundled_catalogue()
    today = datetime.now(UTC).date()
    with DistributorClient(running.url, token, ca_bundle=root) as client:
        history_rows = list(_all_history(client))
        policy_doc = client.som_policy()
    history_csv = home / "history.csv"
    write_history_csv(history_rows, history_csv)
    usual = usual_lines(history_rows, catalogue)
    identity = signing_identities(read_certificates(ts))[0]
    chain = list(done.chain_der)
    with open_store() as store:
        # The demo's orders name the synthetic products: its own store holds that catalogue.
        import_synthetic(store, at=datetime.now(UTC))
        # The token's holder signed the registration application: recorded as the registrant
        # before the first schedule II order, as a pharmacy does (1305.05).
        record_registrant(store, identity, DEMO_REGISTRANT, dea_number=DEMO_DEA)
        inputs = [
            order_input(DEMO_DEA, year_number(today, 100 + i), [u]) for i, u in enumerate(usual)
        ]
        ids = [r.order_id for r in import_orders(store, inputs, source="demo")]
        session = SigningSession(ts, identity, chain, SigningPurpose.ORDER)
        # The first one is signed as an X12 850 too, and goes over AS2 (demo_as2).
        result = sign_orders_on_token(store, ids[:1], session, DemoPin(), x12=True)
        rest = sign_orders_on_token(store, ids[1:], session, DemoPin())
        result = replace(result, signed=result.signed + rest.signed)
        say(
            f"[4/9] {len(result.signed)} orders of this pharmacy's usual products signed with "
            "one PIN entry; each kept with its audit entry: "
            + ", ".join(f"{r.order_number}" for r in result.signed)
            + "."
        )

        as2 = start_as2(home, distributor, running.url, customer)
        with sync_worker(
            store,
            DistributorSettings(running.url, root, as2=as2.settings),
            token=token,
            statement_revocation=demo_source(ca),  # the statements' CRLs, as for the orders
        ) as worker:
            sent = worker.run_once()
            states = {store.orders.get(i).state.value for i in ids}
            say(
                f"[5/9] Sent to the distributor: {len(sent.sent)} orders, verified there as "
                f"21 CFR 1305.22 requires; now {', '.join(sorted(states))}."
            )
            as2.sent(store, ids[0], running.url, say)
            distributor.fulfil()
            as2.shipped(store, ids[0], say)
            statements = worker.run_once().statements
            shipped = [store.orders.get(i) for i in ids]
            signer = TokenDocumentSigner(
                SigningSession(ts, identity, chain, SigningPurpose.RECEIPT)
            )
            for rec in shipped:
                order = store.orders.order(rec.order_id)
                record_receipt(
                    store,
                    rec.order_id,
                    [ReceiptLine(ln.line_no, ln.quantity, today) for ln in order.lines],
                    signer,
                )
            receipts = worker.run_once()
            final = {store.orders.get(i).state.value for i in ids}
            say(
                f"[6/9] Shipped; the distributor's signed statements verified (trust store "
                f"and CRLs): {sum(o.verified for o in statements)} of {len(statements)}; "
                f"electronic receipts recorded (quantity and date per line, "
                f"1305.22(g)), signed on the token and sent: {len(receipts.sent)}; orders "
                f"now {', '.join(sorted(final))}."
            )

        as2.stop()
        bundle = home / "archive.zip"
        manifest_signer = TokenDocumentSigner(
            SigningSession(ts, identity, chain, SigningPurpose.ARCHIVE_MANIFEST)
        )
        export_archive(store, today, today, bundle, signer=manifest_signer)
        crls = tuple(
            asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
            for c in (ca.crl(), ca.root_crl())
        )  # without revocation data, archive verification fails closed
        report = verify_archive(bundle, TrustMaterial(tuple(anchor_certificates()), crls))
        say(
            f"[7/9] Archive {bundle.name}: {report.files} files, {report.signatures} "
            f"signatures re-verified offline: {'INTACT' if report.intact else report.problems}."
        )

        draft = som_step(
            store, home, DEMO_DEA, today, catalogue, usual, history_csv, policy_doc, say
        )

        blob = store.signed.get(ids[0])
    with DistributorClient(running.url, token, ca_bundle=root) as client:
        newrx_step(
            ts=ts,
            identity=identity,
            chain=chain,
            client=client,
            pin=DemoPin(),
            dea=DEMO_DEA,
            check=demo_rx_check(ca),
            revocation=demo_revocation(ca),
            send=lambda: _send_outbox(running.url, root, token, ca),
            home=home,
            say=say,
        )
    ts.close()
    tamper_check(ca, blob.document, blob.signature, home, say)
    return DemoRun(home, hsm.conf, hsm.module, ca.directory, ca_server, running, draft.order_number)


def _send_outbox(url: str, root: Path, token: str, ca: TestCa) -> None:
    """One `csos sync` pass over the demo home's outbox."""
    with (
        open_store() as store,
        sync_worker(
            store,
            DistributorSettings(url, root),
            token=token,
            statement_revocation=demo_source(ca),
        ) as worker,
    ):
        worker.run_once()


def _all_history(client: DistributorClient) -> list[HistoryRow]:
    rows: list[HistoryRow] = []
    cursor = "0"
    while True:
        page = client.history(cursor)
        rows += page.rows
        cursor = page.next_cursor
        if not page.has_more:
            return rows


def try_it_yourself(run: DemoRun) -> str:
    """Shell lines to look around after the demo."""
    activate = Path(sys.executable).parent / "activate"
    return "\n".join(
        [
            "",
            "Look around (same token, CA and store; the servers stop when this command ends):",
            *([f"  source {activate}"] if activate.exists() else []),
            f"  export SOFTHSM2_CONF={run.softhsm_conf} CSOS_PKCS11_MODULE={run.module}",
            f"  export CSOS_HOME={run.home}",
            "  csos cert show --offline",
            "  csos order list",
            "  csos audit verify",
            f"  csos archive verify {run.home}/archive.zip --trust {run.ca_dir}/root.pem "
            f"--crl {run.home}/crl.pem --crl {run.home}/root-crl.pem",
            f"  csos som check {run.home}/som-draft.json --history {run.home}/history.csv",
        ]
    )
