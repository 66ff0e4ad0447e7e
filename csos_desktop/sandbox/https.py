"""Serving a sandbox app (test CA, distributor) over HTTPS on loopback with uvicorn.

The server certificate comes from the sandbox CA's issuing CA, so clients that
trust ``root.pem`` verify it like any other; TLS is never switched off.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.types import ASGIApp

from csos_desktop.domain.errors import CsosError
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.limits import DEFAULT_LIMITS, RequestLimits, h11_protocol

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    """Server certificate + issuing CA (PEM), its key (0600), and what clients trust."""

    certificate_chain: Path
    key: Path
    ca_bundle: Path


def write_tls_files(ca: TestCa, directory: Path, hosts: tuple[str, ...] = ()) -> TlsFiles:
    """A fresh P-256 key and server certificate for loopback and *hosts* in *directory*."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue_tls_server(
        key.public_key(), hosts=tuple(dict.fromkeys((*LOOPBACK_HOSTS, *hosts)))
    )
    chain = directory / "server-chain.pem"
    chain.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + ca.issuing_certificate.public_bytes(serialization.Encoding.PEM)
    )
    key_path = directory / "server-key.pem"
    write_private_key(key_path, key)
    return TlsFiles(chain, key_path, ca.directory / "root.pem")


def write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """A sandbox server's software key as PKCS#8 PEM, created 0600."""
    path.unlink(missing_ok=True)  # O_CREAT's mode applies only to a new file
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 takes a free one (no race between choosing and binding)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit TCP_NODELAY (Linux): without it each reply's second
    # TLS record waits for the client's delayed ACK, ~40 ms per request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CsosError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port"
        ) from exc
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def uvicorn_server(
    app: ASGIApp, tls: TlsFiles, *, access_log: bool, limits: RequestLimits = DEFAULT_LIMITS
) -> uvicorn.Server:
    """uvicorn over TLS with bounded headers (size and time) and keep-alive.

    The body's bounds are the app's :class:`~csos_desktop.sandbox.limits.BodyLimit`.
    """
    config = uvicorn.Config(
        app,
        ssl_certfile=str(tls.certificate_chain),
        ssl_keyfile=str(tls.key),
        lifespan="off",
        log_level="info" if access_log else "warning",
        access_log=access_log,
        http=h11_protocol(limits),
        h11_max_incomplete_event_size=limits.max_header,
        timeout_keep_alive=5,
    )
    return uvicorn.Server(config)


@dataclass
class RunningServer:
    """A uvicorn server on a background thread (tests, demo, benchmarks)."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread
    tls: TlsFiles

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_in_thread(
    app: ASGIApp, tls: TlsFiles, sock: socket.socket, *, limits: RequestLimits = DEFAULT_LIMITS
) -> RunningServer:
    """Serve *app* over TLS on *sock* from a background thread; returns once it listens."""
    server = uvicorn_server(app, tls, access_log=False, limits=limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise CsosError("the sandbox server did not start")
        time.sleep(0.01)
    return RunningServer(url_of(sock), server, thread, tls)
