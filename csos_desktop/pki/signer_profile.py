"""What the CSOS profile asks of a signing certificate beyond its chain (pure, no I/O).

A CSOS signing certificate is for signatures a signer cannot later deny: its
key usage must include digitalSignature and nonRepudiation (contentCommitment)
(21 CFR 1311.55/1311.120 name the profile; the DEA *CSOS Certificate and CRL
Profile* gives the bits). When the profile names certificate policy OIDs, the
certificate must assert at least one of them: a certificate issued under
another CA's policy is not a CSOS certificate even if it chains to a trusted
root.
"""

from __future__ import annotations

from asn1crypto import x509 as asn1_x509

#: Key usage bits (asn1crypto names) a CSOS signing certificate must carry.
REQUIRED_KEY_USAGE = frozenset({"digital_signature", "non_repudiation"})
#: Certificate policies the profile names (pki/profile.py's table names none for the DEA
#: profile today); empty means "not checked", as the profile does not require one.
REQUIRED_POLICY_OIDS: frozenset[str] = frozenset()


def signer_profile_problems(
    cert: asn1_x509.Certificate, policies: frozenset[str] = REQUIRED_POLICY_OIDS
) -> tuple[str, ...]:
    """Every way *cert* falls short of the signing profile, as sentences (empty: none).

    A malformed extension raises asn1crypto's ValueError: the caller reports it as a
    malformed signature.
    """
    usage = cert.key_usage_value
    stated = cert.certificate_policies_value
    usage_bits = set(usage.native) if usage is not None else set()
    asserted = {p["policy_identifier"].dotted for p in stated} if stated else set()
    problems = []
    missing = REQUIRED_KEY_USAGE - usage_bits
    if usage is None:
        problems.append(
            "the signer's certificate has no key usage; a CSOS signing certificate must allow "
            "digitalSignature and nonRepudiation"
        )
    elif missing:
        names = " and ".join(sorted(_DISPLAY[b] for b in missing))
        problems.append(f"the signer's certificate does not allow {names}")
    if policies and not asserted & policies:
        problems.append(
            "the signer's certificate was not issued under the CSOS certificate policy "
            f"({', '.join(sorted(policies))})"
        )
    return ("; ".join(problems),) if problems else ()


_DISPLAY = {"digital_signature": "digitalSignature", "non_repudiation": "nonRepudiation"}
