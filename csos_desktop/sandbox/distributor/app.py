"""The distributor API over HTTP (FastAPI): bearer auth, RFC 9457 problems for every refusal.

The committed spec ``resources/openapi/distributor.yaml`` is generated from
this app (``csos sandbox openapi``); a test keeps the two equal.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from csos_desktop.sandbox.distributor import models as m
from csos_desktop.sandbox.distributor.customers import Customer
from csos_desktop.sandbox.distributor.problems import ApiProblem, not_found
from csos_desktop.sandbox.distributor.service import Distributor
from csos_desktop.sandbox.limits import DEFAULT_LIMITS, BodyLimit, RequestLimits

log = logging.getLogger(__name__)

API_TITLE = "CSOS distributor API"
API_VERSION = "1.0.0"
REPLAYED_HEADER = "Idempotent-Replayed"
_DESCRIPTION = """\
The API between CSOS Desktop and a distributor: submit signed CSOS orders
(21 CFR 1305 subpart C), follow their status and shipments through a change
feed, send signed receipts, and fetch the product catalogue, the SOM policy and
the order history the client's suspicious-order check needs. The sandbox also
plays a pharmacy: signed controlled-substance prescriptions (21 CFR 1311) go to
its inbox, which verifies and keeps them.

Every call but `/v1/health` needs `Authorization: Bearer <token>`. Every
refusal is an RFC 9457 problem document (`application/problem+json`) whose
`code` names the problem. POSTs are idempotent on `Idempotency-Key`: the same
key with the same bytes returns the original result; with other bytes, 409.
"""

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="The customer's token from `csos sandbox customer add`.",
)
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_WHY = {
    400: "The body is not valid JSON.",
    401: "No or unknown bearer token.",
    404: "Not known to this distributor (or not this customer's).",
    409: "Idempotency-Key reused for other bytes, or the order is in the wrong state "
    "(a cancellation of packages already shipped).",
    422: "The request is malformed (field errors in `errors`) or refused.",
}


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        c: {"description": _WHY[c], "content": {m.PROBLEM_JSON: {"schema": _PROBLEM_REF}}}
        for c in codes
    }


def _signed(body: m.SignedSubmission) -> tuple[bytes, bytes]:
    """The submission's document and signature bytes (422 when either is not base64)."""
    return _decode("document", body.document), _decode("signature", body.signature)


def _created(
    response: Response, result: dict[str, Any], replayed: bool, location: str | None = None
) -> dict[str, Any]:
    """201 with the new record, or 200 with the replay header for a replayed submission."""
    if location is not None:
        response.headers["Location"] = location
    if replayed:
        response.status_code = 200
        response.headers[REPLAYED_HEADER] = "true"
    return result


def _replayable(
    model: type[Any], *codes: int, replay: str = "Replay."
) -> dict[int | str, dict[str, Any]]:
    """A signed submission's responses: 201 created, 200 replayed, and these problems."""
    return {200: {"model": model, "description": replay}, **_problems(*codes)}


def problem_response(problem: ApiProblem, request: Request) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    return JSONResponse(
        problem.to_json(instance=request.url.path),
        status_code=problem.status,
        media_type=m.PROBLEM_JSON,
        headers=headers,
    )


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    """A problem document for a refusal made before routing (body limits)."""
    return JSONResponse(
        ApiProblem(status, code, message).to_json(instance=None),
        status_code=status,
        media_type=m.PROBLEM_JSON,
        headers={"Connection": "close"},
    )


def _decode(field: str, text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiProblem(
            422, "invalid-base64", f"`{field}` is not valid base64 (standard alphabet, padded)"
        ) from exc


def _distributor(request: Request) -> Distributor:
    d = request.app.state.distributor
    if d is None:  # an app built only to render the spec
        raise ApiProblem(503, "not-configured", "this app has no distributor behind it")
    assert isinstance(d, Distributor)
    return d


def _customer(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Customer:
    if creds is None or not creds.credentials:
        raise ApiProblem(
            401,
            "unauthorized",
            "send `Authorization: Bearer <token>` with the "
            "token the distributor issued to your pharmacy",
        )
    customer = _distributor(request).authenticate(creds.credentials)
    if customer is None:
        raise ApiProblem(
            401,
            "unauthorized",
            "the distributor does not know this bearer "
            "token; check the token stored for this distributor",
        )
    return customer


CustomerDep = Annotated[Customer, Depends(_customer)]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key", pattern=m.ID_PATTERN, description="The order id (or receipt id)."
    ),
]
CancellationKey = Annotated[
    str,
    Header(alias="Idempotency-Key", pattern=m.ID_PATTERN, description="The cancellation id."),
]
StatementKey = Annotated[
    str,
    Header(alias="Idempotency-Key", pattern=m.ID_PATTERN, description="The statement id."),
]
RxIdempotencyKey = Annotated[
    str,
    Header(alias="Idempotency-Key", pattern=m.ID_PATTERN, description="The prescription's rx_id."),
]
PharmacyId = Annotated[
    str,
    Path(pattern=m.ID_PATTERN, description="`sandbox-pharmacy`, or a registered customer's id."),
]
Cursor = Annotated[
    str,
    Query(
        pattern=r"^[0-9]{1,18}$",
        description="Opaque position from `next_cursor`; `0` for the start.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=1000)]


def create_app(
    distributor: Distributor | None = None, *, limits: RequestLimits = DEFAULT_LIMITS
) -> FastAPI:
    """The API; ``distributor`` None gives an app that can only render its spec.

    Request bodies are bounded before any route runs, so before the bearer token is
    checked: an unauthenticated client cannot make the server buffer or parse much.
    """
    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.distributor = distributor
    app.add_middleware(BodyLimit, limits=limits, refuse=_refusal)
    _handlers(app)

    @app.get("/v1/health", response_model=m.Health, tags=["service"])
    def health() -> dict[str, object]:
        """Reachability check; needs no token."""
        return {"status": "ok", "time": datetime.now(UTC)}

    @app.post(
        "/v1/orders",
        response_model=m.OrderStatus,
        status_code=201,
        tags=["orders"],
        responses=_replayable(
            m.OrderStatus,
            400,
            401,
            409,
            422,
            replay="Replay of an earlier submission with the same key and bytes.",
        ),
    )
    def submit_order(
        body: m.SignedSubmission,
        key: IdempotencyKey,
        customer: CustomerDep,
        request: Request,
        response: Response,
    ) -> dict[str, Any]:
        """Submit a signed order; verified as 21 CFR 1305.22(c) requires, then kept byte-exact.

        A rejected order is still a 201: the record carries the reason codes and the
        statement of non-acceptance (1305.25).
        """
        record, replayed = _distributor(request).submit_order(customer, key, *_signed(body))
        return _created(response, record, replayed, f"/v1/orders/{record['order_id']}")

    @app.post("/as2", include_in_schema=False)
    async def as2(request: Request) -> Response:
        """AS2 (RFC 4130): a signed order in, a signed MDN out (see as2_endpoint)."""
        d = _distributor(request)
        if d.as2 is None:
            raise not_found("AS2 endpoint")
        body = await request.body()
        ctype, mdn = await run_in_threadpool(d.as2.handle, d, dict(request.headers), body)
        return Response(mdn, media_type=ctype)

    @app.get(
        "/v1/orders/{order_id}",
        response_model=m.OrderStatus,
        tags=["orders"],
        responses=_problems(401, 404, 422),
    )
    def get_order(
        order_id: Annotated[str, Path(pattern=m.ID_PATTERN)],
        customer: CustomerDep,
        request: Request,
    ) -> dict[str, Any]:
        """Status of one order with per-line shipped containers and reason codes."""
        return _distributor(request).order_status(customer, order_id)

    @app.post(
        "/v1/orders/{order_id}/cancellations",
        response_model=m.CancellationResult,
        status_code=201,
        tags=["orders"],
        responses=_replayable(m.CancellationResult, 400, 401, 404, 409, 422),
    )
    def cancel_order(
        order_id: Annotated[str, Path(pattern=m.ID_PATTERN)],
        body: m.SignedSubmission,
        key: CancellationKey,
        customer: CustomerDep,
        request: Request,
        response: Response,
    ) -> dict[str, Any]:
        """Cancel all or part of an order with a signed `csos-cancel/1` notice (1305.28).

        Packages already shipped cannot be cancelled: 409 `already-shipped`, and nothing
        changes. An order with nothing left to ship becomes `cancelled`.
        """
        result, replayed = _distributor(request).submit_cancellation(
            customer, order_id, key, *_signed(body)
        )
        return _created(response, result, replayed)

    @app.post(
        "/v1/orders/{order_id}/lost-order-statements",
        response_model=m.LostOrderStatementResult,
        status_code=201,
        tags=["orders"],
        responses=_replayable(m.LostOrderStatementResult, 400, 401, 409, 422),
    )
    def declare_lost(
        order_id: Annotated[str, Path(pattern=m.ID_PATTERN)],
        body: m.SignedSubmission,
        key: StatementKey,
        customer: CustomerDep,
        request: Request,
        response: Response,
    ) -> dict[str, Any]:
        """The purchaser's signed `csos-lost-order/1` statement that an order was lost (1305.26).

        Kept byte-exact whether or not the original ever arrived. An original received
        later is not accepted (`lost-order-statement-received`); an original already held
        and not finished has its open balance voided.
        """
        result, replayed = _distributor(request).submit_lost_statement(
            customer, order_id, key, *_signed(body)
        )
        return _created(response, result, replayed)

    @app.get(
        "/v1/changes", response_model=m.ChangesPage, tags=["orders"], responses=_problems(401, 422)
    )
    def list_changes(
        customer: CustomerDep, request: Request, cursor: Cursor = "0", limit: Limit = 100
    ) -> dict[str, Any]:
        """Changes to this customer's orders after `cursor`, oldest first."""
        return _distributor(request).changes(customer, int(cursor), limit)

    @app.post(
        "/v1/receipts",
        response_model=m.ReceiptResult,
        status_code=201,
        tags=["receipts"],
        responses=_replayable(m.ReceiptResult, 400, 401, 404, 409, 422),
    )
    def submit_receipt(
        body: m.SignedSubmission,
        key: IdempotencyKey,
        customer: CustomerDep,
        request: Request,
        response: Response,
    ) -> dict[str, Any]:
        """Submit a signed receipt (`csos-receipt/1`) for a shipped order (1305.22(g))."""
        result, replayed = _distributor(request).submit_receipt(customer, key, *_signed(body))
        return _created(response, result, replayed)

    @app.post(
        "/v1/pharmacies/{pharmacy_id}/prescriptions",
        response_model=m.PharmacyPrescription,
        status_code=201,
        tags=["prescriptions"],
        responses=_replayable(m.PharmacyPrescription, 400, 401, 404, 409, 422),
    )
    def submit_prescription(
        pharmacy_id: PharmacyId,
        body: m.SignedSubmission,
        key: RxIdempotencyKey,
        customer: CustomerDep,
        request: Request,
        response: Response,
    ) -> dict[str, Any]:
        """Transmit a signed prescription to a pharmacy (21 CFR 1311.170, 1311.205).

        The pharmacy inbox verifies it (signature, chain and revocation, the
        practitioner's DEA number, the 1306.05 content) and keeps it byte-exact with
        its verdict for two years. A rejected prescription is still a 201: its record
        carries the reason codes.
        """
        record, replayed = _distributor(request).submit_prescription(
            customer, pharmacy_id, key, *_signed(body)
        )
        location = f"/v1/pharmacies/{pharmacy_id}/prescriptions/{record['rx_id']}"
        return _created(response, record, replayed, location)

    @app.get(
        "/v1/pharmacies/{pharmacy_id}/prescriptions/{rx_id}",
        response_model=m.PharmacyPrescription,
        tags=["prescriptions"],
        responses=_problems(401, 404, 422),
    )
    def get_prescription(
        pharmacy_id: PharmacyId,
        rx_id: Annotated[str, Path(pattern=m.ID_PATTERN)],
        customer: CustomerDep,
        request: Request,
    ) -> dict[str, Any]:
        """The pharmacy's record of one prescription: accepted or rejected, with reasons."""
        return _distributor(request).prescription(customer, pharmacy_id, rx_id)

    @app.get(
        "/v1/history", response_model=m.HistoryPage, tags=["som"], responses=_problems(401, 422)
    )
    def order_history(
        customer: CustomerDep, request: Request, cursor: Cursor = "0", limit: Limit = 1000
    ) -> dict[str, Any]:
        """This customer's order lines for the client's SOM cache, oldest first."""
        return _distributor(request).history(customer, int(cursor), limit)

    @app.get(
        "/v1/som/policy", response_model=m.SomPolicyDocument, tags=["som"], responses=_problems(401)
    )
    def som_policy(customer: CustomerDep, request: Request) -> dict[str, Any]:
        """The SOM thresholds this distributor applies (the client applies the same)."""
        return _distributor(request).documents.policy

    @app.get(
        "/v1/catalogue",
        response_model=m.CatalogueDocument,
        tags=["catalogue"],
        responses=_problems(401),
    )
    def catalogue(customer: CustomerDep, request: Request) -> dict[str, Any]:
        """Products: NDC, name, strength, form, package size, schedule, drug code."""
        return _distributor(request).documents.catalogue

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    from csos_desktop.sandbox.distributor.script_inbox import router as script_router

    app.include_router(script_router)  # NCPDP SCRIPT: pharmacy directory and mailboxes
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only location, message and type: the input itself may be a signed blob.
        locs = [[str(p) for p in e.get("loc", ())] for e in exc.errors()]
        errors = [
            {"loc": loc, "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for loc, e in zip(locs, exc.errors(), strict=True)
        ]
        where = ", ".join(".".join(loc) for loc in locs)
        return problem_response(
            ApiProblem(422, "invalid-request", f"the request is not valid: {where}", errors=errors),
            request,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = (
            f"there is no {request.url.path} on this distributor API"
            if exc.status_code == 404
            else str(exc.detail)
        )
        return problem_response(ApiProblem(exc.status_code, code, detail), request)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(
            ApiProblem(
                500,
                "internal-error",
                "the distributor failed unexpectedly; the request may be retried",
            ),
            request,
        )


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = m.Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        app.openapi_schema = spec
    return app.openapi_schema
