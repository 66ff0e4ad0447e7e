"""Is the distributor reachable over verified TLS, and what time does it say it is?

One HTTPS GET to the configured ``distributor_url``: any HTTP answer proves the
network path and the TLS certificate; its ``Date`` header gives the clock skew.
Verification is never turned off: a certificate we cannot verify is the finding.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from csos_desktop.doctor.clock import skew_result
from csos_desktop.doctor.result import CheckResult, Status
from csos_desktop.logs import redact
from csos_desktop.trust.tls import CaBundleUnusable, tls_context

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Probe:
    status_code: int
    server_date: datetime | None
    local_midpoint: datetime
    elapsed_ms: float
    tls_version: str | None

    @property
    def skew(self) -> timedelta | None:
        return None if self.server_date is None else self.server_date - self.local_midpoint


def probe(
    url: str,
    ca_bundle: str | None,
    *,
    timeout: float = TIMEOUT_SECONDS,
    clock: Callable[[], float] = time.time,
) -> Probe:
    """GET *url* over verified TLS; raises httpx.HTTPError or OSError."""
    with httpx.Client(
        verify=tls_context(ca_bundle), timeout=timeout, follow_redirects=False
    ) as client:
        start = clock()
        with client.stream("GET", url, headers={"User-Agent": "csos-desktop-doctor"}) as response:
            end = clock()
            # Asked while the connection is open; it is released once the body is read.
            stream = response.extensions.get("network_stream")
            ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
            tls_version = ssl_object.version() if ssl_object is not None else None
            response.read()
    date = response.headers.get("date")
    try:
        server_date = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        server_date = None
    return Probe(
        response.status_code,
        server_date,
        datetime.fromtimestamp((start + end) / 2, UTC),
        round((end - start) * 1000, 1),
        tls_version,
    )


def _failure(exc: Exception, url: str, ca_bundle: str | None) -> CheckResult:
    text = redact(str(exc)) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(
        exc.__cause__, ssl.SSLCertVerificationError
    ):
        trust = f"the CA bundle {ca_bundle}" if ca_bundle else "this computer's trust store"
        return CheckResult(
            "distributor",
            "Distributor",
            Status.ERROR,
            f"{url} answered, but its TLS certificate is not trusted by {trust} ({text}).",
            "If the distributor uses a private CA, have IT set ca_bundle in the machine "
            "policy; if not, a proxy may be intercepting TLS: contact IT.",
            {"url": url, "error": text},
        )
    if isinstance(exc, httpx.TimeoutException):
        summary = f"{url} did not answer within {TIMEOUT_SECONDS:.0f} s."
    else:
        summary = f"{url} cannot be reached ({text})."
    return CheckResult(
        "distributor",
        "Distributor",
        Status.ERROR,
        summary,
        "Check the network connection and any proxy or firewall; check "
        "distributor_url with `csos config show`.",
        {"url": url, "error": text},
    )


def network_checks(
    url: str | None, ca_bundle: str | None, *, timeout: float = TIMEOUT_SECONDS
) -> list[CheckResult]:
    """The distributor and clock results (both need the one request)."""
    if not url:
        why = "No distributor is configured (distributor_url)."
        return [
            CheckResult(
                "distributor",
                "Distributor",
                Status.SKIPPED,
                why,
                "Set it with `csos config set distributor_url https://...`, or have IT "
                "set it in the machine policy.",
            ),
            CheckResult(
                "clock",
                "Clock",
                Status.SKIPPED,
                "Not checked: the clock is compared with the distributor's, and none "
                "is configured.",
            ),
        ]
    if ca_bundle and not Path(ca_bundle).is_file():
        return [
            CheckResult(
                "distributor",
                "Distributor",
                Status.ERROR,
                f"The configured CA bundle {ca_bundle} does not exist.",
                "Fix ca_bundle (`csos config show` says who set it).",
                {"url": url, "ca_bundle": ca_bundle},
            ),
            CheckResult(
                "clock", "Clock", Status.SKIPPED, "Not checked: the distributor could not be asked."
            ),
        ]
    try:
        found = probe(url, ca_bundle, timeout=timeout)
    except (httpx.HTTPError, OSError, ssl.SSLError, CaBundleUnusable) as exc:
        return [
            _failure(exc, url, ca_bundle),
            CheckResult(
                "clock",
                "Clock",
                Status.SKIPPED,
                "Not checked: the distributor could not be reached.",
            ),
        ]
    details = {
        "url": url,
        "http_status": found.status_code,
        "elapsed_ms": found.elapsed_ms,
        "tls_version": found.tls_version,
        "ca_bundle": ca_bundle,
    }
    reach = CheckResult(
        "distributor",
        "Distributor",
        Status.OK,
        f"{url} answered over verified TLS ({found.tls_version or 'TLS'}, "
        f"HTTP {found.status_code}, {found.elapsed_ms:.0f} ms).",
        "",
        details,
    )
    if found.skew is None:
        clock = CheckResult(
            "clock",
            "Clock",
            Status.WARNING,
            "The distributor's answer carried no Date header; clock not checked.",
            "Keep automatic time synchronisation on.",
        )
    else:
        clock = skew_result(found.skew, url)
    return [reach, clock]
