"""Skips that CI must not take: a backend a developer may lack, but CI must run."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def running_under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str, reason: str) -> NoReturn:
    """Skip on a developer's machine; fail under CI=true, whose run must cover *what*."""
    if running_under_ci():
        pytest.fail(f"CI=true and {what} cannot start: {reason}", pytrace=False)
    pytest.skip(reason)
