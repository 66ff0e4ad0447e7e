"""The committed OpenAPI spec is exactly what the app generates, and it says what we promise."""

from __future__ import annotations

import yaml

from csos_desktop.sandbox.distributor.openapi import committed_path, render


def test_committed_spec_equals_the_generated_one() -> None:
    assert committed_path().read_text(encoding="utf-8") == render(), (
        "resources/openapi/distributor.yaml is stale: run `csos sandbox openapi --write`"
    )


def test_spec_is_openapi_3_1_with_bearer_auth_and_problem_errors() -> None:
    spec = yaml.safe_load(render())
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in spec["paths"].items():
        for method, op in item.items():
            errors = {code: r for code, r in op["responses"].items() if code.startswith("4")}
            if path != "/v1/health":
                assert "401" in errors, f"{method} {path}"
                assert op["security"] == [{"bearer": []}]
            for r in errors.values():
                assert list(r["content"]) == ["application/problem+json"], f"{method} {path}"


def test_submit_is_keyed_by_idempotency_key() -> None:
    op = yaml.safe_load(render())["paths"]["/v1/orders"]["post"]
    [header] = [p for p in op["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and header["required"] is True
    assert {"200", "201", "409", "422"} <= set(op["responses"])
