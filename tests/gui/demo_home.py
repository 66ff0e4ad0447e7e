"""A demo CSOS_HOME with a token, history and orders in every state, and the GUI tour's PNGs.

    python -m tests.gui.demo_home docs/screenshots

makes a throw-away home (SoftHSM2 token "CSOS Demo", PIN 123456, a sandbox CA
certificate; two years of cached history; drafts, one of which trips a SOM
warning; signed, shipped, partly received, held and rejected orders), runs
`csos-gui --screenshot DIR` on it, then saves the order editor (with its SOM
panel) and the signing dialog. The GUI tests call :func:`build` too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.config import set_value
from csos_desktop.config.policy import use_policy_file, write_policy
from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.enrol.flow import new_key_and_csr
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.softhsm import SoftHsmToken, create_token, token_by_label
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.orders.catalogue import import_synthetic
from csos_desktop.services.orders.poa import record_registrant
from csos_desktop.services.rx.access import Actor
from csos_desktop.services.rx.drafts import add_draft
from csos_desktop.services.rx.grants import approve_grant, propose_grant
from csos_desktop.services.rx.users import add_user
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import Store, lifecycle, open_store
from csos_desktop.store.access import Role
from csos_desktop.store.history import HistoryRow
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.identity import signing_identities
from csos_desktop.token.keys import KeyAlgorithm
from csos_desktop.token.provisioning import install_certificate
from csos_desktop.token.session import TokenSession
from csos_desktop.trust.anchors import add_anchor
from tests.gui.history import SUPPLIER
from tests.launch import command
from tests.ntp import shared_ntp
from tests.unit.domain.rx_samples import sample_rx_input

LABEL, PIN, DEA = "CSOS Demo", "123456", "AB1234563"
PURCHASER = {
    "name": "Main Street Pharmacy",
    "address": {
        "street": "120 Main Street",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
    },
    "dea_number": DEA,
}
#: (NDC, item, strength, form, package size, schedule, packages per order, every n days)
PRODUCTS = (
    ("99101-0010-01", "Oxycodone 5 mg tablet", "5 mg", "tablet", 100, "2", 2, 14),
    ("99102-0010-01", "Hydrocodone 10 mg/325 mg tablet", "10 mg/325 mg", "tablet", 100, "2", 3, 14),
)


@dataclass(frozen=True)
class DemoHome:
    home: Path
    hsm: SoftHsmToken

    def env(self) -> dict[str, str]:
        return dict(
            os.environ,
            CSOS_HOME=str(self.home),
            SOFTHSM2_CONF=str(self.hsm.conf),
            CSOS_PKCS11_MODULE=self.hsm.module,
        )


def _line(i: int, product: tuple[object, ...], packages: int) -> dict[str, object]:
    ndc, name, strength, form, size, schedule = product[:6]
    return {
        "line_no": i,
        "ndc": ndc,
        "item_name": name,
        "strength": strength,
        "dosage_form": form,
        "package_size": size,
        "quantity": packages,
        "schedule": schedule,
    }


def _order(
    lines: list[dict[str, object]], supplier: dict[str, object] = SUPPLIER
) -> dict[str, object]:
    return {"schema": "csos-order/1", "purchaser": PURCHASER, "supplier": supplier, "lines": lines}


def _history(store: Store, today: date) -> None:
    rows = []
    for code, p in ((9143, PRODUCTS[0]), (9193, PRODUCTS[1])):
        every = int(str(p[7]))
        for k in range(728 // every):
            day = today - timedelta(days=728 - k * every)
            rows.append(
                HistoryRow(
                    f"hist-{code}-{k}",
                    1,
                    day,
                    DEA,
                    str(p[0]).replace("-", ""),
                    code,
                    int(str(p[4])) * int(str(p[6])),
                    f"{p[2]} {p[3]}",
                )
            )
    with store.transaction():
        store.history.upsert(rows, source="distributor", fetched_at=datetime.now(UTC))


class _Pin:
    def ask_pin(self, token: object, warning: str | None) -> str | None:
        return PIN

    def show_pin_pad_prompt(self, token: object) -> None:
        raise AssertionError("no PIN pad on SoftHSM2")

    def notify(self, message: str) -> None:
        pass


def _prescriptions(store: Store, now: datetime, certificate_der: bytes) -> None:
    """A practice with a signing practitioner and an agent's drafts for two patients."""
    admin, doc, agent = Actor("office-admin"), Actor("dr-smith"), Actor("front-desk")
    add_user(store, None, "office-admin", "Office Administrator", Role.ACCESS_ADMIN, None, now=now)
    add_user(store, admin, "dr-smith", "Dr. Jane Smith", Role.PRACTITIONER, DEA, now=now)
    add_user(store, admin, "front-desk", "Front Desk", Role.AGENT, None, now=now)
    grant = propose_grant(
        store,
        admin,
        "dr-smith",
        certificate_der=certificate_der,
        registration_expires=now.date() + timedelta(days=700),
        registration_verified=True,
        now=now,
    )
    approve_grant(store, doc, grant.grant_id, now=now)
    data = sample_rx_input(now.date().isoformat())
    add_draft(store, agent, data, now=now)
    add_draft(
        store,
        agent,
        {**data, "quantity": 10, "drug": {**data["drug"], "strength": "10 mg"}},
        now=now,
    )
    other = {**data, "patient": {**data["patient"], "name": "John Roe"}}
    add_draft(
        store,
        agent,
        {
            **other,
            "drug": {
                "name": "Alprazolam",
                "strength": "0.5 mg",
                "dosage_form": "tablet",
                "schedule": "4",
            },
            "refills": 2,
        },
        now=now,
    )


def build(home: Path) -> DemoHome:
    """Token, certificate, history and orders in every interesting state."""
    os.environ["CSOS_HOME"] = str(home)
    use_policy_file(home / "policy.toml")
    write_policy(
        home / "policy.toml",
        # The clock is measured against this process's SNTP responder, never NIST's.
        {
            "distributor_url": "https://csos.keystone.example/api",
            "ntp_server": shared_ntp().address,
        },
        ["distributor_url"],
    )
    set_value("dea_number", DEA)  # the registration this home orders for, as a pharmacist sets it
    hsm = create_token(home / "softhsm", LABEL, PIN)
    ca = TestCa.init(home / "sandbox-ca")
    # The demo trusts its CA as `make demo` does: signing refuses a chain to no anchor.
    root = ca.root_certificate.public_bytes(Encoding.PEM)
    add_anchor(root, str(home / "sandbox-ca" / "root.pem"), now=datetime.now(UTC))
    ts = TokenSession(token_by_label(hsm.module, LABEL), rw=True)
    ts.login(PIN)
    with ts:
        pending = new_key_and_csr(
            ts, KeyAlgorithm.RSA2048, {"common_name": "Main Street Pharmacy"}, "csos"
        )
        cert = ca.issue(
            pending.csr_der, dea_number=DEA, schedules=parse_schedule_list("2,2N,3,3N,4,5")
        )
        chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
        install_certificate(ts, pending.key, cert.public_bytes(Encoding.DER), chain)
        identity = signing_identities(read_certificates(ts))[0]
        now = datetime.now(UTC)
        with open_store(home / "data" / "csos.db") as store:
            import_synthetic(store, at=now)  # a demo home holds the synthetic catalogue
            record_registrant(store, identity, "Jordan Demo", dea_number=DEA)  # 1305.05
            _history(store, now.date())
            small = [_line(1, PRODUCTS[0], 2), _line(2, PRODUCTS[1], 3)]
            made = svc.import_orders(store, [_order(small) for _ in range(6)], source="demo")
            ids = [r.order_id for r in made]
            svc.sign_orders_on_token(
                store, ids[:5], SigningSession(ts, identity, chain, SigningPurpose.ORDER), _Pin()
            )
            for oid in ids[:4]:
                msg = next(m for m in store.outbox.pending() if m.record_id == oid)
                lifecycle.mark_submitted(store, oid, msg.outbox_id, now=now)
            for oid in ids[:2]:
                lifecycle.record_status(store, oid, OrderState.SHIPPED, now=now)
            svc.record_receipt(
                store,
                ids[1],
                [ReceiptLine(1, 2, now.date())],
                svc.TokenDocumentSigner(
                    SigningSession(ts, identity, chain, SigningPurpose.RECEIPT)
                ),
            )
            lifecycle.record_status(store, ids[2], OrderState.INTERCEPTED, now=now)
            lifecycle.record_rejection(
                store,
                ids[3],
                reason="the ship-to address is not the registered address of DEA AB1234563",
                statement=b'{"reason": "address"}',
                media_type="application/json",
                now=now,
            )
            # The prepared draft that trips SOM: twenty times the usual oxycodone order.
            svc.import_orders(store, _order([_line(1, PRODUCTS[0], 40)]), source="demo")
            _prescriptions(store, now, identity.certificate_der)
    return DemoHome(home, hsm)


def screen_env(demo: DemoHome, width: int, height: int, scale: float) -> dict[str, str]:
    """Offscreen on a screen of width x height device pixels, at *scale* (QT_SCALE_FACTOR)."""
    config = demo.home / f"screen-{width}x{height}.json"
    config.write_text(
        json.dumps(
            {"screens": [{"name": "demo", "x": 0, "y": 0, "width": width, "height": height}]}
        )
    )
    env = {**demo.env(), "QT_QPA_PLATFORM": f"offscreen:configfile={config}"}
    if scale != 1.0:
        env["QT_SCALE_FACTOR"] = f"{scale:g}"
    return env


def screenshots(
    demo: DemoHome, out: Path, width: int = 1024, height: int = 768, scale: float = 1.0
) -> list[Path]:
    """The main screens through `csos-gui --screenshot`, then the editor and signing dialog,
    on a screen of width x height pixels at *scale*: every window fits it or scrolls."""
    env = screen_env(demo, width, height, scale)
    done = subprocess.run(
        [
            *command(demo.home / "policy.toml", "gui"),
            "--screenshot",
            str(out),
            "--demo-banner",
            f"Demo: token '{LABEL}', PIN {PIN} (demo only)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    paths = [Path(p) for p in done.stdout.split()]
    code = (
        "from tests.gui.demo_home import dialogs; import sys; from pathlib import Path; "
        "from csos_desktop.config.policy import use_policy_file; "
        "use_policy_file(Path(sys.argv[2])); print('\\n'.join(dialogs(sys.argv[1])))"
    )
    more = subprocess.run(
        [sys.executable, "-c", code, str(out), str(demo.home / "policy.toml")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return paths + [Path(p) for p in more.stdout.split()]


def dialogs(out_dir: str) -> list[str]:
    """In a fresh process on the demo home: the order editor and the signing dialog."""
    from PySide6.QtWidgets import QApplication

    from csos_desktop.domain.catalogue import bundled_catalogue
    from csos_desktop.domain.order_state import OrderState
    from csos_desktop.gui import theme
    from csos_desktop.gui.dialogs.order_editor import OrderEditor
    from csos_desktop.gui.dialogs.signing import Phase, SigningDialog
    from csos_desktop.gui.jobs.signing import OrderBatch, TokenTarget
    from csos_desktop.gui.jobs.token_thread import TokenThread, TokenWorker

    app = QApplication([])
    theme.apply(app)
    out = Path(out_dir)
    saved = []
    store = open_store()
    editor = OrderEditor(store, signer_name="Main Street Pharmacy", signer_dea=DEA)
    editor.known.setCurrentIndex(1)
    product = bundled_catalogue().product("99101001001")
    assert product is not None
    editor.lines.add_product(product, packages=40)
    editor.show()
    _wait(app, lambda: not editor.pending_review() and editor.som.review is not None)
    saved.append(_grab(editor, out / "07-order-editor.png"))
    drafts = [r.order_id for r in store.orders.list([OrderState.DRAFT])]
    worker = TokenWorker(os.environ["CSOS_PKCS11_MODULE"], label=LABEL)
    thread = TokenThread(worker)
    thread.start()
    dialog = SigningDialog(
        OrderBatch(store.path, drafts[:1], TokenTarget(worker.module, LABEL)), worker
    )
    dialog.show()
    _wait(app, lambda: dialog.phase is Phase.READY)
    saved.append(_grab(dialog, out / "08-signing-dialog.png"))
    dialog.close()
    thread.stop()
    store.close()
    return saved


def _wait(app: object, ready: object, timeout: float = 20.0) -> None:
    import time

    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        QApplication.processEvents()
        if time.monotonic() > end:
            raise TimeoutError("the screen did not settle")
        time.sleep(0.02)
    QApplication.processEvents()


def _grab(widget: object, path: Path) -> str:
    from PySide6.QtWidgets import QWidget

    assert isinstance(widget, QWidget)
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return str(path)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="csos-demo-") as tmp:
        demo = build(Path(tmp))
        for p in screenshots(demo, target):
            print(p)
        # 1.5x on a 1920x1080 laptop panel: 1280x720 logical pixels.
        scaled = target / "scaled-1.5x"
        scaled.mkdir(exist_ok=True)
        for p in screenshots(demo, scaled, 1920, 1080, 1.5):
            print(p)
