"""Is the AS2 connection usable: settings complete, key and certificates readable and in
date, the key ours and private, and the endpoint answering over verified TLS?

Run only when orders go over AS2 (``distributor_connection`` AS2). Every finding is
collected, so IT fixes them in one visit rather than one per run.
"""

from __future__ import annotations

import ssl
import stat
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from csos_desktop.config.effective import EffectiveConfig
from csos_desktop.doctor.network import TIMEOUT_SECONDS, probe
from csos_desktop.doctor.result import CheckResult, Status
from csos_desktop.logs import redact
from csos_desktop.services.sync.as2_settings import As2NotConfigured, As2Settings, as2_settings
from csos_desktop.trust.tls import CaBundleUnusable

CHECK, TITLE = "as2", "AS2 connection"
#: A certificate ending sooner than this is worth a warning: partners exchange new
#: certificates ahead of the change, and that takes both sides' IT.
RENEW_AHEAD = timedelta(days=30)


@dataclass(frozen=True)
class Finding:
    status: Status
    text: str
    fix: str


def as2_check(
    cfg: EffectiveConfig, now: datetime, *, timeout: float = TIMEOUT_SECONDS
) -> CheckResult:
    """The AS2 result; SKIPPED when orders go over the REST API."""
    try:
        settings = as2_settings(cfg)
    except As2NotConfigured as exc:
        return CheckResult(
            CHECK,
            TITLE,
            Status.ERROR,
            f"Orders go over AS2, but {exc}",
            "Set them in the machine policy or with `csos config set KEY VALUE` "
            "(docs/x12.md); `csos config show` lists what is in force.",
        )
    if settings is None:
        return CheckResult(
            CHECK,
            TITLE,
            Status.SKIPPED,
            "Not used: orders go to the distributor over its REST API "
            "(distributor_connection REST).",
        )
    findings = _files(settings, now)
    reach, details = _reach(settings.url, cfg.text("ca_bundle"), timeout)
    findings += reach
    details = {
        "url": settings.url,
        "as2_id": settings.as2_id,
        "partner_id": settings.partner_id,
        "encrypt": settings.encrypt,
        "compress": settings.compress,
        **details,
    }
    if not findings:
        return CheckResult(
            CHECK,
            TITLE,
            Status.OK,
            f"{settings.as2_id} → {settings.partner_id}: key and certificates usable, "
            f"{settings.url} answered over verified TLS.",
            "",
            details,
        )
    worst = max((f.status for f in findings), key=lambda s: s.severity)
    return CheckResult(
        CHECK,
        TITLE,
        worst,
        " ".join(f.text for f in findings),
        " ".join(dict.fromkeys(f.fix for f in findings)),
        {**details, "problems": [f.text for f in findings]},
    )


def _files(settings: As2Settings, now: datetime) -> list[Finding]:
    """What is wrong with the key and certificate files, if anything."""
    found: list[Finding] = []
    fix_file = "Fix the file the setting names (`csos config show` says who set it)."
    try:
        ours = settings.party()
    except As2NotConfigured as exc:
        found.append(Finding(Status.ERROR, str(exc), fix_file))
        ours = None
    try:
        partner = settings.partner()
    except As2NotConfigured as exc:
        found.append(Finding(Status.ERROR, str(exc), fix_file))
        partner = None
    if ours is not None:
        if _spki(ours.key.public_key()) != _spki(ours.certificate.public_key()):
            found.append(
                Finding(
                    Status.ERROR,
                    f"as2_key {settings.key} does not belong to as2_certificate "
                    f"{settings.certificate}: the distributor could not verify our messages.",
                    "Name the key and certificate of one pair (the certificate the "
                    "distributor was given).",
                )
            )
        found += _dates("as2_certificate", ours.certificate, now)
        if sys.platform != "win32":
            mode = stat.S_IMODE(settings.key.stat().st_mode)
            if mode & 0o077:
                found.append(
                    Finding(
                        Status.WARNING,
                        f"as2_key {settings.key} can be read by other accounts (mode {mode:o}).",
                        f"Make it readable by the pharmacy's account only: chmod 600 "
                        f"{settings.key}.",
                    )
                )
    if partner is not None:
        found += _dates("as2_partner_certificate", partner, now)
    return found


def _spki(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _dates(setting: str, cert: x509.Certificate, now: datetime) -> list[Finding]:
    ends, starts = cert.not_valid_after_utc, cert.not_valid_before_utc
    fix = "Exchange new AS2 certificates with the distributor and update the setting."
    if now >= ends:
        return [Finding(Status.ERROR, f"{setting} expired on {ends:%Y-%m-%d}.", fix)]
    if now < starts:
        return [Finding(Status.ERROR, f"{setting} is not valid before {starts:%Y-%m-%d}.", fix)]
    if ends - now < RENEW_AHEAD:
        days = (ends - now).days
        text = f"{setting} expires in {days} days ({ends:%Y-%m-%d})."
        return [Finding(Status.WARNING, text, fix)]
    return []


def _reach(
    url: str, ca_bundle: str | None, timeout: float
) -> tuple[list[Finding], dict[str, object]]:
    """Any HTTP answer proves the path and the TLS certificate (an AS2 endpoint need not
    answer a GET with 200)."""
    try:
        found = probe(url, ca_bundle, timeout=timeout)
    except (httpx.HTTPError, OSError, ssl.SSLError, CaBundleUnusable) as exc:
        text = redact(str(exc)) or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            text = f"no answer within {timeout:.0f} s"
        return [
            Finding(
                Status.ERROR,
                f"The AS2 endpoint {url} cannot be reached ({text}).",
                "Check the network, proxy and firewall, and as2_url; a private CA needs ca_bundle.",
            )
        ], {"error": text}
    return [], {"http_status": found.status_code, "tls_version": found.tls_version}
