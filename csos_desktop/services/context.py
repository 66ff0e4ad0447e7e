"""The run-time context: what this process runs with, read once at start-up.

One value holds the home, the configuration in force (the machine policy with each value's
source, and the user's settings) and the assurance rules that follow from them; the CLI
and the GUI build it when they start (``csos demo`` builds its own) and the rules below
read it instead of the environment. A home is a place for files and grants nothing: only
the machine policy, or ``csos demo`` running in this very process on the home it marked,
allows what a real install refuses (a software token for EPCS or grant approval).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from csos_desktop import paths
from csos_desktop.config import EffectiveConfig, Source, load_config
from csos_desktop.token.modules import ENV_VAR as DRIVER_VARIABLE
from csos_desktop.token.modules import DriverSetting as DriverSetting

if TYPE_CHECKING:
    from asn1crypto import x509 as asn1_x509

#: The file `csos demo` writes in the home it makes (and the only home it clears).
DEMO_MARKER = ".csos-demo"


class SoftwareTokens(Enum):
    """Whether a software token may sign EPCS, and who said so."""

    REFUSED = "refused (21 CFR 1311.115: a hard token is required)"
    MACHINE_POLICY = "allowed by the machine policy"
    DEMO = "allowed for this demo (csos demo, in this process)"

    @property
    def allowed(self) -> bool:
        return self is not SoftwareTokens.REFUSED


@dataclass(frozen=True)
class RunContext:
    """The home, the configuration in force with its sources, and whether this is the demo."""

    home: Path | None
    config: EffectiveConfig
    #: True only in the `csos demo` process, for the home it marked.
    demo: bool = False
    #: ``CSOS_PKCS11_MODULE`` as it was at start-up: a driver candidate, like --module.
    driver_variable: str | None = None

    @property
    def software_tokens(self) -> SoftwareTokens:
        value = self.config.values["allow_software_tokens"]
        if value.value is True and value.source in (Source.POLICY, Source.POLICY_LOCKED):
            return SoftwareTokens.MACHINE_POLICY
        return SoftwareTokens.DEMO if self.demo else SoftwareTokens.REFUSED

    @property
    def driver(self) -> DriverSetting:
        """The PKCS#11 driver asked for besides --module; a policy lock beats the variable."""
        value = self.config.values["pkcs11_module"]
        configured = None if value.value is None else str(value.value)
        policy = self.config.policy
        where = str(policy.path) + (f", {policy.registry_key}" if policy.registry_key else "")
        return DriverSetting(configured, where if value.locked else None, self.driver_variable)

    def trust_anchors(self) -> list[asn1_x509.Certificate]:
        """The trust store in force: IT's ``trust_anchors`` (alone when locked) and, unless
        locked, the user's store under this context's home. Re-read when its files change."""
        # Imported here: the PEM reader is not needed by commands that verify nothing.
        from csos_desktop.trust.anchors import anchor_certificates

        return anchor_certificates(self.config.values["trust_anchors"])


def _driver_variable() -> str | None:
    # The one read of the variable, at start-up; the rule that a lock beats it is in
    # token.modules, which gets the value from here.
    return os.environ.get(DRIVER_VARIABLE) or None


def build_context(*, config: EffectiveConfig | None = None) -> RunContext:
    """The context of an ordinary run (never the demo's)."""
    return RunContext(paths.home(), config or load_config(), driver_variable=_driver_variable())


_current: RunContext | None = None


def install(context: RunContext) -> RunContext:
    """Make *context* the one this process runs with (start-up, `csos demo`)."""
    global _current
    _current = context
    return context


def current() -> RunContext:
    """The context installed at start-up; built on first use by a library caller.

    The configuration is read again each time (settings change while the GUI runs);
    the demo flag stays what start-up decided.
    """
    if _current is None:
        return build_context()
    return RunContext(paths.home(), load_config(), _current.demo, _current.driver_variable)


def enter_demo(home: Path) -> RunContext:
    """For `csos demo` only: this process runs the demo on *home*, which it has marked."""
    if not (home / DEMO_MARKER).is_file():
        raise RuntimeError(f"{home} was not prepared by csos demo")
    # The demo's CA publishes its CRLs on 127.0.0.1. Imported here: the fetcher loads
    # the HTTP stack, which `csos order list` and the GUI's first paint do without.
    from csos_desktop.trust.fetch import allow_private_in_this_process

    allow_private_in_this_process()
    return install(RunContext(home, load_config(), demo=True, driver_variable=_driver_variable()))


def is_demo_home(home: Path | None) -> bool:
    """Whether *home* is the one the `csos demo` running in this process marked."""
    ctx = _current
    return (
        ctx is not None
        and ctx.demo
        and home is not None
        and ctx.home is not None
        and home.resolve() == ctx.home.resolve()
        and (home / DEMO_MARKER).is_file()
    )
