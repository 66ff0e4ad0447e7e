"""855/856/997 from a distributor: kept, linked to the order; the receipt pre-filled from 856s."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.x12.replies import (
    AckLine,
    AckStatus,
    LineStatus,
    OrderAck,
    ShipNotice,
    ShippedLine,
    build_reply,
)
from csos_desktop.pki.cms_attached import detach
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import lifecycle, open_store
from tests.conftest import PURCHASER_DEA, TEST_PIN, Provisioned
from tests.integration.store.cli import csos
from tests.integration.store.test_cli_store import home, token_args  # noqa: F401
from tests.unit.domain.samples import SUPPLIER_DEA
from tests.unit.store.helpers import order_input


def reply(doc: OrderAck | ShipNotice, control: int) -> bytes:
    return build_reply(
        doc,
        sender=SUPPLIER_DEA,
        receiver=PURCHASER_DEA,
        control_number=control,
        prepared_at=datetime.now(UTC),
    )


def test_855_and_856_are_linked_and_the_receipt_is_prefilled_from_the_856(
    home: Path,  # noqa: F811
    rsa_token: Provisioned,
    test_ca: TestCa,
    tmp_path: Path,
) -> None:
    chain = tmp_path / "chain.pem"
    chain.write_bytes(test_ca.issuing_certificate.public_bytes(Encoding.PEM))
    (tmp_path / "o.json").write_text(json.dumps(order_input()))
    imported = csos(home, rsa_token, "order", "import", str(tmp_path / "o.json"), "--json")
    order_id = json.loads(imported.output)[0]["order_id"]
    signed = csos(
        home, rsa_token, "order", "sign-drafts", order_id, *token_args(rsa_token, chain),
        stdin=TEST_PIN + "\n",
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    with open_store(home / "data" / "csos.db") as store:
        [msg] = store.outbox.pending()
        lifecycle.mark_submitted(store, order_id, msg.outbox_id, now=datetime.now(UTC))
        order = store.orders.order(order_id)
    today = datetime.now(UTC).date()
    oxy, alprazolam = order.lines[0], order.lines[1]
    files = {
        "ack.x12": reply(
            OrderAck(
                order_id, order.order_number, today, AckStatus.ACCEPTED_WITH_CHANGES,
                (AckLine(1, oxy.ndc, 2, LineStatus.ACCEPTED, 2),
                 AckLine(2, alprazolam.ndc, 1, LineStatus.BACKORDERED, 1)),
            ),
            11,
        ),
        "asn.x12": reply(
            ShipNotice("SHP-1", order_id, order.order_number, datetime.now(UTC),
                       (ShippedLine(1, oxy.ndc, 2, today),)),
            12,
        ),
        "other.x12": reply(
            ShipNotice("SHP-2", order_id, "26X999999", datetime.now(UTC),
                       (ShippedLine(1, oxy.ndc, 2, today),)),
            13,
        ),
    }  # fmt: skip
    files["bad.x12"] = files["asn.x12"].replace(b"IEA*1*000000012", b"IEA*1*000000099")
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    got = csos(home, rsa_token, "x12", "receive", *(str(tmp_path / n) for n in files))
    assert got.exit_code == 1
    assert "ack.x12: 855 received for order" in got.output
    assert "asn.x12: 856 received for order" in got.output
    assert "other.x12: kept but not linked: x12-unknown-order" in got.output
    assert "bad.x12: kept but not linked: x12-control-mismatch" in got.output

    with open_store(home / "data" / "csos.db") as store:
        linked = store.x12.for_order(order_id)
        everything = [store.x12.get(n) for n in range(1, 5)]
    assert [k.transaction_set for k in linked] == ["855", "856"]
    assert [k.document for k in everything] == list(files.values())  # kept, byte for byte

    received = csos(
        home, rsa_token, "receive", order_id, "--from-856", *token_args(rsa_token, chain),
        stdin=TEST_PIN + "\n",
    )  # fmt: skip
    assert received.exit_code == 0, received.output
    assert f"line 1: 2 package(s) on {today}" in received.output
    assert "received-partial" in received.output
    with open_store(home / "data" / "csos.db") as store:
        [r] = store.receipts.for_order(order_id)
    assert [(ln.line_no, ln.quantity_received) for ln in r.receipt.lines] == [(1, 2)]

    again = csos(home, rsa_token, "receive", order_id, "--from-856", *token_args(rsa_token, chain))
    assert again.exit_code == 2 and "No ship notice (856)" in again.output


def test_order_sign_file_with_x12_writes_the_signed_850_that_order_verify_accepts(
    home: Path,  # noqa: F811
    rsa_token: Provisioned,
    test_ca: TestCa,
    tmp_path: Path,
) -> None:
    chain = tmp_path / "chain.pem"
    chain.write_bytes(test_ca.issuing_certificate.public_bytes(Encoding.PEM))
    (tmp_path / "o.json").write_text(json.dumps(order_input()))
    out = tmp_path / "out"
    signed = csos(
        home, rsa_token, "order", "sign", str(tmp_path / "o.json"), "--x12", "--out", str(out),
        *token_args(rsa_token, chain), stdin=TEST_PIN + "\n",
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    [p7m] = list(out.glob("*.850.p7m"))
    assert "signed 850:" in signed.output
    root = tmp_path / "root.pem"
    root.write_bytes(test_ca.root_certificate.public_bytes(Encoding.PEM))
    crl = tmp_path / "issuing.crl"
    crl.write_bytes(test_ca.crl().public_bytes(Encoding.DER))
    root_crl = tmp_path / "root.crl"
    root_crl.write_bytes(test_ca.root_crl().public_bytes(Encoding.DER))
    verified = csos(
        home, rsa_token, "order", "verify", str(p7m), "--trust", str(root),
        "--crl", str(crl), "--crl", str(root_crl),
    )  # fmt: skip
    assert verified.exit_code == 0 and "ACCEPTED" in verified.output, verified.output
    exported = csos(home, rsa_token, "order", "export", "--format", "x12", p7m.name.split(".")[0])
    assert exported.exit_code == 0, exported.output
    assert exported.stdout_bytes == detach(p7m.read_bytes())[0]  # the signed bytes, not new ones
