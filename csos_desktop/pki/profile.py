"""The CSOS subscriber-certificate profile: every OID and encoding in one table.

Source: DEA Diversion Control Division, *CSOS Certificate and CRL Profile* and
*CSOS Certificate Policy* (the profile a supplier reads under 21 CFR
1305.22(c)(4): the registrant's DEA number and the schedules it may order).
The project has not had the published OIDs confirmed; until then the values
below are provisional project OIDs under the UUID arc 2.25 (ITU-T X.667,
usable without registration) so they can never collide with a real
assignment. The sandbox CA issues from this table and the verifier reads
from it, so a correction is this one edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import core, x509

from csos_desktop.domain.schedule import Schedule

# Provisional: 2.25.<UUID 6b3a0f52-8c1e-4d6a-9a57-3f1e2c0b9d41 as an integer>.
_ARC = "2.25.142546329604913768593811893427399531841"

#: Extension carrying the DEA registration number and authorised schedules.
CSOS_REGISTRANT_EXTENSION_OID = _ARC + ".1"
#: Certificate policy asserted by CSOS subscriber certificates.
CSOS_SUBSCRIBER_POLICY_OID = _ARC + ".2"
#: Extended key usage for signing CSOS orders.
CSOS_ORDER_SIGNING_EKU_OID = _ARC + ".3"


class _Schedules(core.SequenceOf):  # type: ignore[misc]
    _child_spec = core.PrintableString


class CsosRegistrant(core.Sequence):  # type: ignore[misc]
    """CsosRegistrant ::= SEQUENCE { deaNumber, schedules } (both PrintableString-based)."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("dea_number", core.PrintableString),
        ("schedules", _Schedules),
    ]


@dataclass(frozen=True)
class CsosCertificateInfo:
    """What a supplier reads from a CSOS certificate."""

    subject: str
    dea_number: str
    schedules: frozenset[Schedule]
    not_before: datetime
    not_after: datetime
    serial_number: int
    issuer: str


class NotACsosCertificate(ValueError):
    """The certificate lacks the CSOS registrant extension or it is malformed."""


def encode_registrant(dea_number: str, schedules: frozenset[Schedule] | set[Schedule]) -> bytes:
    """DER of the registrant extension value, schedules in canonical order."""
    ordered = sorted(schedules, key=lambda s: s.sort_key)
    return bytes(
        CsosRegistrant({"dea_number": dea_number, "schedules": [s.value for s in ordered]}).dump()
    )


def decode_registrant(der: bytes) -> tuple[str, frozenset[Schedule]]:
    """Parse the registrant extension value; raises NotACsosCertificate."""
    try:
        value = CsosRegistrant.load(der, strict=True)
        dea = str(value["dea_number"].native)
        scheds = frozenset(Schedule.parse(str(s)) for s in value["schedules"].native)
    except (ValueError, TypeError, KeyError) as exc:
        raise NotACsosCertificate(f"the CSOS registrant extension is malformed ({exc})") from exc
    return dea, scheds


def display_name(name: x509.Name) -> str:
    """The common name when there is one (what a pharmacist recognises), else the whole name."""
    cn = name.native.get("common_name")
    if isinstance(cn, list):
        cn = cn[-1]
    return str(cn) if cn else str(name.human_friendly)


def read_certificate(cert: x509.Certificate) -> CsosCertificateInfo:
    """Read the CSOS profile fields of a certificate; raises NotACsosCertificate."""
    for ext in cert["tbs_certificate"]["extensions"]:
        if ext["extn_id"].dotted == CSOS_REGISTRANT_EXTENSION_OID:
            dea, scheds = decode_registrant(ext["extn_value"].contents)
            break
    else:
        raise NotACsosCertificate(
            "this certificate is not a CSOS certificate (no DEA registrant extension)"
        )
    validity = cert["tbs_certificate"]["validity"]
    return CsosCertificateInfo(
        subject=display_name(cert.subject),
        dea_number=dea,
        schedules=scheds,
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
        serial_number=cert.serial_number,
        issuer=cert.issuer.human_friendly,
    )
