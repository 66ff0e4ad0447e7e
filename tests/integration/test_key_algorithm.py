"""The signer reads its key's algorithm from the key (modulus size, curve), not its type."""

from __future__ import annotations

from csos_desktop.token.keys import KeyAlgorithm, find_private_key, key_algorithm
from csos_desktop.token.signer import TokenSigner
from tests.conftest import Provisioned


def test_the_algorithm_is_read_from_the_keys_size_and_curve(
    rsa_token: Provisioned, ec_token: Provisioned
) -> None:
    for prov, expected in ((rsa_token, KeyAlgorithm.RSA2048), (ec_token, KeyAlgorithm.P256)):
        with prov.session() as ts:
            assert key_algorithm(find_private_key(ts, prov.key.key_id)) is expected
            assert TokenSigner(ts, prov.key.key_id).algorithm is expected
