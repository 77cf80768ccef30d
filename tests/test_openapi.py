"""The reference server's OpenAPI 3.1 document (negotiate.server.openapi).

The document validates (openapi-spec-validator), describes what the server
does (its examples decode with the server's own codecs and validate against
its schemas; every media type, parameter, security scheme and error status is
there), is served without credentials, and schemathesis, generating requests
from it, finds the live server (uvicorn on loopback, a Bearer token) keeping to
it: no 5xx, every answer in a documented media type and, for JSON, matching
its schema.
"""

from __future__ import annotations

import gzip
from datetime import timedelta
from typing import Any

import httpx
import jsonschema
import orjson
import pytest
import schemathesis
from helpers import CONTACT, REGISTRY, UvicornThread, bearer
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from negotiate.asgi import ASGIAdapter
from negotiate.http import App
from negotiate.server import ServerConfig, create_app
from negotiate.server.openapi import (
    EXAMPLE_ENRICH_ID,
    OPENAPI_PATH,
    openapi_document,
    sample_contact,
)
from negotiate.server.operations import enrich_operations
from negotiate.superoffice import ENRICH_PATH, PREVIEW_PATH

DOCUMENT = create_app(ServerConfig(insecure_no_auth=True)).handle("GET", OPENAPI_PATH, b"", {}, b"")
SPEC: dict[str, Any] = orjson.loads(DOCUMENT.body)
OPERATIONS = [(ENRICH_PATH, "post"), (PREVIEW_PATH, "post")]
# the examples' EnrichId: one the embedded provider knows, so that examples get answers
ENRICH_ID = SPEC["paths"][PREVIEW_PATH]["post"]["requestBody"]["content"]["application/json"][
    "example"
]["EnrichId"]
ERROR_STATUSES = [
    "400",
    "401",
    "404",
    "406",
    "409",
    "413",
    "415",
    "422",
    "500",
    "502",
    "503",
    "504",
]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """A media type's schema as a standalone JSON Schema (the components as $defs)."""
    text = orjson.dumps(schema).replace(b"#/components/schemas/", b"#/$defs/")
    defs = orjson.dumps(SPEC["components"]["schemas"]).replace(
        b"#/components/schemas/", b"#/$defs/"
    )
    return {**orjson.loads(text), "$defs": orjson.loads(defs)}


def test_the_document_validates() -> None:
    validate(SPEC)
    assert SPEC["openapi"] == "3.1.0"


def test_both_operations_are_there() -> None:
    assert sorted(SPEC["paths"]) == sorted([ENRICH_PATH, PREVIEW_PATH])
    for path, method in OPERATIONS:
        assert set(SPEC["paths"][path]) == {method}


def test_it_is_generated_from_the_operations() -> None:
    # the served document is the generator's output for the server's operations
    provider = ServerConfig(insecure_no_auth=True).provider()
    assert ENRICH_ID in provider.ids(10, country="NO") and ENRICH_ID != EXAMPLE_ENRICH_ID
    operations = enrich_operations(provider)
    assert openapi_document(operations, enrich_id=ENRICH_ID) == SPEC
    assert openapi_document(operations[1:])["paths"].keys() == {PREVIEW_PATH}
    assert '"NO-923609016"' in orjson.dumps(openapi_document(operations)).decode()


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_media_type_has_a_schema_and_an_example(path: str, method: str) -> None:
    operation = SPEC["paths"][path][method]
    request = operation["requestBody"]["content"]
    response = operation["responses"]["200"]["content"]
    assert list(request) == list(REGISTRY.request_types)
    assert list(response) == list(REGISTRY.response_types)
    for entry in [*request.values(), *response.values()]:
        assert entry["schema"] and "example" in entry


def _decoded(media_type: str, example: Any, schema: Any) -> Any:
    raw = orjson.dumps(example) if not isinstance(example, str) else example.encode()
    codec, parsed = REGISTRY.for_content_type(media_type)
    return codec.decode(raw, schema, media_type=parsed, base=schema.default())


def test_the_examples_are_the_sample_in_each_media_type() -> None:
    contact = CONTACT.normalize(sample_contact())
    enrich = SPEC["paths"][ENRICH_PATH]["post"]
    request_schema = enrich_operations(ServerConfig(insecure_no_auth=True).provider())[0].request
    assert request_schema is not None
    for media_type, entry in enrich["requestBody"]["content"].items():
        value = _decoded(media_type, entry["example"], request_schema)
        assert value == {"ContactEntity": contact, "EnrichId": ENRICH_ID}, media_type
    for media_type, entry in enrich["responses"]["200"]["content"].items():
        assert _decoded(media_type, entry["example"], CONTACT) == contact, media_type


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_json_examples_validate_against_their_schemas(path: str, method: str) -> None:
    operation = SPEC["paths"][path][method]
    contents = [operation["requestBody"]["content"], operation["responses"]["200"]["content"]]
    checked = 0
    for content in contents:
        for media_type, entry in content.items():
            if media_type.endswith("json"):
                jsonschema.validate(entry["example"], _resolve(entry["schema"]))
                checked += 1
    assert checked >= 6


def test_parameters_and_security() -> None:
    for path, method in OPERATIONS:
        operation = SPEC["paths"][path][method]
        names = {(p["in"], p["name"]) for p in operation["parameters"]}
        assert ("query", "$select") in names
        for header in (
            "SO-TimeZone",
            "SO-Language",
            "SO-Culture",
            "SO-AppToken",
            "Accept",
            "Accept-Encoding",
            "Accept-Language",
        ):
            assert ("header", header) in names, header
    schemes = SPEC["components"]["securitySchemes"]
    assert schemes["Basic"] == {"type": "http", "scheme": "basic"}
    assert schemes["Bearer"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SOTicket"]["scheme"] == "SOTicket"
    assert SPEC["security"] == [{"Basic": []}, {"Bearer": []}, {"SOTicket": []}]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_error_status_has_the_agent_error_schema(path: str, method: str) -> None:
    responses = SPEC["paths"][path][method]["responses"]
    assert sorted(responses) == sorted(["200", *ERROR_STATUSES])
    for status in ERROR_STATUSES:
        content = responses[status]["content"]
        assert "application/json" in content
        for entry in content.values():
            assert entry["schema"] == {"$ref": "#/components/schemas/AgentError"}


def test_a_real_error_matches_the_agent_error_schema() -> None:
    app = create_app(ServerConfig(insecure_no_auth=True))
    response = app.handle("POST", ENRICH_PATH, b"", {"Content-Type": "application/json"}, b"{")
    assert response.status == 400
    error = SPEC["paths"][ENRICH_PATH]["post"]["responses"]["400"]["content"]["application/json"]
    jsonschema.validate(orjson.loads(response.body), _resolve(error["schema"]))


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "detail"),
    [
        ("PUT", ENRICH_PATH, {}, b"", "Allowed"),
        ("POST", ENRICH_PATH, {"Content-Type": "text/plain"}, b"x", "Supported"),
        ("POST", ENRICH_PATH, {"Content-Encoding": "compress"}, b"{}", "Supported"),
        ("POST", ENRICH_PATH, {"Content-Length": "99999999999"}, b"", "Limit"),
        ("POST", ENRICH_PATH + "?$select=Nmae", {}, b"{}", "Suggestions"),
        ("POST", ENRICH_PATH, {"Accept": "image/png"}, b"{}", "Supported"),
    ],
)
def test_every_detail_an_error_carries_matches_the_agent_error_schema(
    method: str, path: str, headers: dict[str, str], body: bytes, detail: str
) -> None:
    """What ``to_dict`` writes (the four keys and the details) is what the schema says."""
    app = create_app(ServerConfig(insecure_no_auth=True))
    path, _, query = path.partition("?")
    response = app.handle(
        method, path, query, {"Content-Type": "application/json", **headers}, body
    )
    assert response.status >= 400
    error = orjson.loads(response.body)
    assert detail in error
    schema = SPEC["components"]["schemas"]["AgentError"]
    assert set(schema["required"]) == {"Message", "MessageDetail", "Status", "Location"}
    assert detail in schema["properties"]
    jsonschema.validate(error, schema)


def test_the_fastapi_integration_shares_the_error_and_patch_schemas() -> None:
    from negotiate.integrations.fastapi import Negotiation
    from negotiate.schema import get_schema

    extra = Negotiation(get_schema("EnrichContactEntityRequest"), CONTACT).openapi()
    for name in ("AgentError", "JsonPatch"):
        assert extra.components[name] == SPEC["components"]["schemas"][name]
    served = {p["name"]: p for p in SPEC["paths"][ENRICH_PATH]["post"]["parameters"]}
    for parameter in extra["parameters"]:
        assert served[parameter["name"]] == parameter


# -- served, over real HTTP ------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(app: App) -> Any:
    """The reference app (with credentials) under uvicorn."""
    with UvicornThread(ASGIAdapter(app)) as server:
        yield server


def test_served_without_credentials(live: UvicornThread) -> None:
    response = httpx.get(live.url + OPENAPI_PATH, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == SPEC
    # other routes still want credentials
    assert httpx.post(live.url + ENRICH_PATH, json={}).status_code == 401


def test_served_compressed(live: UvicornThread) -> None:
    # what `curl --compressed` does: ask for gzip, get fewer bytes
    with httpx.stream("GET", live.url + OPENAPI_PATH, headers={"Accept-Encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in r.headers["vary"]
    assert len(raw) < len(DOCUMENT.body) / 4
    assert orjson.loads(gzip.decompress(raw)) == SPEC


# -- schemathesis against the live server ----------------------------------------------------

# NOTE: the explicit examples and 30 generated cases per operation (max_examples bounds
# only the fuzzing phase); the coverage phase, hundreds of boundary cases per
# operation whatever max_examples says, would take minutes on the big carriers.
SCHEMA = schemathesis.openapi.from_dict(
    SPEC,
    config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}}),
)
SEEN: dict[str, set[int]] = {}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@SCHEMA.parametrize()
@settings(
    max_examples=30,
    deadline=timedelta(seconds=10),
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_schemathesis(case: schemathesis.Case, live: UvicornThread) -> None:
    response = case.call_and_validate(
        base_url=live.url, headers=bearer(), checks=CHECKS, timeout=30
    )
    SEEN.setdefault(case.operation.path, set()).add(response.status_code)


def test_schemathesis_reached_the_handlers() -> None:
    # a check of the check: generated requests got past auth and decoding to answers
    if not SEEN:
        pytest.skip("the schemathesis tests did not run in this session")
    for path in (ENRICH_PATH, PREVIEW_PATH):
        assert SEEN[path] - {401}, path
        assert 200 in SEEN[path], (path, SEEN[path])
