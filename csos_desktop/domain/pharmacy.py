"""The patient's pharmacy as the practitioner chooses it for one prescription."""

from __future__ import annotations

import re
from dataclasses import dataclass

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import Address

_NCPDP_ID = re.compile(r"[0-9]{7}")
_NPI = re.compile(r"[0-9]{10}")


class PharmacyInvalid(InputError):
    """A pharmacy entry that cannot receive a prescription."""


@dataclass(frozen=True)
class Pharmacy:
    """A dispensing pharmacy: NCPDP provider ID (7 digits), NPI (10 digits), name, address."""

    ncpdp_id: str
    npi: str
    name: str
    address: Address

    def __post_init__(self) -> None:
        if not _NCPDP_ID.fullmatch(self.ncpdp_id):
            raise PharmacyInvalid(
                f"NCPDP provider ID {self.ncpdp_id!r} must be 7 digits; check the directory."
            )
        if not _NPI.fullmatch(self.npi):
            raise PharmacyInvalid(f"NPI {self.npi!r} must be 10 digits; check the directory.")
        if not self.name.strip():
            raise PharmacyInvalid("The pharmacy has no name; check the directory.")

    def to_document(self) -> dict[str, object]:
        return {
            "ncpdp_id": self.ncpdp_id,
            "npi": self.npi,
            "name": self.name,
            "address": self.address.to_document(),
        }
