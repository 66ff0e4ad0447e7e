"""A real HTTP server on 127.0.0.1 whose answers a test scripts: files, redirects,
trickled or huge bodies. What a CA publishes, or what a hostile certificate points at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    """What one path answers."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/pkix-crl"
    location: str | None = None
    #: Seconds between bytes: a server trickling its answer.
    trickle: float = 0.0
    #: Bytes sent as a stream of this many zero bytes instead of *body* (a flood).
    flood: int = 0


@dataclass
class Served:
    answers: dict[str, Answer] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _handler(served: Served, stop: threading.Event) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            served.requests.append(self.path)
            answer = served.answers.get(self.path, Answer(status=404))
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            if answer.location:
                self.send_header("Location", answer.location)
            size = answer.flood or len(answer.body)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                if answer.flood:
                    chunk = b"\0" * 65536
                    for _ in range(answer.flood // len(chunk)):
                        self.wfile.write(chunk)
                elif answer.trickle:
                    for byte in answer.body:
                        if stop.wait(answer.trickle):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                else:
                    self.wfile.write(answer.body)
            except OSError:
                pass  # the client gave up, as it should

        do_GET = _answer

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self._answer()

        def log_message(self, *_args: object) -> None:
            pass

    return Handler


@contextmanager
def http_server(answers: dict[str, Answer] | None = None) -> Iterator[Served]:
    served = Served(dict(answers or {}))
    stop = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served, stop))
    httpd.daemon_threads = True
    served.port = int(httpd.server_address[1])
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield served
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
