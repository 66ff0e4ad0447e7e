"""Tying each attorney-in-fact's signed acceptance in a bundle to its power of attorney.

The acceptance's signature and chain are checked like every other signature in the
bundle; here, what makes it the named attorney's affirmation of *this* power of
attorney (21 CFR 1305.05(c)): it gives the SHA-256 of the power of attorney's exact
bytes as bundled, and its signer's certificate is one the power of attorney names.
"""

from __future__ import annotations

import hashlib
import json
import zipfile

from asn1crypto import x509 as asn1_x509

from csos_desktop.services.archive.container import MemberUnreadable, read_member

SUFFIX = ".acceptance.p7s"


def acceptance_problems(
    zf: zipfile.ZipFile, sig_name: str, signer: asn1_x509.Certificate | None
) -> list[str]:
    """What does not tie the acceptance signed by *sig_name* to its bundled grant."""
    if not (sig_name.startswith("poa/") and sig_name.endswith(SUFFIX)):
        return []
    grant_name = sig_name[: -len(SUFFIX)] + ".json"
    try:
        acceptance = json.loads(read_member(zf, sig_name[: -len(".p7s")] + ".json"))
        grant_bytes = read_member(zf, grant_name)
        named = set(json.loads(grant_bytes)["attorney_certificates_sha256"])
        claimed_grant = str(acceptance["poa_document_sha256"])
        claimed_cert = str(acceptance["certificate_sha256"])
    except (MemberUnreadable, ValueError, KeyError, TypeError, RecursionError) as exc:
        return [f"{sig_name}: cannot be tied to its power of attorney ({exc})"]
    problems = []
    if claimed_grant != hashlib.sha256(grant_bytes).hexdigest():
        problems.append(f"{sig_name}: it accepts another document than {grant_name}")
    if signer is not None:
        actual = hashlib.sha256(signer.dump()).hexdigest()
        if actual not in named or actual != claimed_cert:
            problems.append(
                f"{sig_name}: signed with a certificate {grant_name} does not name "
                "(the attorney-in-fact accepts with their own certificate)"
            )
    return problems
