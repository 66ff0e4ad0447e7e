"""`csos order sign --all-drafts` on N stored drafts, against raw C_Sign in the same run.

The parent makes a SoftHSM2 token, a test CA (its root trusted), a CSOS_HOME with N
drafts; a child process runs the real command (`csos order sign --all-drafts
--pin-stdin`) with the token signer timed, so the figures are the command's own:

- ``per_order_ms_p50``: median time between two consecutive signatures of the batch
  (everything the pipeline does per order: checks, dating, CMS, self-check, record);
- ``raw_c_sign_ms_p50``: median raw C_Sign of a SHA-256 DigestInfo, same token, same run;
- ``frames_to_c_sign``: project frames (csos_desktop) on the stack at the token's sign call,
  from the command down;
- ``modules_imported``: csos_desktop modules loaded once the command has run.

Prints one JSON object. Usage: python benchmarks/batch_sign.py [--orders 100] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PIN = "246810"
DEA = "AB1234563"
DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")

from csos_desktop.sandbox.ntp import NtpServer  # noqa: E402  (ROOT on sys.path first)

_NTP: NtpServer | None = None


def _set_up(work: Path, n: int) -> dict[str, str]:
    """Token, CA, trusted root, N drafts in a fresh CSOS_HOME; returns the child's env."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from csos_desktop.domain.schedule import parse_schedule_list
    from csos_desktop.enrol.flow import new_key_and_csr
    from csos_desktop.sandbox.ca import TestCa
    from csos_desktop.sandbox.softhsm import create_token, token_by_label
    from csos_desktop.store import open_store
    from csos_desktop.token.keys import KeyAlgorithm
    from csos_desktop.token.provisioning import install_certificate
    from csos_desktop.token.session import TokenSession
    from csos_desktop.trust.anchors import add_anchor

    home = work / "home"
    os.environ["CSOS_HOME"] = str(home)
    hsm = create_token(work / "hsm", "bench", PIN)
    ca = TestCa.init(work / "ca")
    add_anchor(ca.root_certificate.public_bytes(Encoding.PEM), "bench root", now=datetime.now(UTC))
    with TokenSession(token_by_label(hsm.module, "bench"), rw=True) as ts:
        ts.login(PIN)
        pending = new_key_and_csr(
            ts, KeyAlgorithm.RSA2048, {"common_name": "Bench Pharmacy"}, "csos"
        )
        cert = ca.issue(
            pending.csr_der, dea_number=DEA, schedules=parse_schedule_list("2,2N,3,3N,4,5")
        )
        chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
        install_certificate(ts, pending.key, cert.public_bytes(Encoding.DER), chain)
    sample = json.loads((ROOT / "csos_desktop/resources/samples/order.json").read_text())
    sample.pop("order_number", None)
    from csos_desktop.services.orders import lifecycle
    from csos_desktop.services.orders.poa import record_registrant
    from csos_desktop.token.certs import TokenCertificate
    from csos_desktop.token.identity import signing_identities

    [identity] = signing_identities(
        [TokenCertificate(pending.key.key_id, "bench", cert.public_bytes(Encoding.DER))]
    )
    with open_store() as store:
        # The sample order carries schedule II: the token's holder is the recorded registrant.
        record_registrant(store, identity, "Bench Registrant", dea_number=DEA)
        lifecycle.import_orders(store, [sample] * n, source="benchmark")
    policy = home / "machine-policy.toml"
    # The time reference: an SNTP responder in this (parent) process, alive for the run.
    global _NTP
    _NTP = _NTP or NtpServer()
    policy.write_text(
        f'[settings]\nallow_software_tokens = true\nntp_server = "{_NTP.address}"\n',
        encoding="utf-8",
    )
    return dict(
        os.environ,
        CSOS_HOME=str(home),
        SOFTHSM2_CONF=str(hsm.conf),
        CSOS_PKCS11_MODULE=hsm.module,
    )


def _child(out: Path, raw_n: int) -> None:
    """Run the command with the token signer timed (this process is the `csos` command)."""
    from pkcs11 import Mechanism

    from csos_desktop.token import signer as token_signer

    starts: list[float] = []
    frames: list[int] = []
    stack_names: list[str] = []
    original = token_signer.TokenSigner.sign_digest
    raw: list[float] = []

    def timed(self: token_signer.TokenSigner, digest: bytes) -> bytes:
        starts.append(time.perf_counter())
        if not frames:
            stack = traceback.extract_stack()
            ours = [f for f in stack if "/csos_desktop/" in f.filename]
            frames.append(len(ours))
            stack_names.extend(
                f"{Path(f.filename).relative_to(ROOT / 'csos_desktop').with_suffix('')}.{f.name}"
                for f in ours
            )
            key = self._key if hasattr(self, "_key") else None
            if key is not None:  # raw C_Sign on the same key, same session, same run
                for _ in range(raw_n):
                    t0 = time.perf_counter()
                    key.sign(DIGEST_INFO + digest, mechanism=Mechanism.RSA_PKCS)
                    raw.append((time.perf_counter() - t0) * 1000)
                starts[-1] = time.perf_counter()
        return original(self, digest)

    token_signer.TokenSigner.sign_digest = timed  # type: ignore[method-assign]
    from csos_desktop.cli import main

    t0 = time.perf_counter()
    try:
        main(["order", "sign", "--all-drafts", "--pin-stdin", "--token", "bench", "--json"])
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    total = time.perf_counter() - t0
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(starts)]
    modules = sorted(m for m in sys.modules if m.startswith("csos_desktop"))
    out.write_text(
        json.dumps(
            {
                "exit_code": code,
                "signatures": len(starts),
                "command_s": round(total, 3),
                "per_order_ms_p50": round(statistics.median(gaps), 3) if gaps else None,
                "raw_c_sign_ms_p50": round(statistics.median(raw), 3) if raw else None,
                "frames_to_c_sign": frames[0] if frames else None,
                "stack": stack_names,
                "modules_imported": len(modules),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="10 drafts (a smoke run)")
    ap.add_argument("--stack", action="store_true", help="include the frame names")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--raw", type=int, default=200, help=argparse.SUPPRESS)
    ap.add_argument("--policy", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        from csos_desktop.config.policy import use_policy_file

        # The benchmark's machine policy, as a test workstation's (software tokens allowed).
        use_policy_file(args.policy)
        _child(args.child, args.raw)
        return
    n = 10 if args.quick else args.orders
    work = Path(tempfile.mkdtemp(prefix="csos-batch-bench-"))
    env = _set_up(work, n)
    result_file = work / "result.json"
    done = subprocess.run(
        [
            *(sys.executable, __file__, "--child", str(result_file)),
            *("--raw", str(max(n, 50)), "--policy", str(work / "home" / "machine-policy.toml")),
        ],
        env=env,
        input=PIN + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if not result_file.exists():
        raise SystemExit(f"the command did not run: {done.stderr[-2000:]}")
    result = json.loads(result_file.read_text())
    if not args.stack:
        result.pop("stack")
    result.update({"orders": n, "stderr_tail": done.stderr.strip()[-300:] or None})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
