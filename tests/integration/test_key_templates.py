"""Key templates across PKCS#11 implementations: fall back to the minimal one, read back."""

from __future__ import annotations

import pytest
from pkcs11 import Attribute, KeyType, ObjectClass

from csos_desktop.token.keys import KeyAlgorithm, generate_keypair, new_key_id, remove_objects
from csos_desktop.token.templates import KeyNotProtected, KeyTemplate, check_protected
from tests.conftest import Provisioned, Tpm2Tokens


def test_softhsm_takes_the_rich_template(tokens: dict[KeyAlgorithm, Provisioned]) -> None:
    assert {p.key.template for p in tokens.values()} == {KeyTemplate.RICH}


def test_tpm2_refuses_the_rich_template_and_gets_the_minimal_one(tpm2_tokens: Tpm2Tokens) -> None:
    # tpm2-pkcs11 answers CKR_GENERAL_ERROR to "decrypt = false" on a key it makes sign+decrypt.
    assert {p.key.template for p in tpm2_tokens.provisioned.values()} == {KeyTemplate.MINIMAL}


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_a_refused_template_leaves_only_the_new_key_pair(
    any_tokens: dict[KeyAlgorithm, Provisioned], algorithm: KeyAlgorithm
) -> None:
    with any_tokens[algorithm].session() as ts:
        made = generate_keypair(ts, algorithm, "template-test")
        objs = list(ts.session.get_objects({Attribute.ID: made.key_id}))
        assert len(objs) == 2  # a public and a private key, nothing left from a refused try
        (private,) = [o for o in objs if o[Attribute.CLASS] == ObjectClass.PRIVATE_KEY]
        check_protected(private)
        assert remove_objects(ts, made.key_id) == 2


def test_an_extractable_key_fails_the_read_back(rsa_token: Provisioned) -> None:
    with rsa_token.session() as ts:
        key_id = new_key_id()
        _public, private = ts.session.generate_keypair(
            KeyType.RSA,
            2048,
            store=True,
            id=key_id,
            private_template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
        )
        try:
            with pytest.raises(KeyNotProtected, match=r"1311\.30\(d\)"):
                check_protected(private)
        finally:
            remove_objects(ts, key_id)
