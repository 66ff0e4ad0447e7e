"""One schedule II prescription and one pharmacy, as the SCRIPT tests use them."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from csos_desktop.domain.ndc import Ndc
from csos_desktop.domain.order import Address
from csos_desktop.domain.pharmacy import Pharmacy
from csos_desktop.domain.prescription import Prescription, parse_prescription_input
from tests.unit.domain.rx_samples import RX_NOW, sample_rx_input


def sample_prescription(now: datetime = RX_NOW) -> Prescription:
    """Schedule II, issued on *now*'s day, not to be filled before 15 days later."""
    rx = parse_prescription_input(
        sample_rx_input(now.date().isoformat()),
        now=now,
        new_id=lambda: "6f1c2a9e-0b1d-4c1e-9a44-2d7f3b5e8c01",
    )
    drug = dataclasses.replace(rx.drug, ndc=Ndc("00406055262"))
    return dataclasses.replace(rx, drug=drug, do_not_fill_before=now.date() + timedelta(days=15))


def sample_pharmacy() -> Pharmacy:
    return Pharmacy(
        "1234567",
        "1234567893",
        "Main Street Pharmacy",
        Address("12 Main Street", "Springfield", "IL", "62701"),
    )
