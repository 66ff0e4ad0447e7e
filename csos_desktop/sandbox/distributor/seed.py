"""Seeding a customer with two years of order history from the synthetic generator.

The history feeds SOM (the customer's baseline) and the client's SOM cache.
No anomalies are planted: the seed is the customer's normal pattern.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, insert

from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.errors import InputError
from csos_desktop.sandbox.distributor.db import history
from csos_desktop.sandbox.distributor.resources import ServedDocuments
from csos_desktop.sandbox.history import GeneratorConfig, generate_history
from csos_desktop.som.history import day_date


def seed_history(
    engine: Engine, dea_number: str, *, today: date, days: int = 730, seed: int = 7
) -> int:
    """Insert ``days`` of normal history ending yesterday for ``dea_number``; returns rows."""
    doc = ServedDocuments.load().catalogue
    if not doc.get("products"):
        raise InputError("there is no product catalogue to build a history from")
    catalogue = Catalogue.from_document(doc)
    config = GeneratorConfig(
        seed=seed,
        pharmacies=1,
        start=today - timedelta(days=days),
        days=days,
        warmup_days=days,
        anomalies_per_pharmacy=0.0,
    )
    h = generate_history(catalogue, config).history
    made_up = h.purchasers[0] if h.purchasers else ""
    rows = [
        {
            "purchaser_dea": dea_number,
            "order_id": "seed-" + h.order_ids[int(h.order[i])].replace(made_up, dea_number),
            "order_date": day_date(int(h.day[i])),
            "ndc": f"{int(h.ndc[i]):011d}",
            "drug_code": int(h.drug_code[i]),
            "dosage_units": int(h.units[i]),
            "variant": h.variants[int(h.variant[i])],
        }
        for i in range(len(h))
    ]
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(history), rows)
    return len(rows)
