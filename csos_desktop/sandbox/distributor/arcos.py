"""The 1305.29 report as ARCOS transaction records: 80 fixed-width columns per shipped line.

Layout from DEA's ARCOS Registrant Handbook, Section 5 "Transaction Record", Exhibit 5.1
(automated format; deadiversion.usdoj.gov/arcos/handbook/section5/5.htm):

| field | name                         | length | positions |
|-------|------------------------------|--------|-----------|
| 1     | reporting registrant number  | 9      | 1-9       |
| 2     | transaction code             | 1      | 10        |
| 3     | action indicator             | 1      | 11        |
| 4     | NDC                          | 11     | 12-22     |
| 5     | quantity (packages)          | 8      | 23-30     |
| 6     | unit (blank: packages)       | 1      | 31        |
| 7     | associate registrant number  | 9      | 32-40     |
| 8     | DEA order form number        | 9      | 41-49     |
| 9     | transaction date (MMDDYY)    | 6      | 50-55     |
| 10    | correction number            | 8      | 56-63     |
| 11    | strength                     | 4      | 64-67     |
| 12    | transaction identifier       | 10     | 68-77     |
| 13    | document identifier          | 3      | 78-80     |

A filled order is a sale: transaction code ``S``, the purchaser as associate registrant
and the 9-character CSOS order number in the order form field (mandatory for schedules I
and II, Appendix 1). Quantity is right-justified with leading zeros (5.11.2). The control
record and the submission channel are DEA's to assign and are not produced here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

RECORD_LENGTH = 80
SALE = "S"


@dataclass(frozen=True)
class Transaction:
    supplier_dea: str
    ndc: str  # 11 digits
    packages: int
    purchaser_dea: str
    order_number: str
    ship_date: date
    identifier: int


def transaction_record(t: Transaction) -> str:
    """One 80-column ARCOS transaction record; ValueError when a field does not fit."""
    ndc = t.ndc.replace("-", "")
    if len(ndc) != 11 or not ndc.isdigit():
        raise ValueError(f"NDC {t.ndc!r} is not 11 digits")
    if not 0 <= t.packages < 10**8 or not 0 <= t.identifier < 10**10:
        raise ValueError("quantity or transaction identifier does not fit its field")
    record = (
        f"{t.supplier_dea:<9.9}"
        f"{SALE}"
        " "
        f"{ndc}"
        f"{t.packages:08d}"
        " "
        f"{t.purchaser_dea:<9.9}"
        f"{t.order_number:<9.9}"
        f"{t.ship_date:%m%d%y}"
        f"{'':8}"
        f"{'':4}"
        f"{t.identifier:010d}"
        f"{'':3}"
    )
    assert len(record) == RECORD_LENGTH
    return record
