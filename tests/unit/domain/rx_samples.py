"""Sample prescription input shared by tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

RX_NOW = datetime(2026, 11, 25, 15, 0, 0, tzinfo=UTC)
PRACTITIONER_DEA = "AB1234563"


def sample_rx_input(date_of_issue: str = "2026-11-25") -> dict[str, Any]:
    """A schedule II prescription, valid, as a prescriber's system would send it."""
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
        "drug": {
            "name": "Oxycodone Hydrochloride",
            "strength": "5 mg",
            "dosage_form": "tablet",
            "schedule": "2",
        },
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
            "dea_number": PRACTITIONER_DEA,
        },
    }
