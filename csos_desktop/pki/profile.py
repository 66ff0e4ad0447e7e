"""The DEA CSOS subscriber-certificate profile: every OID and encoding in one table.

Sources (the DEA's *CSOS Certificate and CRL Profile* itself is not public):

- OIDs: the DEA extensions under ``2.16.840.1.101.3.5`` (csor(3).dea(5)), named
  "the DEA final OIDs" in the VA VistA Kernel digital-signature code:
  ``.1`` extension version, ``.2`` registrant name, ``.3`` DEA registration
  number, ``.4`` authorised schedules, ``.5`` business activity, ``.6`` postal
  address.
- DEA number: 70 FR 16902 (the 2005 CSOS final rule) says the certificate holds
  "a hash value generated from the DEA number and the specific certificate
  subject distinguished name serial number using SHA-1". Our reading: an OCTET
  STRING of the 20 bytes of SHA-1(ASCII DEA number ‖ ASCII value of the subject's
  serialNumber attribute, OID 2.5.4.5). The same digest as 40 hex digits in any
  string type is accepted too. The number is therefore *checked*, never read.
- Schedules: a BIT STRING, bit 0 = schedule 1 (I), then 2, 2N, 3, 3N, 4, 5
  (70 FR 16902; REGULATIONS.md "Certificate profile"); a ``$``-separated string
  of schedule names is accepted too.
- Postal address: items separated by ``$`` (the X.520 PostalAddress convention).

The sandbox CA issues from this table and every verifier reads from it, so a
correction is one edit here (see docs/decisions.md, "The DEA CSOS profile").
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import core, x509

from csos_desktop.domain.schedule import Schedule

DEA_EXTENSION_ARC = "2.16.840.1.101.3.5"
#: Extension version (INTEGER).
DEA_VERSION_OID = DEA_EXTENSION_ARC + ".1"
#: Registrant name (a string).
DEA_REGISTRANT_NAME_OID = DEA_EXTENSION_ARC + ".2"
#: SHA-1 of the DEA number and the subject serialNumber (OCTET STRING, or 40 hex digits).
DEA_NUMBER_HASH_OID = DEA_EXTENSION_ARC + ".3"
#: Authorised schedules (BIT STRING, or a `$`-separated string).
DEA_SCHEDULES_OID = DEA_EXTENSION_ARC + ".4"
#: Business activity (a string, e.g. "Retail Pharmacy").
DEA_BUSINESS_ACTIVITY_OID = DEA_EXTENSION_ARC + ".5"
#: Postal address (a string, items separated by `$`).
DEA_POSTAL_ADDRESS_OID = DEA_EXTENSION_ARC + ".6"
#: The version our sandbox CA writes.
DEA_EXTENSION_VERSION = 1

#: Bit n of the schedules BIT STRING (named-bit numbering: bit 0 is the first, most
#: significant bit of the first byte).
SCHEDULE_BITS: tuple[Schedule, ...] = (
    Schedule.I,
    Schedule.II,
    Schedule.II_NON_NARCOTIC,
    Schedule.III,
    Schedule.III_NON_NARCOTIC,
    Schedule.IV,
    Schedule.V,
)

_STRING_TYPES = (
    core.UTF8String,
    core.PrintableString,
    core.IA5String,
    core.VisibleString,
    core.TeletexString,
    core.BMPString,
    core.UniversalString,
)


class NotACsosCertificate(ValueError):
    """The certificate lacks the DEA extensions, they are malformed, or it cannot sign."""


@dataclass(frozen=True)
class CsosCertificateInfo:
    """What a CSOS certificate says about its holder (the DEA number only as a hash)."""

    subject: str
    subject_serial: str | None
    dea_hash: bytes | None
    schedules: frozenset[Schedule]
    not_before: datetime
    not_after: datetime
    serial_number: int
    issuer: str
    registrant_name: str | None = None
    business_activity: str | None = None
    postal_address: tuple[str, ...] = ()
    version: int | None = None

    @property
    def has_dea_extensions(self) -> bool:
        """False for an EPCS certificate from a provider that does not add the DEA extensions."""
        return self.dea_hash is not None

    def matches_dea(self, dea_number: str) -> bool:
        """True when *dea_number* is the one whose hash this certificate carries."""
        if self.dea_hash is None or self.subject_serial is None:
            return False
        return hmac.compare_digest(dea_number_hash(dea_number, self.subject_serial), self.dea_hash)


def dea_number_hash(dea_number: str, subject_serial: str) -> bytes:
    """SHA-1(ASCII DEA number ‖ ASCII subject serialNumber): the .3 extension's 20 bytes."""
    try:
        data = dea_number.strip().upper().encode("ascii") + subject_serial.encode("ascii")
    except UnicodeEncodeError:
        return b""  # not a DEA number or serialNumber the DEA could have hashed
    return hashlib.sha1(data, usedforsecurity=False).digest()


# -- encoding (the sandbox CA) -------------------------------------------------------
def encode_schedules(schedules: frozenset[Schedule] | set[Schedule]) -> bytes:
    """DER BIT STRING: bit n set for SCHEDULE_BITS[n]; trailing zero bits dropped (DER)."""
    bits = [1 if s in schedules else 0 for s in SCHEDULE_BITS]
    while bits and not bits[-1]:
        bits.pop()
    return bytes(core.BitString(tuple(bits)).dump())


def encode_dea_hash(dea_number: str, subject_serial: str) -> bytes:
    return bytes(core.OctetString(dea_number_hash(dea_number, subject_serial)).dump())


def encode_text(value: str) -> bytes:
    return bytes(core.UTF8String(value).dump())


def encode_version(version: int = DEA_EXTENSION_VERSION) -> bytes:
    return bytes(core.Integer(version).dump())


def encode_address(lines: tuple[str, ...] | list[str]) -> bytes:
    return encode_text("$".join(line.replace("$", " ") for line in lines))


# -- decoding --------------------------------------------------------------------------
def _value(der: bytes, what: str) -> core.Asn1Value:
    try:
        value = core.load(der, strict=True)
        value.native  # noqa: B018 - forces the parse so errors surface here
    except (ValueError, TypeError) as exc:
        raise NotACsosCertificate(f"the DEA {what} extension is not valid DER ({exc})") from exc
    return value


def _text(value: core.Asn1Value) -> str | None:
    """The text of a string value, also when a tool wrapped it in an OCTET STRING."""
    if isinstance(value, _STRING_TYPES):
        return str(value.native)
    if isinstance(value, core.OctetString):
        raw = bytes(value.native)
        try:
            inner = core.load(raw, strict=True)
            if isinstance(inner, _STRING_TYPES):
                return str(inner.native)
        except (ValueError, TypeError):
            pass
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            return None
    return None


def decode_dea_hash(der: bytes) -> bytes:
    """The 20-byte digest from the .3 extension value; raises NotACsosCertificate."""
    value = _value(der, "registration number")
    if isinstance(value, core.OctetString) and len(value.native) == 20:
        return bytes(value.native)
    text = _text(value)
    if text is not None:
        hexdigits = text.strip().replace(" ", "").replace(":", "")
        if len(hexdigits) == 40:
            try:
                return bytes.fromhex(hexdigits)
            except ValueError:
                pass
    raise NotACsosCertificate(
        "the DEA registration number extension does not hold a SHA-1 hash "
        "(expected 20 bytes or 40 hex digits)"
    )


def decode_schedules(der: bytes) -> frozenset[Schedule]:
    """Schedules from a BIT STRING or a `$`-separated string; raises NotACsosCertificate."""
    value = _value(der, "schedules")
    if isinstance(value, core.BitString):
        bits = value.native
        if any(bits[len(SCHEDULE_BITS) :]):
            raise NotACsosCertificate(
                "the DEA schedules extension sets bits beyond schedule 5; "
                "this application does not know what they mean"
            )
        return frozenset(s for s, bit in zip(SCHEDULE_BITS, bits, strict=False) if bit)
    text = _text(value)
    if text is None:
        raise NotACsosCertificate(
            "the DEA schedules extension is neither a bit string nor a list of schedules"
        )
    try:
        return frozenset(Schedule.parse(p) for p in text.replace(",", "$").split("$") if p.strip())
    except ValueError as exc:
        raise NotACsosCertificate(f"the DEA schedules extension is malformed ({exc})") from exc


def _decode_text(der: bytes, what: str) -> str:
    text = _text(_value(der, what))
    if text is None:
        raise NotACsosCertificate(f"the DEA {what} extension is not a string")
    return text


def _decode_version(der: bytes) -> int:
    value = _value(der, "version")
    if not isinstance(value, core.Integer):
        raise NotACsosCertificate("the DEA extension version is not an INTEGER")
    return int(value.native)


def display_name(name: x509.Name) -> str:
    """The common name when there is one (what a pharmacist recognises), else the whole name."""
    cn = name.native.get("common_name")
    if isinstance(cn, list):
        cn = cn[-1]
    return str(cn) if cn else str(name.human_friendly)


def subject_serial_number(cert: x509.Certificate) -> str | None:
    """The subject's serialNumber attribute (2.5.4.5), the last one if several."""
    value = cert.subject.native.get("serial_number")
    if isinstance(value, list):
        value = value[-1]
    return None if value is None else str(value)


def dea_extensions(cert: x509.Certificate) -> dict[str, bytes]:
    """The DEA extensions' values (DER) by OID."""
    return {
        ext["extn_id"].dotted: bytes(ext["extn_value"].contents)
        for ext in cert["tbs_certificate"]["extensions"]
        if ext["extn_id"].dotted.startswith(DEA_EXTENSION_ARC + ".")
    }


def has_dea_extensions(cert: x509.Certificate) -> bool:
    """True when the certificate carries any DEA extension (EPCS certificates need not)."""
    return bool(dea_extensions(cert))


def check_signing_certificate(cert: x509.Certificate) -> None:
    """A signing certificate is an end-entity one with digitalSignature key usage."""
    if cert.ca:
        raise NotACsosCertificate(
            "this is a CA certificate; only your own (subscriber) certificate can sign"
        )
    usage = cert.key_usage_value
    if usage is None or "digital_signature" not in usage.native:
        raise NotACsosCertificate(
            "the certificate's key usage does not allow digital signatures; "
            "ask the CA for a signing certificate"
        )


def read_epcs_certificate(cert: x509.Certificate) -> CsosCertificateInfo:
    """A prescription signer: the DEA extensions are read (strictly) only when present.

    EPCS credentials come from credential service providers (21 CFR 1311.105), whose
    certificates need not carry them; the practitioner's DEA number is then bound by
    the access-control record that granted signing rights (1311.125).
    """
    if has_dea_extensions(cert):
        return read_csos_profile(cert)
    check_signing_certificate(cert)
    validity = cert["tbs_certificate"]["validity"]
    return CsosCertificateInfo(
        subject=display_name(cert.subject),
        subject_serial=subject_serial_number(cert),
        dea_hash=None,
        schedules=frozenset(),
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
        serial_number=cert.serial_number,
        issuer=cert.issuer.human_friendly,
    )


def read_csos_profile(cert: x509.Certificate) -> CsosCertificateInfo:
    """Read the DEA CSOS profile of a subscriber certificate; raises NotACsosCertificate."""
    check_signing_certificate(cert)
    exts = dea_extensions(cert)
    missing = [
        what
        for oid, what in (
            (DEA_NUMBER_HASH_OID, "DEA registration number"),
            (DEA_SCHEDULES_OID, "authorised schedules"),
        )
        if oid not in exts
    ]
    if missing:
        raise NotACsosCertificate(
            "this is not a DEA CSOS certificate (no "
            + " or ".join(missing)
            + " extension); use the certificate the DEA CSOS CA issued to you"
        )
    serial = subject_serial_number(cert)
    if not serial:
        raise NotACsosCertificate(
            "the certificate's subject has no serialNumber, so its DEA number hash cannot be "
            "checked; this is not a DEA CSOS certificate"
        )
    name = exts.get(DEA_REGISTRANT_NAME_OID)
    activity = exts.get(DEA_BUSINESS_ACTIVITY_OID)
    address = exts.get(DEA_POSTAL_ADDRESS_OID)
    version = exts.get(DEA_VERSION_OID)
    validity = cert["tbs_certificate"]["validity"]
    return CsosCertificateInfo(
        subject=display_name(cert.subject),
        subject_serial=serial,
        dea_hash=decode_dea_hash(exts[DEA_NUMBER_HASH_OID]),
        schedules=decode_schedules(exts[DEA_SCHEDULES_OID]),
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
        serial_number=cert.serial_number,
        issuer=cert.issuer.human_friendly,
        registrant_name=None if name is None else _decode_text(name, "registrant name"),
        business_activity=None if activity is None else _decode_text(activity, "business activity"),
        postal_address=()
        if address is None
        else tuple(p.strip() for p in _decode_text(address, "postal address").split("$")),
        version=None if version is None else _decode_version(version),
    )


def dea_number_matches(cert: x509.Certificate | CsosCertificateInfo, dea_number: str) -> bool:
    """True when *cert* is a CSOS certificate carrying the hash of *dea_number*."""
    info = cert if isinstance(cert, CsosCertificateInfo) else read_csos_profile(cert)
    return info.matches_dea(dea_number)
