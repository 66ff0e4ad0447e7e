"""A benchmark's own signer: a SoftHSM2 token with a CSOS certificate from a test CA whose
root is a configured trust anchor, as the product expects of a pharmacy's computer.

Shared by the benchmarks that sign (sign.py, store.py, sync.py). Everything lives under one
work directory; ``CSOS_HOME`` points there, so nothing touches the user's own store.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.config.policy import use_policy_file
from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.order import parse_order_input
from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.enrol.flow import new_key_and_csr
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.ntp import NtpServer
from csos_desktop.sandbox.softhsm import create_token, token_by_label
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.identity import SigningIdentity, signing_identities
from csos_desktop.token.keys import GeneratedKey, KeyAlgorithm
from csos_desktop.token.provisioning import install_certificate
from csos_desktop.token.session import TokenSession
from csos_desktop.token.signer import TokenSigner
from csos_desktop.trust.anchors import add_anchor

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ORDER = ROOT / "csos_desktop" / "resources" / "samples" / "order.json"
PIN = "246810"
DEA = "AB1234563"
SCHEDULES = parse_schedule_list("2,2N,3,3N,4,5")


_ntp: NtpServer | None = None


def bench_home(work: Path) -> Path:
    """CSOS_HOME under *work*, with a machine policy of its own (none of this machine's)
    whose time reference is an SNTP responder in this process (no network here)."""
    global _ntp
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    _ntp = _ntp or NtpServer()
    policy = work / "policy.toml"
    policy.write_text(f'[settings]\nntp_server = "{_ntp.address}"\n', encoding="utf-8")
    os.environ["CSOS_HOME"] = str(home)
    use_policy_file(policy)
    return home


def trusted_ca(work: Path) -> TestCa:
    """A test CA whose root is in the (benchmark's) user trust store."""
    ca = TestCa.init(work / "ca")
    add_anchor(ca.root_certificate.public_bytes(Encoding.PEM), "bench root", now=datetime.now(UTC))
    return ca


@dataclass
class BenchToken:
    """A logged-in session on a token holding one RSA-2048 key and its CSOS certificate."""

    ts: TokenSession
    key: GeneratedKey
    certificate_der: bytes
    chain: list[bytes]

    def identity(self) -> SigningIdentity:
        return signing_identities(read_certificates(self.ts))[0]

    def cms_signer(self) -> CmsSigner:
        return CmsSigner(TokenSigner(self.ts, self.key.key_id), self.certificate_der, self.chain)


def bench_token(work: Path, ca: TestCa, label: str = "bench") -> BenchToken:
    hsm = create_token(work / "hsm", label, PIN)
    ts = TokenSession(token_by_label(hsm.module, label), rw=True)
    ts.login(PIN)
    pending = new_key_and_csr(ts, KeyAlgorithm.RSA2048, {"common_name": "Bench Pharmacy"}, "csos")
    cert = ca.issue(pending.csr_der, dea_number=DEA, schedules=SCHEDULES)
    cert_der = cert.public_bytes(Encoding.DER)
    chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
    install_certificate(ts, pending.key, cert_der, chain)
    return BenchToken(ts, pending.key, cert_der, chain)


def sample_order() -> dict[str, object]:
    data: dict[str, object] = json.loads(SAMPLE_ORDER.read_text(encoding="utf-8"))
    return data


def order_documents(n: int, now: datetime) -> list[tuple[str, bytes]]:
    """(order id, canonical bytes) of *n* distinct orders dated *now*, ready to sign."""
    sample = sample_order()
    out = []
    for i in range(n):
        sample["order_number"] = f"{now:%y}X{i:06d}"
        order = parse_order_input(sample, now=now).with_date_signed(now.date())
        out.append((order.order_id, canonical_bytes(order.to_document())))
    return out
