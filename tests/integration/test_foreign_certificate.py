"""Done when: a certificate in the DEA profile from a CA `openssl` made, put on a SoftHSM2
token with `softhsm2-util` and `pkcs11-tool`, is shown, signs only for the DEA number whose
hash it carries, and verifies with --trust and --crl, or --trust alone when it names an
http CRL distribution point (served here by a plain local HTTP server: revoked, stale,
unreachable)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from csos_desktop.sandbox.softhsm import softhsm_module
from tests.launch import csos_command
from tests.openssl_pki import DEA, OpensslCa, needs_openssl, openssl
from tests.unit.domain.samples import sample_order_input

# The session's machine policy (a test workstation's) lets the CA's CRL server on
# 127.0.0.1 be asked.
CSOS = csos_command()
PIN = "271828"
LABEL = "foreign"
OTHER_DEA = "BS1234563"

pytestmark = [
    needs_openssl,
    pytest.mark.skipif(
        not (shutil.which("softhsm2-util") and shutil.which("pkcs11-tool")),
        reason="softhsm2-util and pkcs11-tool are needed",
    ),
]


class CrlServer:
    """A plain HTTP server publishing files, as CAs publish CRLs; can be taken down."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/pkix-crl")
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass(frozen=True)
class Foreign:
    ca: OpensslCa
    leaf: Path
    crls: CrlServer
    env: dict[str, str]
    work: Path

    def csos(
        self, *args: str | Path, stdin: str = "", home: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = self.env | ({"CSOS_HOME": str(home)} if home else {})
        return subprocess.run(
            [*CSOS, *map(str, args)], env=env, input=stdin, capture_output=True, text=True,
            timeout=180, check=False,
        )  # fmt: skip

    def publish_crl(self, seconds: int | None = None) -> Path:
        crl = self.ca.crl(self.work / "root-crl.pem", seconds=seconds)
        der = openssl("crl", "-in", crl, "-outform", "DER", "-out", self.work / "root.crl")
        assert der == ""
        self.crls.files["/root.crl"] = (self.work / "root.crl").read_bytes()
        return crl


def _tool(env: dict[str, str], *args: str | Path) -> str:
    done = subprocess.run(
        [str(a) for a in args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Foreign]:
    work = tmp_path_factory.mktemp("foreign")
    (work / "tokens").mkdir()
    conf = work / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {work / 'tokens'}\nobjectstore.backend = file\n")
    module = softhsm_module()
    so_pin = secrets.token_hex(8)
    # Only throw-away PINs on command lines; the real one goes through the environment.
    env = dict(
        os.environ,
        SOFTHSM2_CONF=str(conf),
        CSOS_PKCS11_MODULE=module,
        CSOS_HOME=str(work / "home"),
        SO_PIN=so_pin,
        USER_PIN=PIN,
    )
    _tool(env, "softhsm2-util", "--init-token", "--free", "--label", LABEL,
          "--so-pin", so_pin, "--pin", secrets.token_hex(8))  # fmt: skip
    p11 = ["pkcs11-tool", "--module", module, "--token-label", LABEL]
    _tool(env, *p11, "--login", "--login-type", "so", "--so-pin", "env:SO_PIN",
          "--init-pin", "--new-pin", "env:USER_PIN")  # fmt: skip
    _tool(env, *p11, "--login", "--pin", "env:USER_PIN", "--keypairgen",
          "--key-type", "rsa:2048", "--id", "0a1b", "--label", LABEL)  # fmt: skip
    _tool(env, *p11, "--read-object", "--type", "pubkey", "--id", "0a1b", "-o", work / "pub.der")
    openssl("pkey", "-pubin", "-inform", "DER", "-in", work / "pub.der", "-out", work / "pub.pem")

    crls = CrlServer()
    ca = OpensslCa.create(work / "ca")
    leaf = ca.issue("leaf", work / "pub.pem", crl_url=f"{crls.url}/root.crl")
    openssl("x509", "-in", leaf, "-outform", "DER", "-out", work / "leaf.der")
    _tool(env, *p11, "--login", "--pin", "env:USER_PIN", "--write-object", work / "leaf.der",
          "--type", "cert", "--id", "0a1b", "--label", LABEL)  # fmt: skip
    listed = _tool(env, *p11, "--login", "--pin", "env:USER_PIN", "-O")
    assert "never extractable" in listed and "Certificate Object" in listed
    found = Foreign(ca, leaf, crls, env, work)
    # The pharmacy's IT installed the CA's root: signing needs a chain to an anchor.
    assert found.csos("trust", "add", ca.root).returncode == 0
    yield found
    crls.stop()


def _order(work: Path, dea: str) -> Path:
    data = sample_order_input()
    data["order_number"] = f"{datetime.now(UTC):%y}X000{secrets.randbelow(900) + 100}"
    data["purchaser"]["dea_number"] = dea
    path = work / f"order-{dea}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def signed(foreign: Foreign) -> tuple[Path, Path]:
    out = foreign.work / "signed"
    # The token's holder records themself as the registrant: the order carries schedule II.
    recorded = foreign.csos("poa", "registrant", "--name", "Jane Registrant", "--dea", DEA,
                            "--token", LABEL)  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    done = foreign.csos("order", "sign", _order(foreign.work, DEA), "--token", LABEL,
                        "--pin-stdin", "--out", out, stdin=PIN + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    (doc,) = out.glob("*.json")
    return doc, doc.with_suffix(".p7s")


def test_cert_show_reads_the_openssl_made_certificate(foreign: Foreign) -> None:
    assert foreign.csos("config", "set", "dea_number", DEA).returncode == 0
    done = foreign.csos("cert", "show", "--token", LABEL, "--offline")
    assert done.returncode == 0, done.stderr
    assert "Foreign Pharmacist" in done.stdout
    assert f"DEA number: {DEA} (matches this certificate)" in done.stdout
    assert "2, 2N, 3, 3N, 4, 5" in done.stdout


def test_an_order_for_another_dea_number_is_refused_before_the_pin(foreign: Foreign) -> None:
    # A wrong PIN on stdin: had it been asked, the error would be about the PIN.
    refused = foreign.work / "refused"
    order = _order(foreign.work, OTHER_DEA)
    done = foreign.csos("order", "sign", order, "--token", LABEL, "--pin-stdin",
                        "--out", refused, stdin="000000\n")  # fmt: skip
    assert done.returncode != 0
    assert f"No certificate on this token is for DEA number {OTHER_DEA}" in done.stderr
    assert "PIN" not in done.stderr
    assert not refused.exists()


def test_verifies_with_trust_and_crl_files(foreign: Foreign, signed: tuple[Path, Path]) -> None:
    crl = foreign.publish_crl()
    done = foreign.csos("order", "verify", *signed, "--trust", foreign.ca.root, "--crl", crl)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ACCEPTED" in done.stdout
    # OpenSSL agrees, with the same CRL checked for the whole chain (CRLs go in -CAfile).
    bundle = foreign.work / "root-and-crl.pem"
    bundle.write_bytes(foreign.ca.root.read_bytes() + crl.read_bytes())
    openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", signed[1], "-content",
            signed[0], "-CAfile", bundle, "-crl_check_all", "-purpose", "any",
            "-out", os.devnull)  # fmt: skip


def test_verifies_with_trust_alone_by_fetching_the_named_crl(
    foreign: Foreign, signed: tuple[Path, Path], tmp_path: Path
) -> None:
    foreign.publish_crl()
    done = foreign.csos("order", "verify", *signed, "--trust", foreign.ca.root, "--json",
                        home=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["accepted"] and verdict["revocation_checked"]
    shown = json.loads(foreign.csos("crl", "show", "--json", home=tmp_path).stdout)
    (cached,) = shown["crls"]
    assert cached["url"] == f"{foreign.crls.url}/root.crl" and cached["current"]
    # Offline, the cached CRL is enough until its next update.
    offline = foreign.csos("order", "verify", *signed, "--trust", foreign.ca.root, "--offline",
                           home=tmp_path)  # fmt: skip
    assert offline.returncode == 0, offline.stdout + offline.stderr


def test_the_trust_store_replaces_trust(
    foreign: Foreign, signed: tuple[Path, Path], tmp_path: Path
) -> None:
    foreign.publish_crl()
    missing = foreign.csos("order", "verify", *signed, home=tmp_path)
    assert missing.returncode == 2 and "csos trust add" in missing.stderr
    assert foreign.csos("trust", "add", foreign.ca.root, home=tmp_path).returncode == 0
    listed = json.loads(foreign.csos("trust", "list", "--json", home=tmp_path).stdout)
    (anchor,) = listed["anchors"]
    assert "Foreign E-Commerce Root CA" in anchor["subject"]
    done = foreign.csos("order", "verify", *signed, home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert foreign.csos("trust", "remove", anchor["sha256"][:16], home=tmp_path).returncode == 0
    assert foreign.csos("order", "verify", *signed, home=tmp_path).returncode == 2


def _reasons(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [r["code"] for r in json.loads(done.stdout)["reasons"]]


def test_unreachable_or_stale_crl_is_revocation_unknown(
    foreign: Foreign, signed: tuple[Path, Path], tmp_path: Path
) -> None:
    foreign.crls.files.pop("/root.crl", None)  # the server answers 404
    gone = foreign.csos("order", "verify", *signed, "--trust", foreign.ca.root, "--json",
                        home=tmp_path / "a")  # fmt: skip
    assert gone.returncode == 1 and _reasons(gone) == ["revocation-unknown"]
    notes = json.loads(gone.stdout)["revocation_notes"]
    # The user is told the address gave nothing usable; its HTTP status stays in the log.
    assert any("did not provide the revocation data" in n for n in notes)
    assert not any("404" in n for n in notes)
    offline = foreign.csos("order", "verify", *signed, "--trust", foreign.ca.root, "--offline",
                           "--json", home=tmp_path / "b")  # fmt: skip
    assert offline.returncode == 1 and _reasons(offline) == ["revocation-unknown"]
    foreign.publish_crl(seconds=1)  # stale one second after it is published
    time.sleep(2)
    stale = foreign.csos("order", "verify", *signed, "--trust", foreign.ca.root, "--json",
                         home=tmp_path / "c")  # fmt: skip
    assert stale.returncode == 1 and _reasons(stale) == ["revocation-unknown"]


def test_a_revoked_certificate_is_rejected_after_crl_refresh(
    foreign: Foreign, signed: tuple[Path, Path], tmp_path: Path
) -> None:
    foreign.publish_crl()
    first = foreign.csos("order", "verify", *signed, "--trust", foreign.ca.root, home=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    foreign.ca.revoke(foreign.leaf)
    foreign.publish_crl()
    assert foreign.csos("crl", "refresh", home=tmp_path).returncode == 0
    done = foreign.csos("order", "verify", *signed, "--trust", foreign.ca.root, "--json",
                        home=tmp_path)  # fmt: skip
    assert done.returncode == 1 and "certificate-revoked" in _reasons(done)
    assert "key compromise" in done.stdout
