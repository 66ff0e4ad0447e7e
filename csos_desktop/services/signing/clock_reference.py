"""Measuring this computer's clock against a reference before signing (1311.55(b)(8)).

The reference is an NTP server named by the ``ntp_server`` setting, else the HTTPS
``Date`` of the configured distributor, else of the CA the certificate came from.
A reading is kept for a few minutes, so a batch does not ask again per signature.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from csos_desktop.config import load_config
from csos_desktop.enrol.records import Records
from csos_desktop.pki.signing_rules import ClockReading
from csos_desktop.trust.tls import CaBundleUnusable, tls_context

READING_KEPT = timedelta(minutes=3)
TIMEOUT_SECONDS = 3.0
_NTP_EPOCH = 2208988800  # seconds from 1900-01-01 to 1970-01-01

_lock = threading.Lock()
_cache: dict[str, tuple[float, ClockReading]] = {}


def sntp_skew(server: str, *, timeout: float = TIMEOUT_SECONDS) -> timedelta:
    """Server time minus local time from one SNTP exchange (RFC 4330); raises OSError."""
    host, sep, port = server.rpartition(":")
    if not sep or not port.isdigit():
        host, port = server, "123"
    request = b"\x23" + bytes(47)  # LI 0, version 4, mode 3 (client)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        t0 = time.time()
        sock.sendto(request, (host, int(port)))
        data, _ = sock.recvfrom(512)
        t3 = time.time()
    if len(data) < 48 or data[0] & 0x07 not in (4, 5):
        raise OSError("the NTP server's answer is not an NTP server reply")
    secs, frac = struct.unpack("!II", data[40:48])
    if secs == 0:
        raise OSError("the NTP server is not synchronised (kiss-of-death or zero time)")
    server_time = secs - _NTP_EPOCH + frac / 2**32
    return timedelta(seconds=server_time - (t0 + t3) / 2)


def https_date_skew(url: str, ca_bundle: str | None) -> timedelta:
    """Server ``Date`` minus local time (midpoint of the request); raises on failure."""
    with httpx.Client(verify=tls_context(ca_bundle), timeout=TIMEOUT_SECONDS) as client:
        start = time.time()
        reply = client.head(url)
        end = time.time()
    date = reply.headers.get("date")
    if not date:
        raise OSError(f"{url} sent no Date header")
    server = parsedate_to_datetime(date)
    # Date has whole seconds: half a second of resolution, well inside five minutes.
    return server - datetime.fromtimestamp((start + end) / 2, UTC)


def _reference() -> tuple[str, str | None]:
    config = load_config()
    ntp = config.text("ntp_server")
    if ntp:
        return f"ntp:{ntp}", None
    url = config.text("distributor_url")
    if url is None:
        record = Records().ca()
        url = record.ca_url if record else None
    return (url or "", config.text("ca_bundle"))


def read_clock() -> ClockReading:
    """The current reading, measured at most every READING_KEPT."""
    reference, ca_bundle = _reference()
    if not reference:
        return ClockReading(
            "no time reference", None, "no distributor, CA or NTP server is configured"
        )
    with _lock:
        held = _cache.get(reference)
        if held is not None and time.monotonic() - held[0] < READING_KEPT.total_seconds():
            return held[1]
    try:
        if reference.startswith("ntp:"):
            skew = sntp_skew(reference.removeprefix("ntp:"))
        else:
            skew = https_date_skew(reference, ca_bundle)
        reading = ClockReading(reference, skew)
    except (OSError, httpx.HTTPError, ValueError, TypeError, CaBundleUnusable) as exc:
        reading = ClockReading(reference, None, f"{type(exc).__name__}: {exc}")
    with _lock:
        _cache[reference] = (time.monotonic(), reading)
    return reading
