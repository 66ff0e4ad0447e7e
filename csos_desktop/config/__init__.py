"""Configuration: user settings, the machine policy written by IT, and what is in force."""

from csos_desktop.config.effective import (
    ConfigValue,
    EffectiveConfig,
    SettingLocked,
    Source,
    load_config,
    set_value,
    unset_value,
)

__all__ = [
    "ConfigValue",
    "EffectiveConfig",
    "SettingLocked",
    "Source",
    "load_config",
    "set_value",
    "unset_value",
]
