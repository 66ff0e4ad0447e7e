"""What can go wrong talking to a distributor, each with a message the user can act on.

An outbox worker treats :class:`DistributorUnavailable` as "try again later"
(the work stays queued), :class:`DistributorRefused` as a final answer to
record, and :class:`ProtocolError` as a misconfigured URL or a broken server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csos_desktop.domain.errors import CsosError


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem document as the distributor sent it."""

    status: int
    code: str
    title: str
    detail: str
    type: str = "about:blank"
    instance: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, status: int, body: Mapping[str, Any]) -> Problem:
        known = {"type", "title", "status", "detail", "instance", "code"}
        kind = str(body.get("type", "about:blank"))
        return cls(
            status=status,
            code=str(body.get("code") or kind.rsplit(":", 1)[-1].rsplit("/", 1)[-1]),
            title=str(body.get("title", "")),
            detail=str(body.get("detail", "")),
            type=kind,
            instance=None if body.get("instance") is None else str(body["instance"]),
            extensions={k: v for k, v in body.items() if k not in known},
        )


class DistributorError(CsosError):
    """Any failure of a call to the distributor."""


class DistributorUnavailable(DistributorError):
    """Network down, timeout or a 5xx after every retry: try again later, nothing is lost."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class DistributorUntrusted(DistributorUnavailable):
    """The server's TLS certificate did not verify: nothing was sent, and retrying won't help."""


class DistributorRefused(DistributorError):
    """The distributor answered with a refusal (4xx); ``problem`` says why."""

    def __init__(self, message: str, problem: Problem) -> None:
        super().__init__(message)
        self.problem = problem

    @property
    def status(self) -> int:
        return self.problem.status


class ProtocolError(DistributorError):
    """The reply was not what the API promises (not JSON, wrong content type, missing fields)."""
