"""What every signed-document reader shares: objects with known keys, text, addresses, parties.

Orders (``csos-order/1``) and prescriptions (``csos-rx/1``) are read by
subclasses of :class:`DocumentReader`, so an address or a DEA number is
checked the same way in both.
"""

from __future__ import annotations

from collections.abc import Mapping

from csos_desktop.domain.order import Address, Party
from csos_desktop.domain.order_rules import (
    MISSING,
    Problems,
    check_dea,
    check_postal_code,
    check_state,
    check_text,
    wrong_type,
)

PARTY_KEYS = frozenset({"name", "address", "dea_number"})
ADDRESS_KEYS = frozenset({"street", "city", "state", "postal_code"})


def get(m: Mapping[str, object], key: str) -> object:
    """The value at *key*, or MISSING (whose problem is reported once, by ``members``)."""
    return m.get(key, MISSING)


def path(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


class DocumentReader:
    """Reads one document; ``lenient`` is the input form (values normalised as users type them)."""

    def __init__(self, schema: str, lenient: bool, problems: Problems | None = None) -> None:
        self.schema = schema
        self.p = problems or Problems()
        self.lenient = lenient

    def members(
        self,
        field: str,
        value: object,
        required: frozenset[str],
        optional: frozenset[str] = frozenset(),
    ) -> Mapping[str, object] | None:
        """The object at ``field`` if it is one; reports missing and unknown keys."""
        if not isinstance(value, Mapping):
            wrong_type(self.p, field or "document", value, "an object ({...})")
            return None
        for key in sorted(required - value.keys()):
            self.p.add(path(field, key), "missing", "is required")
        for key in sorted((k for k in value if k not in required | optional), key=str):
            shown = key if isinstance(key, str) else repr(key)
            self.p.add(
                path(field, shown),
                "unknown-key",
                f"is not part of a {self.schema} document; remove it",
            )
        return value

    def text(self, field: str, value: object) -> str | None:
        if self.lenient and isinstance(value, str):
            value = value.strip()
        return check_text(self.p, field, value)

    def upper(self, value: object) -> object:
        return value.strip().upper() if self.lenient and isinstance(value, str) else value

    def address(self, field: str, value: object) -> Address | None:
        m = self.members(field, value, ADDRESS_KEYS)
        if m is None:
            return None
        street = self.text(f"{field}.street", get(m, "street"))
        city = self.text(f"{field}.city", get(m, "city"))
        state = check_state(self.p, f"{field}.state", self.upper(get(m, "state")))
        zip_code = get(m, "postal_code")
        if self.lenient and isinstance(zip_code, str):
            zip_code = zip_code.strip()
        postal_code = check_postal_code(self.p, f"{field}.postal_code", zip_code)
        if street is None or city is None or state is None or postal_code is None:
            return None
        return Address(street, city, state, postal_code)

    def party(self, field: str, value: object) -> Party | None:
        m = self.members(field, value, PARTY_KEYS)
        if m is None:
            return None
        name = self.text(f"{field}.name", get(m, "name"))
        address = self.address(f"{field}.address", get(m, "address"))
        dea = check_dea(self.p, f"{field}.dea_number", get(m, "dea_number"), lenient=self.lenient)
        if name is None or address is None or dea is None:
            return None
        return Party(name, address, dea)
