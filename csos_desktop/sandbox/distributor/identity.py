"""Who the sandbox distributor is: name, address and DEA number, and the check that an
order is addressed to it (21 CFR 1305.21(b): the order names its supplier).

An order names one supplier; only that supplier may fill it. The DEA number must be
ours; the name must be ours or one we also trade under (``other_names``), compared
without case, punctuation or extra spaces. Kept in ``DIR/distributor/identity.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from csos_desktop.domain.dea import parse_dea_number
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import Order

IDENTITY_FILE = "identity.json"


@dataclass(frozen=True)
class DistributorIdentity:
    name: str
    street: str
    city: str
    state: str
    postal_code: str
    dea_number: str
    other_names: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "address": {
                "street": self.street,
                "city": self.city,
                "state": self.state,
                "postal_code": self.postal_code,
            },
            "dea_number": self.dea_number,
            "other_names": list(self.other_names),
        }

    @classmethod
    def from_json(cls, data: object) -> DistributorIdentity:
        try:
            assert isinstance(data, dict)
            address = data["address"]
            identity = cls(
                name=str(data["name"]),
                street=str(address["street"]),
                city=str(address["city"]),
                state=str(address["state"]),
                postal_code=str(address["postal_code"]),
                dea_number=parse_dea_number(str(data["dea_number"])).value,
                other_names=tuple(str(n) for n in data.get("other_names", [])),
            )
        except (AssertionError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(
                "the distributor identity needs name, address (street, city, state, "
                "postal_code) and dea_number"
            ) from exc
        return identity

    def answers_to(self, name: str) -> bool:
        wanted = _normal(name)
        return any(_normal(n) == wanted for n in (self.name, *self.other_names))


#: The sandbox's default identity. The sample order (resources/samples/order.json) names
#: the supplier as "Keystone Wholesale Drug Co.": the sandbox trades under that name too.
SANDBOX_IDENTITY = DistributorIdentity(
    name="Sandbox Wholesale Drug Co. (TEST)",
    street="4500 Industrial Parkway",
    city="Columbus",
    state="OH",
    postal_code="43219",
    dea_number="RK0452716",
    other_names=("Keystone Wholesale Drug Co.",),
)


def _normal(name: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", name.casefold()).split())


def load_identity(directory: Path) -> DistributorIdentity:
    """The identity in *directory*, written there with the sandbox default if missing."""
    path = directory / IDENTITY_FILE
    if not path.exists():
        path.write_text(json.dumps(SANDBOX_IDENTITY.to_json(), indent=2) + "\n")
        return SANDBOX_IDENTITY
    try:
        return DistributorIdentity.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the distributor identity {path} ({exc})") from exc


def supplier_problems(order: Order, me: DistributorIdentity) -> list[str]:
    """Why *order* is not addressed to this distributor (empty: it is)."""
    problems = []
    if order.supplier.dea_number.value != me.dea_number:
        problems.append(
            f"the order's supplier DEA number is {order.supplier.dea_number.value}, not this "
            f"distributor's {me.dea_number}"
        )
    if not me.answers_to(order.supplier.name):
        problems.append(f"the order's supplier is {order.supplier.name!r}, not {me.name!r}")
    if problems:
        problems.append("only the supplier named on an order may fill it: send it to that one")
    return problems
