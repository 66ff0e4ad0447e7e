"""Key generation and signing on the two PKCS#11 implementations the tests use.

Baselines, measured in the same run:
- SoftHSM2 is the baseline for tpm2-pkcs11 (swtpm behind tpm2-abrmd, tests/token_backends.py);
- on each backend, generating straight with the minimal template is the baseline for
  `generate_keypair` (rich template first, minimal after a refusal, and minimal straight
  away for that token model afterwards): the difference is what the refused attempt costs
  (on tpm2-pkcs11 a whole RSA generation, paid once per process).
Also: moving a .p12 onto SoftHSM2 (`import_to_token`: C_CreateObject, certificates, test
signature), against generating a key pair there; and the same with the check in a new
process that the token kept it (`confirm_kept`), against the import alone.

Makes its own tokens in a temp dir. Prints one JSON object.
Usage: python benchmarks/token_backends.py [--keys 5] [--signatures 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from harness import emit, parse_args, per_call_ms  # noqa: E402  (benchmarks/ is on sys.path)
from pkcs11 import KeyType  # noqa: E402

from csos_desktop.domain.schedule import parse_schedule_list  # noqa: E402
from csos_desktop.pki.p12 import P12Contents, read_p12  # noqa: E402
from csos_desktop.sandbox.ca import TestCa  # noqa: E402
from csos_desktop.services.tokens.key_import import import_to_token  # noqa: E402
from csos_desktop.token.durability_check import Expected, confirm_kept  # noqa: E402
from csos_desktop.token.keys import KeyAlgorithm, generate_keypair, new_key_id  # noqa: E402
from csos_desktop.token.session import TokenSession  # noqa: E402
from csos_desktop.token.signer import TokenSigner  # noqa: E402
from csos_desktop.token.templates import MINIMAL_PRIVATE, MINIMAL_PUBLIC  # noqa: E402
from tests.token_backends import BackendToken, softhsm_token, tpm2_simulator  # noqa: E402

PIN = "246810"


def summary(ms: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(ms), 3), "max_ms": round(max(ms), 3)}


def measure(token: BackendToken, keys: int, signatures: int) -> dict[str, object]:
    ts = TokenSession(token.token(), rw=True)
    ts.login(PIN)
    with ts:
        minimal = per_call_ms(
            lambda _i: ts.session.generate_keypair(
                KeyType.RSA, 2048, store=True, id=new_key_id(), label="bench-min",
                public_template=dict(MINIMAL_PUBLIC), private_template=dict(MINIMAL_PRIVATE),
            ),
            keys,
        )  # fmt: skip
        made: list[bytes] = []
        ours = per_call_ms(
            lambda _i: made.append(generate_keypair(ts, KeyAlgorithm.RSA2048, "bench").key_id),
            keys,
        )
        signer = TokenSigner(ts, made[-1])
        digest = bytes(32)
        signing = per_call_ms(lambda _i: signer.sign_digest(digest), signatures)
        template = generate_keypair(ts, KeyAlgorithm.P256, "bench-ec").template.value
    return {
        "keygen_rsa2048_minimal_template_baseline": summary(minimal),
        "keygen_rsa2048_generate_keypair": summary(ours),
        "template_used": template,
        "sign_rsa2048_digest": summary(signing),
    }


def p12_contents(ca: TestCa) -> P12Contents:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    key = rsa.generate_private_key(65537, 2048)
    cert = ca.issue_for_public_key(
        key.public_key(),
        subject=x509.Name.from_rfc4514_string("CN=Bench Pharmacy"),
        dea_number="AB1234563",
        schedules=parse_schedule_list("2,3"),
        days=30,  # type: ignore[arg-type]
    )
    data = pkcs12.serialize_key_and_certificates(
        b"bench", key, cert, [ca.issuing_certificate], BestAvailableEncryption(b"pw")
    )
    return read_p12(data, "pw")  # the same checks as a user's file, profile included


def measure_import(token: BackendToken, ca: TestCa, n: int) -> dict[str, object]:
    ts = TokenSession(token.token(), rw=True)
    ts.login(PIN)
    files = [p12_contents(ca) for _ in range(n)]
    checked = [p12_contents(ca) for _ in range(n)]

    def import_and_check(i: int) -> None:
        contents = checked[i]
        imported = import_to_token(ts, contents)
        expected = Expected(
            imported.key_id, (contents.certificate_der, *contents.ca_certificates_der)
        )
        confirm_kept(token.module, ts.info, expected, PIN, aftermath="")

    with ts:
        imports = per_call_ms(lambda i: import_to_token(ts, files[i]), n)
        with_check = per_call_ms(import_and_check, n)
    return {
        "import_p12_rsa2048": summary(imports),
        # + a new process loading the module, logging in and signing (what import-p12 runs)
        "import_p12_rsa2048_kept_check": summary(with_check),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--keys", type=int, default=5)
    ap.add_argument("--signatures", type=int, default=200)
    args = parse_args(ap, {"keys": 1, "signatures": 5})
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        os.environ["CSOS_HOME"] = str(base / "home")
        ca = TestCa.init(base / "ca")
        soft = softhsm_token(base / "softhsm", "bench-soft", PIN)
        soft_import = softhsm_token(base / "softhsm", "bench-import", PIN)
        result: dict[str, object] = {
            "benchmark": "token_backends",
            "python": platform.python_version(),
            "keys": args.keys,
            "signatures": args.signatures,
            "softhsm2 (baseline)": measure(soft, args.keys, args.signatures),
        }
        result["softhsm2 (baseline)"].update(  # type: ignore[union-attr]
            measure_import(soft_import, ca, args.keys)
        )
        with tpm2_simulator(base / "tpm2") as sim:
            tpm = sim.create_token("bench-tpm", PIN)
            result["tpm2-pkcs11 on swtpm"] = measure(tpm, args.keys, args.signatures)
    emit(result)


if __name__ == "__main__":
    main()
