"""The signing rule of 1305.05 / 1305.21(a) as a pure function: who signs which schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csos_desktop.domain.errors import ItemRefused
from csos_desktop.domain.poa import (
    Authority,
    Holder,
    RegistrantNotRecorded,
    Registry,
    SignerNotAuthorised,
    signer_authority,
)

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
NOBODY = Registry("AB1234563", None, frozenset(), ())
RECORDED = Registry(
    "AB1234563",
    "Jane Registrant",
    frozenset({"reg"}),
    (
        Holder("p1", "Sam Attorney", frozenset({"sam"}), None, NOW - timedelta(days=2)),
        Holder("p2", "Lee Former", frozenset({"lee"}), NOW - timedelta(days=1), NOW),
        Holder("p3a7c9e1-0000", "Kim Pending", frozenset({"kim"}), None),
    ),
)


def test_a_schedule_ii_order_needs_a_recorded_registrant_and_says_how() -> None:
    with pytest.raises(RegistrantNotRecorded) as refused:
        signer_authority(NOBODY, "any", NOW, schedule_i_or_ii=True)
    assert isinstance(refused.value, ItemRefused)  # only that order; a batch goes on
    assert "csos poa registrant --name" in refused.value.message
    assert "--dea AB1234563" in refused.value.message and "1305.05" in refused.value.message


def test_schedules_iii_to_v_alone_are_not_held_back_without_a_registrant() -> None:
    assert signer_authority(NOBODY, "any", NOW, schedule_i_or_ii=False) is Authority.NO_REGISTRY


@pytest.mark.parametrize("schedule_i_or_ii", [True, False])
def test_once_recorded_only_the_registrant_and_current_accepted_attorneys_sign(
    schedule_i_or_ii: bool,
) -> None:
    def authority(sha: str) -> Authority:
        return signer_authority(RECORDED, sha, NOW, schedule_i_or_ii=schedule_i_or_ii)

    assert authority("reg") is Authority.REGISTRANT
    assert authority("sam") is Authority.ATTORNEY
    with pytest.raises(SignerNotAuthorised, match="revoked"):
        authority("lee")
    with pytest.raises(SignerNotAuthorised, match="neither the registrant"):
        authority("stranger")


@pytest.mark.parametrize("schedule_i_or_ii", [True, False])
def test_a_holder_who_has_not_accepted_is_refused_and_told_to_accept_first(
    schedule_i_or_ii: bool,
) -> None:
    with pytest.raises(SignerNotAuthorised) as refused:
        signer_authority(RECORDED, "kim", NOW, schedule_i_or_ii=schedule_i_or_ii)
    message = refused.value.message
    assert "Kim Pending" in message and "pending acceptance" in message
    assert "must accept it first" in message and "csos poa accept p3a7c9e1" in message
    assert "Accept (attorney)" in message
