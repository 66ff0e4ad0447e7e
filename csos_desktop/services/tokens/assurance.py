"""Whether this machine lets EPCS sign with a software token (testing and demos only)."""

from __future__ import annotations

from csos_desktop import paths
from csos_desktop.config import EffectiveConfig, Source, load_config


def software_tokens_allowed(config: EffectiveConfig | None = None) -> bool:
    """``allow_software_tokens = true`` from the machine policy, or in a CSOS_HOME's own file.

    A user's own settings file cannot weaken the rule on a real install: only IT's policy
    can, or the isolated home that `csos demo` and `csos sandbox` create and own.
    """
    value = (config or load_config()).values["allow_software_tokens"]
    if value.value is not True:
        return False
    return value.source in (Source.POLICY, Source.POLICY_LOCKED) or paths.home() is not None
