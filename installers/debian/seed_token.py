"""Package test: a SoftHSM2 token holding a key and a CSOS certificate from a throw-away
test CA, for checking that the installed program refuses it for EPCS.

Run with the source tree's Python as the unprivileged test user: seed_token.py DIR PIN.
Prints JSON: the softhsm2.conf, the module and the token label.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.schedule import parse_schedule_list
from csos_desktop.enrol.flow import new_key_and_csr
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.softhsm import create_token, token_by_label
from csos_desktop.token.keys import KeyAlgorithm
from csos_desktop.token.provisioning import install_certificate
from csos_desktop.token.session import TokenSession

LABEL = "package-test"


def main(directory: Path, pin: str) -> None:
    hsm = create_token(directory / "softhsm", LABEL, pin)
    ca = TestCa.init(directory / "ca")
    ts = TokenSession(token_by_label(hsm.module, LABEL), rw=True)
    ts.login(pin)
    with ts:
        pending = new_key_and_csr(ts, KeyAlgorithm.P256, {"common_name": "Package Test"}, "csos")
        cert = ca.issue(
            pending.csr_der,
            dea_number="AB1234563",
            schedules=parse_schedule_list("2,2N,3,3N,4,5"),
        )
        chain = [ca.issuing_certificate.public_bytes(Encoding.DER)]
        install_certificate(ts, pending.key, cert.public_bytes(Encoding.DER), chain)
    root = directory / "root.pem"
    root.write_bytes(ca.root_certificate.public_bytes(Encoding.PEM))
    print(json.dumps({"conf": str(hsm.conf), "module": hsm.module, "label": LABEL,
                      "root": str(root)}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
