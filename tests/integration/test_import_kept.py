"""A token that answers CKR_OK but does not keep the key: `csos cert import-p12` refuses.

SoftHSM2 under a file-size limit (RLIMIT_FSIZE in the importing process only) writes
a truncated private-key file and still reports success; the module signs from
memory. The import's check in a new process must see the loss, remove what was
written and keep the file, even with --delete-file.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from csos_desktop.pki.p12 import read_p12
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.softhsm import SoftHsmToken, create_token, token_by_label
from csos_desktop.services.tokens.key_import import import_to_token
from csos_desktop.store import open_store
from csos_desktop.token.durability_check import Expected, KeptUnchecked, confirm_kept
from csos_desktop.token.keys import KeyAlgorithm, remove_objects
from csos_desktop.token.session import TokenSession
from tests.conftest import TEST_PIN, Provisioned
from tests.integration.test_import_p12 import (
    CSOS,
    P12_PASSWORD,
    _csos_cert,
    _key,
    import_p12,
    objects,
    openssl_p12,
)

#: Smaller than SoftHSM2's private-key object file (about 2.3 kB RSA, 0.7 kB P-256), larger
#: than its token.object (320 bytes), which each login reads.
TOKEN_CUT = {KeyAlgorithm.RSA2048: 2_000, KeyAlgorithm.P256: 500}
#: Every token object fits; the order database (and its 32 KiB WAL index) does not.
STORE_CUT = 20_000


@pytest.fixture(scope="session")
def full_token(tokens: dict[KeyAlgorithm, Provisioned], hsm_dir: Path) -> SoftHsmToken:
    """After `tokens` (a new SoftHSM2 token re-initialises the module)."""
    return create_token(hsm_dir, "p12-full", TEST_PIN)


def _limited(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child only: the test process keeps writing freely
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _import_limited(
    hsm: SoftHsmToken, p12: Path, limit: int, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CSOS, "cert", "import-p12", str(p12), "--token", hsm.label, "--module", hsm.module,
         "--pin-stdin", *extra],
        input=f"{TEST_PIN}\n{P12_PASSWORD}\n", capture_output=True, text=True, timeout=120,
        check=False, preexec_fn=_limited(limit),
    )  # fmt: skip


def _token_dir(hsm: SoftHsmToken) -> Path:
    return next(
        d for d in (hsm.conf.parent / "tokens").iterdir()
        if hsm.label.encode() in (d / "token.object").read_bytes()
    )  # fmt: skip


def _write_under_limit(directory: Path, size: int, limit: int) -> str:
    """What a process under *limit* gets when it writes *size* bytes into *directory*."""
    code = (
        "import sys\n"
        "try:\n"
        "    with open(sys.argv[1], 'wb') as f:\n"
        f"        f.write(b'x' * {size})\n"
        "    print('written')\n"
        "except OSError as exc:\n"
        "    print(exc.errno)\n"
    )
    probe = directory / "limit-probe"
    try:
        return subprocess.run(
            [sys.executable, "-c", code, str(probe)], capture_output=True, text=True,
            check=True, timeout=60, preexec_fn=_limited(limit),
        ).stdout.strip()  # fmt: skip
    finally:
        probe.unlink(missing_ok=True)


@pytest.mark.parametrize("algorithm", list(KeyAlgorithm))
def test_a_token_that_loses_the_key_refuses_the_import_and_keeps_the_file(
    full_token: SoftHsmToken, test_ca: TestCa, tmp_path: Path, algorithm: KeyAlgorithm
) -> None:
    hsm = full_token
    # The limit does cut SoftHSM2's object files (errno 27, EFBIG) in a limited process.
    cut = TOKEN_CUT[algorithm]
    assert _write_under_limit(_token_dir(hsm), 3 * cut, cut) == "27"
    open_store().close()  # the store exists; the refusal writes nothing to it
    key = _key(algorithm)
    p12 = openssl_p12(tmp_path, test_ca, key, _csos_cert(test_ca, key.public_key()))
    before = objects(hsm)
    done = _import_limited(hsm, p12, cut, "--delete-file")
    assert done.returncode != 0, done.stdout
    assert "The token did not keep the key: it may be full or failing" in done.stderr
    assert "private key" in done.stderr.split("it lacks")[1]
    assert "the certificate file was kept" in done.stderr
    assert "Moved" not in done.stdout and "damaged" not in done.stderr
    assert TEST_PIN not in done.stdout + done.stderr
    assert p12.exists()  # --delete-file or not, the file is the only copy left
    assert objects(hsm) == before
    # The limit was the importing process's only: the same file now moves normally.
    again = import_p12(hsm, p12, "--delete-file")
    assert again.returncode == 0, again.stderr
    assert not p12.exists()


def test_a_store_that_cannot_be_written_says_the_limit_was_reached_not_damaged(
    full_token: SoftHsmToken, test_ca: TestCa, tmp_path: Path
) -> None:
    """Token objects fit under the limit, the order database does not: the key is moved
    and checked, and the audit failure names the limit instead of a damaged database."""
    hsm = full_token
    open_store().close()
    key = _key(KeyAlgorithm.P256)
    p12 = openssl_p12(tmp_path, test_ca, key, _csos_cert(test_ca, key.public_key()))
    done = _import_limited(hsm, p12, STORE_CUT)
    assert done.returncode == 0, done.stderr
    assert "A test signature by the token verified" in done.stdout
    assert "file size limit of this program (20000 bytes" in done.stderr
    assert "nothing was recorded" in done.stderr
    assert "damaged" not in done.stderr
    with open_store() as store:  # the database itself is intact, without the entry
        assert store.integrity_errors() == []
        key_id = done.stdout.split(" with id ")[1].split(",")[0]
        imported = [e for e in store.audit.entries() if e.event == "certificate.key-imported"]
        assert all(e.details["key_id"] != key_id for e in imported)
    assert f"ID:         {key_id}" in objects(hsm)


def test_the_new_process_finds_a_kept_key_and_a_refused_login_is_no_proof(
    full_token: SoftHsmToken, test_ca: TestCa, tmp_path: Path
) -> None:
    hsm = full_token
    key = _key(KeyAlgorithm.P256)
    cert = _csos_cert(test_ca, key.public_key())
    contents = read_p12(openssl_p12(tmp_path, test_ca, key, cert).read_bytes(), P12_PASSWORD)
    with TokenSession(token_by_label(hsm.module, hsm.label), rw=True) as ts:
        ts.login(TEST_PIN)
        imported = import_to_token(ts, contents)
        expected = Expected(
            imported.key_id, (contents.certificate_der, *contents.ca_certificates_der)
        )
        confirm_kept(hsm.module, ts.info, expected, TEST_PIN, aftermath="Kept.")
        wrong = "000000"
        with pytest.raises(KeptUnchecked) as unchecked:
            confirm_kept(hsm.module, ts.info, expected, wrong, aftermath="Nothing kept.")
        assert "the login was refused" in unchecked.value.message
        assert wrong not in unchecked.value.message
        # A good login resets the retry counter: the session's other tests (doctor) see a
        # token whose PIN state is normal again.
        confirm_kept(hsm.module, ts.info, expected, TEST_PIN, aftermath="Kept.")
        remove_objects(ts, imported.key_id)
