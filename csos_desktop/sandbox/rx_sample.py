"""The sample schedule II prescription the demo signs and the tests start from."""

from __future__ import annotations

from typing import Any

#: The practitioner's DEA number in the sample (valid check digit; the demo's too).
PRACTITIONER_DEA = "AB1234563"


def sample_rx_input(
    date_of_issue: str, dea_number: str = PRACTITIONER_DEA, *, ndc: str | None = None
) -> dict[str, Any]:
    """A valid schedule II prescription as a prescriber's system would send it."""
    drug: dict[str, Any] = {
        "name": "Oxycodone Hydrochloride",
        "strength": "5 mg",
        "dosage_form": "tablet",
        "schedule": "2",
    }
    if ndc is not None:
        drug["ndc"] = ndc
    return {
        "schema": "csos-rx/1",
        "date_of_issue": date_of_issue,
        "patient": {
            "name": "Maria Lopez",
            "address": {
                "street": "48 Elm Street",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62704",
            },
        },
        "drug": drug,
        "quantity": 20,
        "directions": "1 tablet by mouth every 6 hours as needed for pain; max 4 per day",
        "refills": 0,
        "practitioner": {
            "name": "Dr. Jane Smith",
            "address": {
                "street": "200 Medical Plaza",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62702",
            },
            "dea_number": dea_number,
        },
    }
