"""What the pharmacy application checks on a received e-prescription (21 CFR 1311.205/1311.210).

The practitioner's signature, certificate chain and revocation, that the
certificate's DEA number is the practitioner's on the prescription and covers
the drug's schedule, and that every 1306.05 element is present.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.canonical import MalformedDocument, load_document
from csos_desktop.domain.person_name import same_person_name
from csos_desktop.domain.prescription import Prescription, PrescriptionInvalid
from csos_desktop.pki.profile import CsosCertificateInfo
from csos_desktop.pki.signed_check import (
    Collector,
    Reason,
    Verification,
    check_signed,
    never_raises,
)


class DeaBinding(Enum):
    """What ties the practitioner's DEA number to the signature."""

    CERTIFICATE = "certificate"  # the DEA-number hash in the certificate matched
    ACCESS_CONTROL = "access-control"  # no DEA extensions: the 1311.125 grant


@dataclass(frozen=True)
class PrescriptionVerification(Verification):
    """The pharmacy's verdict on one signed prescription."""

    prescription: Prescription | None = None
    dea_binding: DeaBinding | None = None

    @property
    def signer_names_practitioner(self) -> bool | None:
        """Whether the certificate's subject names the prescription's practitioner."""
        if self.signer is None or self.prescription is None:
            return None
        return signer_names(self.signer, self.prescription)

    def document_json(self) -> dict[str, object]:
        rx = self.prescription
        return {
            "dea_number_checked_by": self.dea_binding.value if self.dea_binding else None,
            "signer_subject": self.signer.subject if self.signer else None,
            "practitioner": rx.practitioner.name if rx else None,
            "signer_names_practitioner": self.signer_names_practitioner,
            "rx_id": rx.rx_id if rx else None,
            "patient": rx.patient.name if rx else None,
            "drug": f"{rx.drug.name} {rx.drug.strength}" if rx else None,
            "practitioner_dea_number": rx.practitioner.dea_number.value if rx else None,
        }


def read_prescription(document: bytes, out: Collector) -> Prescription | None:
    try:
        return Prescription.from_document(load_document(document))
    except (MalformedDocument, PrescriptionInvalid) as exc:
        out.add(Reason.MALFORMED_DOCUMENT, str(exc))
        return None


def check_issue_date(rx: Prescription | None, when: datetime | None, out: Collector) -> None:
    """1306.05(a): the date of issue is the day the practitioner signs."""
    if rx is not None and when is not None and abs((rx.date_of_issue - when.date()).days) > 1:
        out.add(
            Reason.MALFORMED_DOCUMENT,
            f"the date of issue {rx.date_of_issue} is not the day it was signed ({when:%Y-%m-%d})",
        )


def signer_names(info: CsosCertificateInfo, rx: Prescription) -> bool:
    """The certificate's subject (or DEA registrant name) is the practitioner named."""
    names = [info.subject, *([info.registrant_name] if info.registrant_name else [])]
    return any(same_person_name(n, rx.practitioner.name) for n in names)


def check_practitioner(info: CsosCertificateInfo, rx: Prescription, out: Collector) -> DeaBinding:
    dea = rx.practitioner.dea_number.value
    if not signer_names(info, rx):
        # 1311.120(b)(12), 1311.140(a)(3): the practitioner named is the one who signs.
        out.warnings.append(
            f"the signing certificate is {info.subject!r}, which does not name the "
            f"practitioner on the prescription ({rx.practitioner.name}): check who signed "
            "(21 CFR 1311.140(a)(3))"
        )
    if not info.has_dea_extensions:
        # 1311.105/1311.125: the CSP certificate carries no DEA data; the number was bound
        # by the prescribing application's access control when signing rights were granted.
        out.warnings.append(
            "the certificate carries no DEA extensions: the practitioner's DEA number "
            f"{dea} rests on the prescribing application's access control (21 CFR 1311.125)"
        )
        return DeaBinding.ACCESS_CONTROL
    if not info.matches_dea(dea):
        out.add(
            Reason.DEA_NUMBER_MISMATCH,
            f"the signing certificate's DEA number hash does not match the prescription's "
            f"practitioner DEA number {dea}",
        )
    if rx.drug.schedule not in info.schedules:
        allowed = ", ".join(sorted(s.value for s in info.schedules)) or "none"
        out.add(
            Reason.SCHEDULE_NOT_AUTHORISED,
            f"the practitioner's certificate does not cover schedule {rx.drug.schedule.value} "
            f"(it allows {allowed})",
        )
    return DeaBinding.CERTIFICATE


@never_raises("prescription", PrescriptionVerification)
def verify_prescription(
    document: bytes,
    signature: bytes,
    *,
    trust_roots: Sequence[asn1_x509.Certificate],
    crls: Sequence[asn1_crl.CertificateList] = (),
    now: datetime,
    ocsps: Sequence[asn1_ocsp.OCSPResponse] = (),
    require_revocation: bool = False,
    intermediates: Sequence[asn1_x509.Certificate] = (),
    retroactive_revinfo: bool = False,
) -> PrescriptionVerification:
    """Check a signed prescription as the pharmacy must; never raises on bad input.

    *intermediates* and *retroactive_revinfo* are the archive's (``check_signed``): the
    bundle's certificates, and a signature checked as of its signing moment."""
    out = Collector()
    rx = read_prescription(document, out)
    signer = check_signed(
        document,
        signature,
        trust_roots=trust_roots,
        crls=crls,
        now=now,
        out=out,
        ocsps=ocsps,
        require_revocation=require_revocation,
        no_crl_warning="revocation was not checked: no CRL was given",
        dea_extensions_required=False,
        intermediates=intermediates,
        retroactive_revinfo=retroactive_revinfo,
    )
    check_issue_date(rx, signer.signing_time, out)
    binding = None
    if signer.info is not None and rx is not None:
        binding = check_practitioner(signer.info, rx, out)
    return PrescriptionVerification.of(out, signer, prescription=rx, dea_binding=binding)
