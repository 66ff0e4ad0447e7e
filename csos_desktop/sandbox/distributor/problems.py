"""Refusals the distributor sends as RFC 9457 problem documents."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from csos_desktop.sandbox.distributor.models import PROBLEM_BASE


class ApiProblem(Exception):
    """An HTTP refusal: status, a stable slug (``code``), and a sentence saying what to do."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra

    def to_json(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance is not None:
            body["instance"] = instance
        body.update(self.extra)
        return body


def not_found(what: str) -> ApiProblem:
    return ApiProblem(404, "not-found", f"{what} is not known to this distributor")
