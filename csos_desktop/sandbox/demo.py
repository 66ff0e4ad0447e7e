"""The headless walk-through behind `make demo` / `csos demo`.

Everything is local: a SoftHSM2 token, the sandbox test CA, files under one
demo directory. Each step prints what happened and how it was checked, with
independent tools (OpenSSL) where one exists.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.order import parse_order_input
from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.errors import CsosError
from csos_desktop.pki.csr import csr_pem
from csos_desktop.pki.supplier_check import verify_order
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.softhsm import create_token, token_by_label
from csos_desktop.services.identity import signing_identities
from csos_desktop.services.order_signing import OrderSigningSession
from csos_desktop.services.provisioning import install_certificate, new_key_and_csr
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.keys import KeyAlgorithm
from csos_desktop.token.session import TokenSession

DEMO_LABEL = "CSOS Demo"
#: Shown to the user on purpose: a demo token protects nothing.
DEMO_PIN = "123456"
DEMO_DEA = "AB1234563"
DEMO_SCHEDULES = "2,2N,3,3N,4,5"
MARKER = ".csos-demo"
SAMPLE = Path(__file__).resolve().parent.parent / "resources" / "samples" / "order.json"


@dataclass(frozen=True)
class DemoResult:
    """Paths a user can reuse after the demo."""

    home: Path
    softhsm_conf: Path
    module: str
    ca_dir: Path
    document: Path
    signature: Path
    crls: tuple[Path, ...]


def prepare_home(home: Path) -> None:
    """Start from an empty demo directory; never wipe a directory we did not make."""
    if home.exists() and any(home.iterdir()):
        if not (home / MARKER).exists():
            raise CsosError(
                f"{home} exists and is not a demo directory; choose another with --home."
            )
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("made by csos demo; safe to delete\n", encoding="utf-8")


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)


def run_demo(home: Path, say: Callable[[str], None]) -> DemoResult:
    """Enrol a demo token at the test CA, sign the sample order, verify it, tamper with it."""
    prepare_home(home)
    say("CSOS Desktop demo (headless). Everything stays on this machine.\n")

    hsm = create_token(home / "softhsm", DEMO_LABEL, DEMO_PIN)
    say(f"[1/7] Demo token '{DEMO_LABEL}' created with SoftHSM2 (a real PKCS#11 module).")
    say(f"      Demo PIN: {DEMO_PIN}  (demo only; a real PIN is never shown or stored)")

    ca = TestCa.init(home / "sandbox-ca")
    say(f"[2/7] Sandbox test CA (root + issuing CA) in {ca.directory}")

    ts = TokenSession(token_by_label(hsm.module, DEMO_LABEL), rw=True)
    ts.login(DEMO_PIN)
    with ts:
        pending = new_key_and_csr(
            ts, KeyAlgorithm.RSA2048, {"common_name": "Main Street Pharmacy"}, "csos"
        )
        req = home / "request.pem"
        req.write_bytes(csr_pem(pending.csr_der))
        check = _openssl("req", "-verify", "-noout", "-in", str(req))
        say("[3/7] RSA-2048 key pair generated on the token (sensitive, never extractable);")
        say(
            f"      CSR signed on the token -> {req.name}; openssl req -verify: "
            f"{'OK' if check.returncode == 0 else 'FAILED ' + check.stderr.strip()}"
        )

        cert = ca.issue(
            pending.csr_der, dea_number=DEMO_DEA, schedules=parse_schedule_list(DEMO_SCHEDULES)
        )
        chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
        install_certificate(ts, pending.key, cert.public_bytes(Encoding.DER), chain)
        identity = signing_identities(read_certificates(ts))[0]
        say(
            f"[4/7] CA issued certificate serial {cert.serial_number:#x} for DEA {DEMO_DEA}, "
            f"schedules {DEMO_SCHEDULES}; stored on the token with the CA chain."
        )

        now = datetime.now(UTC)
        data = json.loads(SAMPLE.read_text(encoding="utf-8"))
        data["order_number"] = f"{now:%y}X000123"
        (home / "order.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
        signed = OrderSigningSession(ts, identity, chain).sign(parse_order_input(data, now=now))

    orders = home / "orders"
    orders.mkdir()
    doc = orders / f"{signed.order.order_id}.json"
    sig = orders / f"{signed.order.order_id}.p7s"
    doc.write_bytes(signed.document)
    sig.write_bytes(signed.signature)
    say(
        f"[5/7] Signed order {signed.order.order_number} ({len(signed.order.lines)} lines, "
        f"schedules {', '.join(sorted(s.value for s in signed.order.schedules))}):"
    )
    say(f"      {doc} ({len(signed.document)} bytes, exactly as signed)")
    say(f"      {sig} ({len(signed.signature)} bytes, CMS SignedData, detached)")

    crl_paths = (home / "crl.pem", home / "root-crl.pem")
    crl_paths[0].write_bytes(ca.crl().public_bytes(Encoding.PEM))
    crl_paths[1].write_bytes(ca.root_crl().public_bytes(Encoding.PEM))
    root_pem = ca.directory / "root.pem"
    roots = [asn1_x509.Certificate.load(ca.root_certificate.public_bytes(Encoding.DER))]
    crls = [
        asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
        for c in (ca.crl(), ca.root_crl())
    ]
    result = verify_order(
        signed.document, signed.signature, trust_roots=roots, crls=crls, now=datetime.now(UTC)
    )
    ossl = _openssl(
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        str(sig),
        "-content",
        str(doc),
        "-CAfile",
        str(root_pem),
        "-out",
        "/dev/null",
    )
    say(
        f"[6/7] Supplier check (21 CFR 1305.22, CRL checked): "
        f"{'ACCEPTED' if result.accepted else 'REJECTED ' + str(result.reasons)}"
    )
    say(
        f"      openssl cms -verify: {ossl.stderr.strip().splitlines()[-1] if ossl.stderr else '?'}"
    )

    tampered = signed.document.replace(b'"quantity":2', b'"quantity":20', 1)
    bad = verify_order(
        tampered, signed.signature, trust_roots=roots, crls=crls, now=datetime.now(UTC)
    )
    say(
        "[7/7] Same order with one line's quantity changed 2 -> 20: "
        + (
            "ACCEPTED (unexpected!)"
            if bad.accepted
            else "REJECTED: " + "; ".join(f"{f.reason.value}" for f in bad.findings)
        )
    )
    return DemoResult(home, hsm.conf, hsm.module, ca.directory, doc, sig, crl_paths)


def try_it_yourself(r: DemoResult) -> str:
    """Shell lines to repeat the demo's steps by hand."""
    activate = Path(sys.executable).parent / "activate"
    return "\n".join(
        [
            "",
            "Try it yourself (same token, same CA):",
            *([f"  source {activate}"] if activate.exists() else []),
            f"  export SOFTHSM2_CONF={r.softhsm_conf} CSOS_PKCS11_MODULE={r.module}",
            f"  export CSOS_HOME={r.home}",
            "  csos token list",
            "  csos cert show",
            f"  csos order sign {r.home}/order.json --out {r.home}/mine      # PIN {DEMO_PIN}",
            f"  csos order verify {r.document} {r.signature} --trust {r.ca_dir}/root.pem "
            f"--crl {r.crls[0]} --crl {r.crls[1]}",
            f"  openssl cms -verify -binary -inform DER -in {r.signature} -content {r.document} "
            f"-CAfile {r.ca_dir}/root.pem -out /dev/null",
        ]
    )
