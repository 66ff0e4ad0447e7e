"""Whether this machine lets EPCS sign with a software token (testing and demos only)."""

from __future__ import annotations

from csos_desktop.config import EffectiveConfig
from csos_desktop.services.context import RunContext, current


def software_tokens_allowed(
    config: EffectiveConfig | None = None, *, context: RunContext | None = None
) -> bool:
    """``allow_software_tokens = true`` from the machine policy, or `csos demo` in this process.

    Neither a user's own settings file nor a ``CSOS_HOME`` can weaken the rule: only IT's
    policy can, or the demo, for the home it made and only while it runs.
    """
    ctx = context or current()
    if config is not None:
        ctx = RunContext(ctx.home, config, ctx.demo)
    return ctx.software_tokens.allowed
