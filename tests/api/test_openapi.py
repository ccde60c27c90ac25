"""The OpenAPI document: valid, complete, honest (schemathesis), and a docs page with no CDN."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from openapi_spec_validator import validate

PATHS = {"/api/v1/products", "/api/v1/products/{product_id}", "/api/v1/requests/{request_id}/matches"}
DESK = "/api/v1/desk/requests"
DESK_PATHS = {DESK, DESK + "/{request_id}", *(DESK + "/{request_id}/" + action for action in (
    "claim", "release", "offers", "offers/{offer_id}/approve", "decline", "guarantee-offers", "disbursement",
    "repayments", "documents/{document_id}", "loan", "prepayments"))}


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def test_the_document_is_valid_openapi_3(spec):
    validate(spec)  # raises on any violation
    assert spec["openapi"].startswith("3.")


def test_the_document_has_the_three_paths_and_the_bearer_scheme(spec):
    assert PATHS <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"]}
    matches = spec["paths"]["/api/v1/requests/{request_id}/matches"]["get"]
    assert matches["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/api/v1/products"]["get"]


def test_error_responses_are_documented_with_the_json_error_schema(spec):
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message"}
    assert error["properties"]["code"]["type"] == "integer" and error["properties"]["message"]["type"] == "string"
    assert "errors" in error["properties"]
    responses = spec["components"]["responses"]
    for name in ("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", HTTPStatus(422).name, "DEFAULT_ERROR"):
        assert responses[name]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    documented = {
        path: set(spec["paths"][path]["get"]["responses"]) for path in PATHS
    }
    assert {"401", "422", "default"} <= documented["/api/v1/products"]
    assert {"401", "404", "default"} <= documented["/api/v1/products/{product_id}"]
    assert {"401", "403", "404", "default"} <= documented["/api/v1/requests/{request_id}/matches"]


def test_money_is_a_string_with_a_two_decimal_pattern(spec):
    product = spec["components"]["schemas"]["Product"]["properties"]
    for key in ("amount_min", "amount_max", "rate_min", "rate_max"):
        assert product[key]["type"] == "string"
        assert product[key]["pattern"] == r"^-?\d+\.\d{2}$"
    assert product["published_at"]["format"] == "date-time"


def test_tags_are_the_readable_group_names(spec):
    assert [t["name"] for t in spec["tags"]] == ["products", "requests", "desk", "credit"]


def test_the_desk_endpoints_need_a_token_and_document_their_errors_and_bodies(spec):
    assert {p for p in spec["paths"] if p.startswith(DESK)} == DESK_PATHS
    for path in DESK_PATHS:
        for method, operation in spec["paths"][path].items():
            if method == "parameters":
                continue
            assert operation["security"] == [{"bearerAuth": []}] and operation["tags"] == ["desk"], path
            assert {"401", "403", "default"} <= set(operation["responses"]), path
            if "{request_id}" in path:
                assert "404" in operation["responses"], path
            if "requestBody" in operation:
                assert operation["requestBody"]["required"] is True, path
                assert {"400", "422"} <= set(operation["responses"]), path
    document = spec["paths"][DESK + "/{request_id}/documents/{document_id}"]["get"]["responses"]["200"]
    assert set(document["content"]) == {"application/pdf", "image/jpeg", "image/png"}
    claim = spec["paths"][DESK + "/{request_id}/claim"]["post"]["responses"]
    assert {"201", "409", "422"} <= set(claim)
    offer = spec["components"]["schemas"]["OfferArgs"]
    assert offer["properties"]["amount"]["type"] == "string" and offer["additionalProperties"] is False
    assert offer["properties"]["amount"]["pattern"] == r"^[0-9]{1,16}\.[0-9]{2}$"
    assert spec["components"]["schemas"]["Offer"]["properties"]["amount"]["pattern"] == r"^-?\d+\.\d{2}$"


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def test_the_docs_page_loads_only_local_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    parser = _Assets()
    parser.feed(page.get_data(as_text=True))
    assert any(u.endswith("swagger-ui-bundle.js") for u in parser.urls)
    assert any(u.endswith("swagger-ui.css") for u in parser.urls)
    for url in parser.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, url
    script = client.get(next(u for u in parser.urls if u.endswith("docs.js"))).get_data(as_text=True)
    assert "validatorUrl: null" in script  # Swagger UI would otherwise call an online validator
    assert not re.search(r"https?://", script)


def test_the_docs_page_serves_no_other_package_file(client):
    assert client.get("/api/v1/docs/swagger-ui/index.html").status_code == 404
    assert client.get("/api/v1/docs/swagger-ui/..%2F..%2F__init__.py").status_code == 404


def test_schemathesis_finds_no_server_error_and_no_schema_violation_on_public_endpoints(app, catalogue):
    """Generated requests to the public endpoints: never a 5xx; every response as documented."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).include(path_regex=r"^/api/v1/products")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {"/api/v1/products", "/api/v1/products/{product_id}"}
    calls = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
        def run(case):
            response = case.call_and_validate(headers={"Accept-Encoding": "identity"})  # no gzip over WSGI
            assert response.status_code < 500
            calls.append(response.status_code)

        run()
    assert 200 in calls
