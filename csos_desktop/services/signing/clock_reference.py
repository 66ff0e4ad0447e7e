"""Measuring this computer's clock against a reference before signing (1311.55(b)(8)).

The references, asked in this order until one answers: the NTP server of the
``ntp_server`` setting (NIST's ``time.nist.gov`` by default; one SNTP exchange over UDP,
bounded by a timeout), then the HTTPS ``Date`` of the configured distributor, else of
the CA the certificate came from. A reading is kept for a few minutes, so a batch does
not ask again per signature; the last verified reading is written to the data folder,
where ``csos doctor`` shows it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from csos_desktop import paths
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


def _references() -> tuple[list[str], str | None]:
    """The references in the order they are asked, and the CA bundle for HTTPS ones."""
    config = load_config()
    refs = []
    ntp = config.text("ntp_server")
    if ntp:
        refs.append(f"ntp:{ntp}")
    url = config.text("distributor_url")
    if url is None:
        record = Records().ca()
        url = record.ca_url if record else None
    if url:
        refs.append(url)
    return refs, config.text("ca_bundle")


def _measure(reference: str, ca_bundle: str | None) -> ClockReading:
    try:
        if reference.startswith("ntp:"):
            skew = sntp_skew(reference.removeprefix("ntp:"))
        else:
            skew = https_date_skew(reference, ca_bundle)
        return ClockReading(reference, skew)
    except (OSError, httpx.HTTPError, ValueError, TypeError, CaBundleUnusable) as exc:
        return ClockReading(reference, None, f"{type(exc).__name__}: {exc}")


def read_clock() -> ClockReading:
    """The first reference that answers, measured at most every READING_KEPT."""
    refs, ca_bundle = _references()
    if not refs:
        return ClockReading(
            "no time reference", None, "no NTP server, distributor or CA is configured"
        )
    key = " ".join(refs)
    with _lock:
        held = _cache.get(key)
        if held is not None and time.monotonic() - held[0] < READING_KEPT.total_seconds():
            return held[1]
    failed = []
    for reference in refs:
        reading = _measure(reference, ca_bundle)
        if reading.skew is not None:
            _keep_last_verified(reading)
            break
        failed.append(f"{reference}: {reading.problem}")
    else:
        reading = ClockReading(" then ".join(refs), None, "; ".join(failed))
    with _lock:
        _cache[key] = (time.monotonic(), reading)
    return reading


def _last_reading_file() -> Path:
    return paths.data_dir() / "clock-reading.json"


def _keep_last_verified(reading: ClockReading) -> None:
    assert reading.skew is not None
    record = {
        "reference": reading.reference,
        "skew_seconds": round(reading.skew.total_seconds(), 3),
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    # A reading that cannot be written is still a reading: signing goes on.
    with contextlib.suppress(OSError):
        _last_reading_file().write_text(json.dumps(record), encoding="utf-8")


def last_verified_reading() -> dict[str, object] | None:
    """The last reading a reference answered (reference, skew_seconds, at), if any."""
    try:
        data = json.loads(_last_reading_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
