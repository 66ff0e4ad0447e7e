"""Key templates that PKCS#11 modules from different vendors accept, and the read-back check.

Modules differ in the attributes they accept when a key is generated or
created. The *rich* template also says what the key must not do (decrypt,
unwrap, derive); some modules (tpm2-pkcs11, several vendor tokens) refuse any
attribute that disagrees with what they would set themselves and answer
CKR_TEMPLATE_INCONSISTENT, CKR_ATTRIBUTE_VALUE_INVALID, CKR_ATTRIBUTE_TYPE_INVALID
or just CKR_GENERAL_ERROR. The *minimal* template keeps only what must hold
for a CSOS key (token object, private, sensitive, not extractable, sign/verify)
and leaves the rest to the token. Whatever template was used, the key's
attributes are read back afterwards rather than trusted (21 CFR 1311.30(d)).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import pkcs11
from pkcs11 import DEFAULT, Attribute
from pkcs11 import exceptions as p11

from csos_desktop.domain.token_errors import TokenError


class KeyTemplate(Enum):
    """Which template a key was made with (recorded for support and shown by doctor)."""

    RICH = "rich"
    MINIMAL = "minimal"


class KeyNotProtected(TokenError):
    """The token made a key it would let leave the token: it was deleted again."""


# python-pkcs11 adds capability attributes (encrypt, wrap, derive, ...) from its
# own defaults; DEFAULT removes them so the minimal template is exactly this.
_NO_CAPABILITY_DEFAULTS: dict[Attribute, Any] = {
    attr: DEFAULT
    for attr in (
        Attribute.ENCRYPT,
        Attribute.DECRYPT,
        Attribute.WRAP,
        Attribute.UNWRAP,
        Attribute.DERIVE,
    )
}

MINIMAL_PRIVATE: Mapping[Attribute, Any] = {
    **_NO_CAPABILITY_DEFAULTS,
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
}
MINIMAL_PUBLIC: Mapping[Attribute, Any] = {
    **_NO_CAPABILITY_DEFAULTS,
    Attribute.TOKEN: True,
    Attribute.VERIFY: True,
}
RICH_PRIVATE: Mapping[Attribute, Any] = {
    **MINIMAL_PRIVATE,
    Attribute.DECRYPT: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}
RICH_PUBLIC: Mapping[Attribute, Any] = {
    **MINIMAL_PUBLIC,
    Attribute.ENCRYPT: False,
    Attribute.WRAP: False,
}

TEMPLATES: Mapping[KeyTemplate, tuple[Mapping[Attribute, Any], Mapping[Attribute, Any]]] = {
    KeyTemplate.RICH: (RICH_PUBLIC, RICH_PRIVATE),
    KeyTemplate.MINIMAL: (MINIMAL_PUBLIC, MINIMAL_PRIVATE),
}

#: What a module answers when it does not like a template (a general error
#: included: tpm2-pkcs11 answers CKR_GENERAL_ERROR to an attribute it disagrees with).
TEMPLATE_REFUSED: tuple[type[p11.PKCS11Error], ...] = (
    p11.TemplateInconsistent,
    p11.AttributeValueInvalid,
    p11.AttributeTypeInvalid,
    p11.GeneralError,
)


def check_protected(key: pkcs11.PrivateKey) -> None:
    """Read back CKA_SENSITIVE / CKA_EXTRACTABLE; raise KeyNotProtected unless they hold.

    A module that cannot tell (the attribute read fails) is treated as not
    protected: the key's protection is what the DEA rule is about.
    """
    try:
        sensitive = bool(key[Attribute.SENSITIVE])
        extractable = bool(key[Attribute.EXTRACTABLE])
    except p11.PKCS11Error as exc:
        raise KeyNotProtected(
            "The token did not say whether the new key is protected (sensitive, not "
            f"extractable): {type(exc).__name__}. The key was deleted; use a CSOS token "
            "from your certificate authority's list."
        ) from exc
    if not sensitive or extractable:
        raise KeyNotProtected(
            "The token made a key that could be copied off it (sensitive="
            f"{sensitive}, extractable={extractable}), which the DEA forbids "
            "(21 CFR 1311.30(d)). The key was deleted; use a CSOS token from your "
            "certificate authority's list."
        )
