"""Hostile HTTP answers for the fetcher's fuzz target."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.fuzz.fetch_targets import Script, servers

STATUSES = [200, 200, 200, 204, 301, 302, 303, 307, 308, 400, 404, 500, 503, 999]
TYPES = [
    b"application/pkix-crl",
    b"application/ocsp-response",
    b"text/html",
    b"application/x-pem-file",
    b"\xff\xfe",
]


@st.composite
def locations(draw: st.DrawFn) -> bytes:
    hostile, inside = servers()
    return draw(
        st.sampled_from(
            [
                b"/other.crl",
                f"{hostile.url}/again.crl".encode(),
                f"{inside.url}/secret".encode(),
                b"http://169.254.169.254/latest/meta-data/",
                b"ftp://ca.example/crl",
                b"file:///etc/passwd",
                b"//evil.example/x",
                b"",
            ]
        )
        | st.binary(max_size=40)
    )


@st.composite
def hostile_answers(draw: st.DrawFn) -> Script:
    status = draw(st.sampled_from(STATUSES))
    headers = [b"HTTP/1.1 %d X" % status]
    if status in (301, 302, 303, 307, 308) and draw(st.booleans()) is not False:
        headers.append(b"Location: " + draw(locations()))
    headers.append(b"Content-Type: " + draw(st.sampled_from(TYPES)))
    body_kind = draw(st.sampled_from(["plain", "pem", "flood", "chunked", "lying", "raw"]))
    body = draw(st.binary(max_size=300))
    parts: list[tuple[float, bytes]] = []
    if body_kind == "pem":
        body = b"-----BEGIN X509 CRL-----\n" + body + b"\n-----END X509 CRL-----\n"
    if body_kind == "flood":
        size = draw(st.integers(64 * 1024, 400 * 1024))
        headers.append(b"Content-Length: %d" % size)
        parts = [(0.0, b"\0" * size)]
    elif body_kind == "chunked":
        headers.append(b"Transfer-Encoding: chunked")
        parts = [(0.0, draw(st.sampled_from([b"zz\r\n", b"%x\r\n" % len(body)])) + body)]
    elif body_kind == "lying":
        headers.append(b"Content-Length: %d" % draw(st.integers(0, 10**12)))
        parts = [(0.0, body)]
    elif body_kind == "raw":
        headers = [draw(st.binary(max_size=60))]
        parts = [(0.0, body)]
    else:
        headers.append(b"Content-Length: %d" % len(body))
        parts = [(0.0, body)]
    if draw(st.integers(0, 15)) == 0:  # now and then a server that stalls past the deadline
        parts.insert(0, (0.7, b""))
    return Script(b"\r\n".join(headers) + b"\r\n\r\n", parts)
