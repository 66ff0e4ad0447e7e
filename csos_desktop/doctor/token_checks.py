"""Driver, smart-card service, tokens and the CSOS certificate, read without a PIN."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from csos_desktop.doctor.result import CheckResult, Status
from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.token_state import SOFTWARE_TOKEN_LABEL, PinSeverity, pin_wording
from csos_desktop.services.tokens.status import read_token_status
from csos_desktop.token.access import open_library
from csos_desktop.token.identity import RENEWAL_WINDOW_DAYS
from csos_desktop.token.library import Pkcs11Lib
from csos_desktop.token.modules import ENV_VAR as DRIVER_VARIABLE
from csos_desktop.token.modules import DriverSetting, ModuleChoice, ModuleLocked
from csos_desktop.token.slots import PinState, TokenInfo, list_tokens

PCSCD_SOCKETS = ("/run/pcscd/pcscd.comm", "/var/run/pcscd/pcscd.comm")
_DRIVER_FIX = (
    "Install your token's driver (most smart cards: OpenSC, `apt-get install opensc`; "
    "SafeNet, Thales or YubiKey: the vendor's package), or have IT set pkcs11_module "
    "in the machine policy."
)
_LOCKED_FIX = (
    f"Run without --module and unset {DRIVER_VARIABLE}: the machine policy's driver is used."
)


def module_check(
    module: str | None, configured: DriverSetting | None
) -> tuple[CheckResult, tuple[ModuleChoice, Pkcs11Lib] | None]:
    try:
        choice, lib = open_library(module, configured)
    except CsosError as exc:
        # Refused by the lock: installing a driver would not help, dropping the override does.
        fix = _LOCKED_FIX if isinstance(exc, ModuleLocked) else _DRIVER_FIX
        return CheckResult("pkcs11_module", "PKCS#11 driver", Status.ERROR, exc.message, fix), None
    vendor = f", {choice.vendor}" if choice.vendor else ""
    info = lib.library_description.strip(), lib.manufacturer_id.strip()
    return CheckResult(
        "pkcs11_module",
        "PKCS#11 driver",
        Status.OK,
        f"{choice.path} loads ({info[1]} {info[0]}; chosen by {choice.source}{vendor}).",
        "",
        {"path": choice.path, "source": choice.source, "library": info[0], "manufacturer": info[1]},
    ), (choice, lib)


def _pcscd_process() -> bool:
    for proc in Path("/proc").glob("[0-9]*/comm"):
        try:
            if proc.read_text().strip() == "pcscd":
                return True
        except OSError:
            continue
    return False


def smart_card_service_check(
    module_path: str | None, *, platform: str = sys.platform
) -> CheckResult:
    title = "Smart-card service"
    if platform == "darwin":
        return CheckResult(
            "smart_card_service",
            title,
            Status.OK,
            "macOS provides the smart-card service (CryptoTokenKit).",
        )
    if platform.startswith("win"):
        try:
            out = subprocess.run(
                ["sc", "query", "SCardSvr"], capture_output=True, text=True, timeout=10, check=False
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        if "RUNNING" in out:
            return CheckResult(
                "smart_card_service",
                title,
                Status.OK,
                "The Windows Smart Card service (SCardSvr) is running.",
            )
        return CheckResult(
            "smart_card_service",
            title,
            Status.WARNING,
            "The Windows Smart Card service (SCardSvr) is not running.",
            "Start it: `sc config SCardSvr start= auto` then `sc start SCardSvr`.",
        )
    sockets = [s for s in PCSCD_SOCKETS if os.path.exists(s)]
    if _pcscd_process() or sockets:
        how = "running" if _pcscd_process() else f"socket-activated ({sockets[0]})"
        return CheckResult("smart_card_service", title, Status.OK, f"pcscd is {how}.")
    if module_path and "softhsm" in module_path.lower():
        return CheckResult(
            "smart_card_service",
            title,
            Status.OK,
            "pcscd is not running; the SoftHSM2 software token in use does not need it.",
            "",
            {"pcscd": "not running"},
        )
    return CheckResult(
        "smart_card_service",
        title,
        Status.WARNING,
        "pcscd (the smart-card reader service) is not running: USB tokens and "
        "card readers will not be seen.",
        "`sudo apt-get install pcscd && sudo systemctl enable --now pcscd.socket`",
        {"pcscd": "not running"},
    )


_PIN_STATUS = {
    PinSeverity.OK: Status.OK,
    PinSeverity.WARN: Status.WARNING,
    PinSeverity.BAD: Status.WARNING,
    PinSeverity.BLOCKED: Status.ERROR,
}


def _pin_note(info: TokenInfo) -> tuple[Status, str]:
    words = pin_wording(info.pin_state)
    if words.severity is PinSeverity.OK:
        return Status.OK, ""
    return _PIN_STATUS[words.severity], f"token {info.label!r}: {words.short}"


def tokens_check(lib: Pkcs11Lib | None, wanted_label: str | None) -> CheckResult:
    title = "Tokens"
    if lib is None:
        return CheckResult("tokens", title, Status.SKIPPED, "Not checked: no driver loaded.")
    try:
        infos = [
            t for t in list_tokens(lib) if t.label or t.pin_state is not PinState.NOT_INITIALIZED
        ]
    except CsosError as exc:
        return CheckResult(
            "tokens",
            title,
            Status.ERROR,
            exc.message,
            "Re-insert the token and run `csos doctor` again.",
        )
    details: dict[str, object] = {"tokens": [t.to_json() for t in infos]}
    if not infos:
        return CheckResult(
            "tokens",
            title,
            Status.ERROR,
            "No token is inserted.",
            "Insert the USB token or smart card (check the reader's light), "
            "then run `csos doctor` again.",
            details,
        )
    notes = [_pin_note(t) for t in infos]
    # With a configured token, only its PIN state sets the result; another token's low
    # counter (a colleague's, a test token) is still named in the summary.
    judged = [n for n, t in zip(notes, infos, strict=True) if t.label == wanted_label] or notes
    worst = max((s for s, _ in judged), key=lambda s: s.severity)
    labels = ", ".join(
        repr(t.label) + (f" ({SOFTWARE_TOKEN_LABEL})" if t.software else "") for t in infos
    )
    summary = f"{len(infos)} token(s): {labels}."
    fix = ""
    if wanted_label and all(t.label != wanted_label for t in infos):
        worst = max(worst, Status.WARNING, key=lambda s: s.severity)
        summary += f" The configured token_label {wanted_label!r} is not among them."
        fix = "Insert that token, or change token_label."
    problems = "; ".join(text for _, text in notes if text)
    if problems:
        summary += f" Note: {problems}."
        fix = fix or (
            "A locked PIN is reset by the token's security officer or vendor tool; "
            "never guess a PIN."
        )
    return CheckResult("tokens", title, worst, summary, fix, details)


def certificate_check(
    module: str | None, label: str | None, configured: DriverSetting | None, now: datetime
) -> CheckResult:
    title = "CSOS certificate"
    status = read_token_status(module, label, configured=configured, now=now)
    enrol = "Enrol for a CSOS certificate (`csos enrol`), or insert the token that holds it."
    if status.token is None:
        return CheckResult(
            "certificate", title, Status.SKIPPED, f"Not checked: {status.problem or 'no token'}"
        )
    cert = status.certificate
    if cert is None:
        return CheckResult(
            "certificate",
            title,
            Status.ERROR,
            f"No CSOS certificate is on token {status.token.label!r}.",
            enrol,
        )
    details: dict[str, object] = {
        "subject": cert.subject,
        "issuer": cert.issuer,
        "dea_number": cert.dea_number,
        "dea_number_matches": cert.dea_number_matches,
        "schedules": list(cert.schedules),
        "not_before": cert.not_before.isoformat(),
        "not_after": cert.not_after.isoformat(),
        "days_left": cert.days_left,
        # Revocation (OCSP/CRL) needs the CA's responder; doctor does not query it yet.
        "revocation": "not checked",
        "certificates_on_token": len(status.certificates),
    }
    valid = f"valid until {cert.not_after:%Y-%m-%d} ({cert.days_left} days left)"
    who = f"{cert.subject}, DEA {cert.dea_label}"
    renew = "Renew it with your certificate authority (`csos enrol`) before it expires."
    if now < cert.not_before:
        return CheckResult(
            "certificate",
            title,
            Status.ERROR,
            f"The certificate ({who}) is valid only from {cert.not_before:%Y-%m-%d %H:%M} UTC.",
            "Check this computer's clock and date.",
            details,
        )
    if cert.expired:
        return CheckResult(
            "certificate",
            title,
            Status.ERROR,
            f"The certificate ({who}) expired on {cert.not_after:%Y-%m-%d}; "
            "orders signed with it are rejected.",
            renew,
            details,
        )
    registration = cert.registration_warning
    if registration is not None:
        return CheckResult(
            "certificate",
            title,
            Status.ERROR if registration.ended else Status.WARNING,
            f"The certificate ({who}) is {valid}, but: {registration.message()}",
            "Renew the DEA registration, then set its new date with "
            "`csos config set dea_registration_expiry YYYY-MM-DD`.",
            details,
        )
    if cert.renewal_due:
        return CheckResult(
            "certificate",
            title,
            Status.WARNING,
            f"The certificate ({who}) is {valid}: renewal is due within "
            f"{RENEWAL_WINDOW_DAYS} days (21 CFR 1311.40). Revocation not checked.",
            renew,
            details,
        )
    return CheckResult(
        "certificate", title, Status.OK, f"{who}: {valid}. Revocation not checked.", "", details
    )
