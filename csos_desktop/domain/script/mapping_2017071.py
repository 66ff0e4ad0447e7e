"""Where each 21 CFR 1306.05 element goes in an NCPDP SCRIPT 2017071 NewRx: one table.

The left column is the path in the ``csos-rx/1`` document (and in the chosen pharmacy),
the right one the element path under ``Message``. ``newrx.py`` writes and reads a
message with any such table; SCRIPT 2023011 is a second module with the same names.
Sources and the entries we are unsure of are listed in docs/epcs.md ("NewRx mapping").
"""

from __future__ import annotations

from csos_desktop.domain.schedule import Schedule
from csos_desktop.domain.script.table import Codec, Field, MappingTable

_RX = "Body/NewRx"
_MED = f"{_RX}/MedicationPrescribed"
_PATIENT = f"{_RX}/Patient/HumanPatient"
_PRESCRIBER = f"{_RX}/Prescriber/NonVeterinarian"
_PHARMACY = f"{_RX}/Pharmacy"


def _address(doc: tuple[str, ...], xml: str) -> tuple[Field, ...]:
    return (
        Field((*doc, "street"), f"{xml}/AddressLine1"),
        Field((*doc, "city"), f"{xml}/City"),
        Field((*doc, "state"), f"{xml}/StateProvince"),
        Field((*doc, "postal_code"), f"{xml}/PostalCode"),
    )


TABLE = MappingTable(
    version="2017071",
    message_attributes=(
        ("DatatypesVersion", "20170715"),
        ("TransportVersion", "20170715"),
        ("TransactionDomain", "SCRIPT"),
        ("TransactionVersion", "20170715"),
        ("StructuresVersion", "20170715"),
        ("ECLVersion", "20170715"),
    ),
    to="Header/To",
    to_qualifier="P",
    message_id="Header/MessageID",
    signature="Header/DigitalSignature",
    signature_after="Header/SentTime",
    signature_version="1.0",
    digest_method="SHA256",
    prescription=(
        Field(("rx_id",), "Header/PrescriberOrderNumber"),
        Field(("created_at",), "Header/SentTime"),
        Field(("patient", "name"), f"{_PATIENT}/Name", Codec.NAME),
        *_address(("patient", "address"), f"{_PATIENT}/Address"),
        Field(("practitioner", "dea_number"), f"{_PRESCRIBER}/Identification/DEANumber"),
        Field(("practitioner", "name"), f"{_PRESCRIBER}/Name", Codec.NAME),
        *_address(("practitioner", "address"), f"{_PRESCRIBER}/Address"),
        Field(("drug", "name"), f"{_MED}/DrugDescription"),
        Field(("drug", "ndc"), f"{_MED}/DrugCoded/ProductCode/Code", optional=True),
        Field(("drug", "strength"), f"{_MED}/DrugCoded/Strength/StrengthValue"),
        Field(("drug", "dosage_form"), f"{_MED}/DrugCoded/Strength/StrengthForm/Code"),
        Field(("drug", "schedule"), f"{_MED}/DrugCoded/DEASchedule/Code", Codec.SCHEDULE),
        Field(("quantity",), f"{_MED}/Quantity/Value", Codec.INTEGER),
        Field(("date_of_issue",), f"{_MED}/WrittenDate/Date"),
        Field(("refills",), f"{_MED}/NumberOfRefills", Codec.INTEGER),
        Field(("directions",), f"{_MED}/Sig/SigText"),
        Field(("do_not_fill_before",), f"{_MED}/EffectiveDate/Date", optional=True),
    ),
    pharmacy=(
        Field(("ncpdp_id",), f"{_PHARMACY}/Identification/NCPDPID"),
        Field(("npi",), f"{_PHARMACY}/Identification/NPI"),
        Field(("name",), f"{_PHARMACY}/BusinessName"),
        *_address(("address",), f"{_PHARMACY}/Address"),
    ),
    # Written next to the field they qualify; a reader checks none of them.
    qualifiers=(
        (f"{_MED}/DrugCoded/ProductCode/Qualifier", "ND", ("drug", "ndc")),
        (f"{_MED}/Quantity/CodeListQualifier", "38", ("quantity",)),
    ),
    # FDA SPL "DEA schedule" codes from the NCI thesaurus, as SCRIPT 2017071 uses them.
    schedule_codes=(
        (Schedule.I, "C48672"),
        (Schedule.II, "C48675"),
        (Schedule.III, "C48676"),
        (Schedule.IV, "C48677"),
        (Schedule.V, "C48679"),
    ),
    # The code list has no narcotic / non-narcotic split; the class rides in a note.
    non_narcotic_note=f"{_MED}/Note",
)
