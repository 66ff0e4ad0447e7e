"""The token layer on a real SoftHSM2 token."""

from __future__ import annotations

import os
import subprocess

import pkcs11
import pytest
from pkcs11 import Attribute, ObjectClass

from csos_desktop.domain.token_errors import (
    KeyNotFound,
    LoginExpired,
    NoToken,
    TokenRemoved,
    WrongPin,
)
from csos_desktop.sandbox.softhsm import token_by_label
from csos_desktop.token.keys import KeyAlgorithm, find_private_key
from csos_desktop.token.library import load_library
from csos_desktop.token.session import MAX_IDLE_SECONDS, TokenSession
from csos_desktop.token.signer import TokenSigner
from csos_desktop.token.slots import PinState, find_token, list_tokens
from csos_desktop.token.templates import KeyTemplate
from tests.conftest import TEST_PIN, Provisioned


def test_list_tokens_reports_identity_and_pin_state(rsa_token: Provisioned) -> None:
    infos = {t.label: t for t in list_tokens(load_library(rsa_token.hsm.module))}
    info = infos["csos-rsa"]
    assert info.manufacturer == "SoftHSM project"
    assert info.model == "SoftHSM v2"
    assert info.serial
    assert info.login_required
    assert not info.protected_auth_path
    assert info.pin_state in (PinState.OK, PinState.COUNT_LOW)


def test_unknown_label_says_which_tokens_are_present(rsa_token: Provisioned) -> None:
    with pytest.raises(NoToken, match="csos-rsa"):
        find_token(load_library(rsa_token.hsm.module), "no-such-token")


class _CountingToken:
    """The real token, counting C_Login attempts (the Cython class cannot be patched)."""

    def __init__(self, token: pkcs11.Token) -> None:
        self._token = token
        self.attempts = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._token, name)

    def open(self, **kwargs: object) -> pkcs11.Session:
        self.attempts += 1
        return self._token.open(**kwargs)


def test_wrong_pin_raises_wrong_pin_and_is_never_retried(ec_token: Provisioned) -> None:
    token = _CountingToken(token_by_label(ec_token.hsm.module, ec_token.label))
    ts = TokenSession(token)  # type: ignore[arg-type]
    with pytest.raises(WrongPin) as err:
        ts.login("000000")
    assert token.attempts == 1
    assert not ts.logged_in
    assert "000000" not in str(err.value)
    # SoftHSM2 raises its count-low flag after a failure; the hint must follow the token.
    assert err.value.retries_hint.value in ("count-low", "ok")


def test_session_is_closed_after_ten_idle_minutes(rsa_token: Provisioned) -> None:
    now = [1000.0]
    ts = TokenSession(token_by_label(rsa_token.hsm.module, rsa_token.label), clock=lambda: now[0])
    ts.login(TEST_PIN)
    with ts:
        now[0] += MAX_IDLE_SECONDS - 1
        assert ts.session is not None  # use resets the idle clock
        now[0] += MAX_IDLE_SECONDS
        with pytest.raises(LoginExpired, match="PIN again"):
            _ = ts.session
        assert not ts.logged_in


def test_idle_limit_can_be_lowered_but_never_raised(rsa_token: Provisioned) -> None:
    token = token_by_label(rsa_token.hsm.module, rsa_token.label)
    assert TokenSession(token, idle_timeout=3600).idle_timeout == MAX_IDLE_SECONDS
    assert TokenSession(token, idle_timeout=120).idle_timeout == 120


def test_signer_finds_key_again_after_a_new_login(rsa_token: Provisioned) -> None:
    with rsa_token.session() as ts:
        signer = TokenSigner(ts, rsa_token.key.key_id)
        signer.sign_digest(b"\x01" * 32)
        ts.login(TEST_PIN)
        assert len(signer.sign_digest(b"\x02" * 32)) == 256


def test_unknown_key_id_is_key_not_found(rsa_token: Provisioned) -> None:
    with rsa_token.session() as ts, pytest.raises(KeyNotFound):
        find_private_key(ts, b"\xff" * 20)


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_private_key_value_cannot_be_read(
    any_tokens: dict[KeyAlgorithm, Provisioned], algorithm: KeyAlgorithm
) -> None:
    prov = any_tokens[algorithm]
    with prov.session() as ts:
        key = find_private_key(ts, prov.key.key_id)
        assert key[Attribute.SENSITIVE] is True
        assert key[Attribute.EXTRACTABLE] is False
        assert key[Attribute.NEVER_EXTRACTABLE] is True
        # SoftHSM2 answers "sensitive"; tpm2-pkcs11 has no such attribute at all.
        unreadable = (pkcs11.exceptions.AttributeSensitive, pkcs11.exceptions.AttributeTypeInvalid)
        with pytest.raises(unreadable):
            key[Attribute.VALUE if algorithm is KeyAlgorithm.P256 else Attribute.PRIVATE_EXPONENT]


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_pkcs11_tool_lists_our_keys_as_sensitive_never_extractable(
    any_tokens: dict[KeyAlgorithm, Provisioned], algorithm: KeyAlgorithm
) -> None:
    prov = any_tokens[algorithm]
    # Each backend's own settings (SOFTHSM2_CONF, TPM2_PKCS11_*) are in the environment.
    env = dict(os.environ, CSOS_TEST_PIN=TEST_PIN)
    out = subprocess.run(
        [
            "pkcs11-tool",
            "--module",
            prov.hsm.module,
            "--token-label",
            prov.label,
            "--login",
            "--pin",
            "env:CSOS_TEST_PIN",
            "-O",
            "--type",
            "privkey",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    block = out.split(f"ID:         {prov.key.key_id.hex()}")[1].split("Object")[0]
    assert "sensitive, always sensitive, never extractable, local" in block
    usage = block.split("Usage:")[1].split("\n")[0].strip()
    if prov.key.template is KeyTemplate.RICH:
        assert usage == "sign"
    else:  # the minimal template leaves other uses to the token (tpm2-pkcs11: decrypt too)
        assert "sign" in usage.split(", ")


def test_certificates_are_public_objects_with_the_key_id(rsa_token: Provisioned) -> None:
    ts = TokenSession(token_by_label(rsa_token.hsm.module, rsa_token.label))
    with ts:
        ts.open_public()
        certs = list(ts.session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}))
        ids = {bytes(c[Attribute.ID]) for c in certs}
    assert rsa_token.key.key_id in ids


def test_session_lost_under_a_signer_is_token_removed(rsa_token: Provisioned) -> None:
    """What a pulled token looks like to PKCS#11: the session handle is gone."""
    with rsa_token.session() as ts:
        signer = TokenSigner(ts, rsa_token.key.key_id)
        ts.session.close()  # the module forgets the session, as on CKR_DEVICE_REMOVED
        with pytest.raises(TokenRemoved, match="nothing was signed after it was removed"):
            signer.sign_digest(b"\x03" * 32)
