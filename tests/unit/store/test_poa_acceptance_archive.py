"""`csos archive verify` ties an attorney's acceptance to its power of attorney (1305.05(c)).

The signature itself is checked like every other one in the bundle; here, that the
acceptance names the exact bytes of the bundled grant and was signed with a certificate
that grant names. The certificates are the session's real test-token certificates.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from asn1crypto import x509 as asn1_x509

from csos_desktop.services.archive.poa_acceptance import acceptance_problems
from tests.conftest import Provisioned


def _bundle(grant: bytes, acceptance: dict[str, str]) -> zipfile.ZipFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("poa/p1.json", grant)
        zf.writestr("poa/p1.acceptance.json", json.dumps(acceptance))
    return zipfile.ZipFile(io.BytesIO(buf.getvalue()))


def test_an_acceptance_of_other_bytes_or_by_another_certificate_is_a_problem(
    rsa_token: Provisioned, ec_token: Provisioned
) -> None:
    attorney = hashlib.sha256(ec_token.certificate_der).hexdigest()
    grant = json.dumps({"attorney_certificates_sha256": [attorney]}).encode()
    good = {
        "poa_document_sha256": hashlib.sha256(grant).hexdigest(),
        "certificate_sha256": attorney,
    }
    signer = asn1_x509.Certificate.load(ec_token.certificate_der)
    other = asn1_x509.Certificate.load(rsa_token.certificate_der)
    name = "poa/p1.acceptance.p7s"

    assert acceptance_problems(_bundle(grant, good), name, signer) == []
    assert acceptance_problems(_bundle(grant, good), "poa/p1.p7s", other) == []  # the grant
    [wrong_bytes] = acceptance_problems(
        _bundle(grant, {**good, "poa_document_sha256": "0" * 64}), name, signer
    )
    assert "accepts another document than poa/p1.json" in wrong_bytes
    [wrong_signer] = acceptance_problems(_bundle(grant, good), name, other)
    assert "a certificate poa/p1.json does not name" in wrong_signer
    [unreadable] = acceptance_problems(_bundle(b"not json", good), name, signer)
    assert "cannot be tied to its power of attorney" in unreadable
