"""negotiate.integrations.fastapi with FastAPI's and Starlette's own test client, and uvicorn.

The house route is EnrichContactEntity over the embedded provider, served twice:
by FastAPI through the integration, and by the core (:class:`negotiate.http.App`)
with the same handler. For every request and response type, q-values, ``$select``,
``SO-TimeZone`` and every refusal, the two answer the same status, Content-Type,
Vary and bytes; the answers are also checked on their own (the enriched contact,
the agent error shape and its location). The OpenAPI document is validated, and
the README's two apps run here with the test client.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import httpx
import orjson
import pytest
from _shared import (
    BOMB_LIMIT,
    CODINGS,
    READABLE,
    SHAPINGS,
    UNKNOWN_CODINGS,
    bounded,
    coded,
    gzip_bomb,
    peak_memory,
)
from fastapi import Depends, FastAPI, Request
from helpers import CONTACT, SAMPLE, UvicornThread
from openapi_spec_validator import validate as validate_openapi
from starlette.applications import Starlette
from starlette.routing import Route

from negotiate.auth import ANONYMOUS
from negotiate.codecs import default_registry
from negotiate.enrich import EmbeddedProvider, enrich_contact
from negotiate.errors import InvalidValue, NegotiateError, NotFound, excerpt
from negotiate.http import App, Context, Operation
from negotiate.integrations.fastapi import (
    NegotiatedResponse,
    Negotiation,
    OpenAPIExtra,
    exception_handler,
    install,
)
from negotiate.options import Options
from negotiate.schema import get_schema, schema_of
from negotiate.shaping import Shaping

with warnings.catch_warnings():
    # NOTE: Starlette's test client warns, on import, that it prefers httpx2 to httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent.parent
PATH = "/api/v1/Agents/Contact/EnrichContactEntity"
WRAPPER = get_schema("EnrichContactEntityRequest")
REGISTRY = default_registry()
REQUEST_TYPES = REGISTRY.request_types
RESPONSE_TYPES = REGISTRY.response_types
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json")
DOCUMENT_RESPONSE_TYPES = [t for t in RESPONSE_TYPES if t not in PATCH_TYPES]
PROVIDER = EmbeddedProvider()
ENRICH_ID = PROVIDER.ids(1, country="NO")[0]
AGENT_SHAPE = {"Message", "MessageDetail", "Status", "Location"}


def _sample() -> dict[str, Any]:
    return CONTACT.normalize(orjson.loads(SAMPLE.read_bytes()))


def _enrich(value: dict[str, Any]) -> dict[str, Any]:
    """The house handler, the same for both servers."""
    enrich_id = value["EnrichId"]
    if not enrich_id:
        raise InvalidValue("EnrichId is required", location="/EnrichId")
    company = PROVIDER.lookup(enrich_id)
    if company is None:
        raise NotFound(f"No company {excerpt(enrich_id)}", location="/EnrichId")
    return enrich_contact(value["ContactEntity"], company)


def _sent(value: dict[str, Any]) -> dict[str, Any]:
    contact: dict[str, Any] | None = value["ContactEntity"]
    return contact if contact is not None else CONTACT.default()


CALLS: list[str] = []
ENRICH = Negotiation(WRAPPER, CONTACT, response_base=_sent)
SMALL = Negotiation(WRAPPER, CONTACT, options=Options(max_body=1000))
OFFLOADED = Negotiation(WRAPPER, CONTACT, response_base=_sent, offload_above=0)
CONTACTS: dict[int, dict[str, Any]] = {}


def _stored(request: Request) -> dict[str, Any]:
    found = CONTACTS.get(int(request.path_params["id"]))
    if found is None:
        raise NotFound("No such contact", location="id")
    return found


STORED = Negotiation(CONTACT, CONTACT, request_base=_stored)

api = FastAPI(title="house")
install(api)


@api.post(PATH, openapi_extra=ENRICH.openapi())
async def enrich_route(
    value: Annotated[dict[str, Any], Depends(ENRICH.body)],
) -> NegotiatedResponse:
    CALLS.append("enrich")
    return NegotiatedResponse(_enrich(value))


@api.post("/small")
async def small_route(value: Annotated[dict[str, Any], Depends(SMALL.body)]) -> NegotiatedResponse:
    return NegotiatedResponse(_enrich(value))


@api.post("/offloaded")
def offloaded_route(
    value: Annotated[dict[str, Any], Depends(OFFLOADED.body)],
) -> NegotiatedResponse:
    return NegotiatedResponse(_enrich(value))


@api.post("/class", response_class=NegotiatedResponse)
async def class_route(value: Annotated[dict[str, Any], Depends(ENRICH.body)]) -> Any:
    return _enrich(value)  # FastAPI hands the carrier to NegotiatedResponse


@api.get("/contacts/{id}", openapi_extra=STORED.openapi(body=False))
async def get_contact(
    id: int, plan: Annotated[Any, Depends(STORED.negotiate)]
) -> NegotiatedResponse:
    CALLS.append("get")
    found = CONTACTS.get(id)
    if found is None:
        raise NotFound("No such contact", location="id")
    return NegotiatedResponse(found, headers={"Vary": "Origin", "Cache-Control": "no-store"})


@api.patch("/contacts/{id}", openapi_extra=STORED.openapi())
async def patch_contact(
    id: int, value: Annotated[dict[str, Any], Depends(STORED.body)]
) -> NegotiatedResponse:
    CONTACTS[id] = value
    return NegotiatedResponse(value, status_code=201)


@api.delete("/contacts/{id}")
async def delete_contact(id: int, plan: Annotated[Any, Depends(STORED.negotiate)]) -> Any:
    return NegotiatedResponse(CONTACTS.pop(id, None), status_code=204)


@api.post("/plain")
async def plain_route(request: Request) -> NegotiatedResponse:
    return NegotiatedResponse({"echo": (await request.body()).decode()})


def _core_enrich(value: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return _enrich(value)


# NOTE: the integration leaves content codings to the framework (GZipMiddleware and the
# like), so the core it is compared with answers without them too.
CORE = App(
    [Operation(PATH, _core_enrich, WRAPPER, CONTACT, response_base=_sent)],
    authenticator=ANONYMOUS,
    codings=False,
)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(api) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _fresh() -> None:
    CALLS.clear()
    CONTACTS.clear()
    CONTACTS[7] = _sample()


def _wrapper(contact: Any = None, enrich_id: str = ENRICH_ID) -> dict[str, Any]:
    return WRAPPER.normalize({"ContactEntity": contact, "EnrichId": enrich_id})


def _encoded(media_type: str, wrapper: dict[str, Any]) -> bytes:
    """The wrapper in a request type (a patch type: the patch from the default wrapper)."""
    return REGISTRY.codec(media_type).encode(wrapper, WRAPPER, base=WRAPPER.default())


def _decoded(response: httpx.Response, base: Any = None) -> Any:
    codec, parsed = REGISTRY.for_content_type(response.headers["content-type"])
    return codec.decode(response.content, CONTACT, media_type=parsed, base=base)


def _error(response: httpx.Response) -> dict[str, Any]:
    """An error body's fields, whichever type it is in (XML's <Error> unwrapped)."""
    codec, parsed = REGISTRY.for_content_type(response.headers["content-type"])
    data = codec.decode(response.content, None, media_type=parsed)
    if set(data) == {"Error"}:
        data = data["Error"]
    return dict(data)


def _same_as_core(
    client: TestClient, body: bytes, headers: dict[str, str], query: str = ""
) -> httpx.Response:
    """POST to the FastAPI route; assert the core answers the same; return the answer."""
    answer = client.post(PATH + (f"?{query}" if query else ""), content=body, headers=headers)
    core = CORE.handle("POST", PATH, query, headers, body)
    assert answer.status_code == core.status, answer.text
    assert answer.headers["content-type"] == core.header("content-type")
    assert answer.headers["vary"] == core.header("vary")
    assert answer.headers.get("content-language") == core.header("content-language")
    assert answer.headers.get("accept-post") == core.header("accept-post")
    assert answer.content == core.body
    return answer


# -- every request type, every response type ------------------------------------------


@pytest.mark.parametrize("media_type", REQUEST_TYPES)
def test_every_request_type_decodes_to_the_carrier(client: TestClient, media_type: str) -> None:
    sample = _sample()
    headers = {"Content-Type": media_type, "Accept": "application/json"}
    answer = _same_as_core(client, _encoded(media_type, _wrapper(sample)), headers)
    assert answer.status_code == 200
    assert answer.json() == _enrich(_wrapper(sample))
    assert CALLS == ["enrich"]


@pytest.mark.parametrize("media_type", RESPONSE_TYPES)
def test_every_response_type_is_written(client: TestClient, media_type: str) -> None:
    sample = _sample()
    body = orjson.dumps(_wrapper(sample))
    headers = {"Content-Type": "application/json", "Accept": media_type}
    answer = _same_as_core(client, body, headers)
    assert answer.headers["content-type"].split(";")[0] == media_type
    # a patch type is the diff from what was sent; applied to it, it is the contact
    assert _decoded(answer, base=sample) == _enrich(_wrapper(sample))


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json;q=0.5, application/xml", "application/xml"),
        ("application/xml;q=0.4, text/json;q=0.9", "text/json"),
        ("*/*", "application/json"),
        ("text/*;q=0.3, application/merge-patch+json;q=0.2", "text/json"),
    ],
)
def test_q_values_choose_the_type(client: TestClient, accept: str, expected: str) -> None:
    body = orjson.dumps(_wrapper())
    answer = _same_as_core(client, body, {"Content-Type": "application/json", "Accept": accept})
    assert answer.headers["content-type"].split(";")[0] == expected


def test_select_and_so_timezone(client: TestClient) -> None:
    sample = _sample()
    body = orjson.dumps(_wrapper(sample))
    zone = {"SO-TimeZone": "America/New_York, includeTZOffset"}
    headers = {"Content-Type": "application/json", **zone}
    answer = _same_as_core(client, body, headers, "%24select=Name,DbiLastModified,Phones/Value")
    expected = _enrich(_wrapper(sample))
    shaped = Shaping.from_headers(zone).apply(CONTACT, expected)
    got = answer.json()
    assert got["Name"] == expected["Name"]
    assert [p["Value"] for p in got["Phones"]] == [p["Value"] for p in expected["Phones"]]
    assert all(p["Description"] is None for p in got["Phones"])
    assert got["Address"] is None and got["ContactId"] == 0  # not selected
    assert got["DbiLastModified"] == shaped["DbiLastModified"] == "2019-07-11T05:24:47.8282933-0400"
    assert expected["DbiLastModified"] == "2019-07-11T11:24:47.8282933+02:00"


@pytest.mark.parametrize("shaping", SHAPINGS, ids=lambda h: ",".join(h) or "none")
@pytest.mark.parametrize("accept", ["application/json", "text/xml"])
def test_vary_names_the_shaping_headers_read_as_the_core_does(
    client: TestClient, shaping: dict[str, str], accept: str
) -> None:
    body = orjson.dumps(_wrapper(_sample()))
    headers = {"Content-Type": "application/json", "Accept": accept, **shaping}
    answer = _same_as_core(client, body, headers)
    assert answer.status_code == 200
    assert answer.headers["vary"].startswith("Accept")


def test_an_endpoints_own_vary_is_merged_with_the_shaping_headers(client: TestClient) -> None:
    headers = {"Accept": "text/xml", "SO-Language": "nb", "SO-TimeZone": "UTC"}
    answer = client.get("/contacts/7", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["vary"] == "Origin, Accept, SO-TimeZone, SO-Language, Accept-Language"
    assert answer.headers["content-language"] == "nb"


def test_select_applies_on_a_route_without_a_body(client: TestClient) -> None:
    answer = client.get("/contacts/7?$select=Name", headers={"Accept": "text/xml"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/xml; charset=utf-8"
    got = _decoded(answer)
    assert got["Name"] == _sample()["Name"] and got["Phones"] is None
    # an endpoint's own Vary keeps its names; its other headers stay
    assert answer.headers["vary"] == "Origin, Accept, SO-TimeZone, SO-Language, Accept-Language"
    assert answer.headers["cache-control"] == "no-store"


# -- refusals, in the agent shape ------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "status", "location"),
    [
        ("application/json", b'{"EnrichId": ', 400, ""),
        ("application/json", b'{"EnrichId": 42}', 400, "/EnrichId"),
        (
            "application/json",
            b'{"ContactEntity": {"ContactId": "x"}}',
            400,
            "/ContactEntity/ContactId",
        ),
        ("application/xml", b"<EnrichContactEntityRequest><EnrichId>x</Enrich", 400, ""),
        (
            "application/xml",
            b"<EnrichContactEntityRequest><ContactEntity><ContactId>x</ContactId>"
            b"</ContactEntity></EnrichContactEntityRequest>",
            400,
            "/EnrichContactEntityRequest/ContactEntity/ContactId",
        ),
        (
            "application/x-www-form-urlencoded",
            b"ContactEntity.ContactId=x",
            400,
            "ContactEntity.ContactId",
        ),
        ("application/json-patch+json", b'[{"op": "jump", "path": "/EnrichId"}]', 400, "/0/op"),
        (
            "application/json-patch+json",
            b'[{"op": "test", "path": "/EnrichId", "value": "x"}]',
            409,
            "/0/path",
        ),
        (
            "application/json-patch+json",
            b'[{"op": "replace", "path": "/EnrichId", "value": 5}]',
            422,
            "/EnrichId",
        ),
        (
            "application/merge-patch+json",
            b'{"ContactEntity": {"ContactId": "x"}}',
            422,
            "/ContactEntity/ContactId",
        ),
        ("text/plain", b"hello", 415, ""),
        ("application/json; charset=latin-9", b"{}", 415, ""),
    ],
)
def test_bad_bodies_are_refused_before_the_endpoint(
    client: TestClient, content_type: str, body: bytes, status: int, location: str
) -> None:
    for accept in ("application/json", "application/xml", "application/merge-patch+json"):
        answer = _same_as_core(client, body, {"Content-Type": content_type, "Accept": accept})
        assert answer.status_code == status
        error = _error(answer)
        assert AGENT_SHAPE <= set(error)
        assert int(error["Status"]) == status
        assert (error["Location"] or "") == location, error
        # an error is never a patch: JSON then
        expected = "application/json" if accept in PATCH_TYPES else accept
        assert answer.headers["content-type"].split(";")[0] == expected
    assert CALLS == []


def test_a_415_lists_the_request_types(client: TestClient) -> None:
    answer = _same_as_core(client, b"x", {"Content-Type": "image/png"})
    assert answer.status_code == 415
    assert answer.headers["accept-post"] == ", ".join(REQUEST_TYPES)
    assert _error(answer)["Supported"] == list(REQUEST_TYPES)


@pytest.mark.parametrize(
    "accept", ["image/png", "application/json;q=0", "application/xml;q=x, */*;q=0"]
)
def test_406_in_json_before_the_body(client: TestClient, accept: str) -> None:
    answer = _same_as_core(
        client, b"not even json", {"Content-Type": "application/json", "Accept": accept}
    )
    assert answer.status_code == 406
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert _error(answer)["Supported"] == list(RESPONSE_TYPES)
    assert CALLS == []


@pytest.mark.parametrize(
    ("query", "headers", "location"),
    [
        ("$select=Nmae", {}, "$select"),
        ("$select=Name", {"SO-TimeZone": "Mars/Olympus"}, "SO-TimeZone"),
        ("", {"SO-Language": "not a tag!"}, "SO-Language"),
    ],
)
def test_a_bad_select_or_shaping_header_is_400(
    client: TestClient, query: str, headers: dict[str, str], location: str
) -> None:
    body = orjson.dumps(_wrapper())
    answer = _same_as_core(
        client, body, {"Content-Type": "application/json", "Accept": "text/xml", **headers}, query
    )
    assert answer.status_code == 400
    assert _error(answer)["Location"] == location
    # $select is refused before the endpoint runs; a shaping header once it has answered
    assert CALLS == ([] if location == "$select" else ["enrich"])


def test_a_handler_error_is_in_the_negotiated_type(client: TestClient) -> None:
    body = orjson.dumps(_wrapper(enrich_id="NO-000000000"))
    answer = _same_as_core(
        client, body, {"Content-Type": "application/json", "Accept": "application/xml"}
    )
    assert answer.status_code == 404
    assert answer.text.startswith("<Error><Message>Not Found</Message>")
    assert _error(answer)["Location"] == "/EnrichId"


def test_413_by_content_length_and_by_the_streamed_body(client: TestClient) -> None:
    big = orjson.dumps(_wrapper(_sample()))
    assert len(big) > 1000
    answer = client.post(
        "/small", content=big, headers={"Content-Type": "application/json", "Accept": "text/xml"}
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "text/xml; charset=utf-8"
    assert int(_error(answer)["Status"]) == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        yield big[:600]
        yield big[600:]

    answer = client.post("/small", content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert "over the limit of 1000" in _error(answer)["MessageDetail"]
    answer = client.post(
        "/small",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": "x2"},
    )
    assert answer.status_code == 400


# -- the other ways in and out ---------------------------------------------------------


def test_a_patch_applies_to_the_request_base(client: TestClient) -> None:
    patch = b'[{"op": "replace", "path": "/Name", "value": "Fjordlys AS"}]'
    answer = client.patch(
        "/contacts/7",
        content=patch,
        headers={"Content-Type": "application/json-patch+json", "Accept": "application/xml"},
    )
    assert answer.status_code == 201
    assert _decoded(answer) == {**_sample(), "Name": "Fjordlys AS"}
    answer = client.patch(
        "/contacts/8", content=b"{}", headers={"Content-Type": "application/merge-patch+json"}
    )
    assert answer.status_code == 404  # the base's own error, before the body is decoded
    assert _error(answer)["Location"] == "id"


def test_a_body_over_the_offload_size_runs_in_the_thread_pool(client: TestClient) -> None:
    sample = _sample()
    for accept in ("application/xml", "application/json-patch+json"):
        answer = client.post(
            "/offloaded",
            content=orjson.dumps(_wrapper(sample)),
            headers={"Content-Type": "application/json", "Accept": accept},
        )
        assert answer.status_code == 200
        assert _decoded(answer, base=sample) == _enrich(_wrapper(sample))


def test_response_class_takes_the_returned_carrier(client: TestClient) -> None:
    body = orjson.dumps(_wrapper(_sample()))
    answer = client.post(
        "/class?$select=Name",
        content=body,
        headers={"Content-Type": "application/json", "Accept": "text/json"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/json; charset=utf-8"
    assert answer.json() == CONTACT.normalize({"Name": _sample()["Name"]})


def test_no_body_for_a_204(client: TestClient) -> None:
    answer = client.delete("/contacts/7", headers={"Accept": "application/xml"})
    assert answer.status_code == 204
    assert answer.content == b""
    assert "content-length" not in answer.headers and "content-type" not in answer.headers
    assert answer.headers["vary"] == "Accept, SO-TimeZone, SO-Language, Accept-Language"


def test_a_response_no_dependency_planned_is_plain_data(client: TestClient) -> None:
    answer = client.post(
        "/plain", content=b"hi", headers={"Accept": "application/xml;q=0.9, text/json;q=0.1"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/xml; charset=utf-8"
    assert answer.headers["vary"] == "Accept"
    answer = client.post("/plain?$select=echo", content=b"hi")
    assert answer.status_code == 400
    assert _error(answer)["Location"] == "$select"
    answer = client.post("/plain", content=b"hi", headers={"Accept": "image/png"})
    assert answer.status_code == 406


def test_under_uvicorn() -> None:
    sample = _sample()
    with UvicornThread(api) as server, httpx.Client(base_url=server.url) as http:
        answer = http.post(
            PATH + "?$select=Name,Emails",
            content=_encoded("application/xml", _wrapper(sample)),
            headers={
                "Content-Type": "application/xml",
                "Accept": "application/json;q=0.5, text/xml",
                "Accept-Language": "nb",
            },
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/xml; charset=utf-8"
        assert answer.headers["vary"] == "Accept, SO-TimeZone, SO-Language, Accept-Language"
        assert answer.headers["content-language"] == "nb"
        expected = _enrich(_wrapper(sample))
        got = _decoded(answer)
        assert (got["Name"], got["Emails"]) == (expected["Name"], expected["Emails"])
        answer = http.post(
            PATH, content=b'{"EnrichId": 5}', headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400
        assert _error(answer)["Location"] == "/EnrichId"
        assert http.get("/docs").status_code == 200
        document = http.get("/openapi.json").json()
        assert "ContactEntity" in document["components"]["schemas"]


# -- OpenAPI -----------------------------------------------------------------------------


def test_the_openapi_document_lists_types_schemas_and_parameters() -> None:
    document = api.openapi()
    validate_openapi(document)
    operation = document["paths"][PATH]["post"]
    request = operation["requestBody"]["content"]
    assert list(request) == list(REQUEST_TYPES)
    assert request["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EnrichContactEntityRequest"
    }
    assert request["application/json-patch+json"]["schema"] == {
        "$ref": "#/components/schemas/JsonPatch"
    }
    ok = operation["responses"]["200"]
    assert list(ok["content"]) == list(RESPONSE_TYPES)
    assert ok["content"]["text/xml"]["schema"] == {"$ref": "#/components/schemas/ContactEntity"}
    assert "Vary" in ok["headers"]
    for status in ("400", "406", "409", "413", "415", "422"):
        content = operation["responses"][status]["content"]
        assert list(content) == DOCUMENT_RESPONSE_TYPES
        assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/AgentError"}
    parameters = {(p["in"], p["name"]) for p in operation["parameters"]}
    assert {
        ("query", "$select"),
        ("header", "SO-TimeZone"),
        ("header", "SO-Language"),
        ("header", "Accept-Language"),
        ("header", "SO-Culture"),
    } <= parameters
    schemas = document["components"]["schemas"]
    assert {
        "EnrichContactEntityRequest",
        "ContactEntity",
        "Address",
        "AgentError",
        "JsonPatch",
    } <= set(schemas)
    assert schemas["ContactEntity"]["properties"]["ContactId"]["format"] == "int32"
    # the GET route: no request body, the same parameters, FastAPI's own path parameter kept
    get = document["paths"]["/contacts/{id}"]["get"]
    assert "requestBody" not in get
    assert ("path", "id") in {(p["in"], p["name"]) for p in get["parameters"]}
    assert ("query", "$select") in {(p["in"], p["name"]) for p in get["parameters"]}
    assert api.openapi() is document  # cached, as FastAPI caches it


def test_our_answers_validate_against_the_documented_schema(client: TestClient) -> None:
    from jsonschema import Draft202012Validator

    document = api.openapi()
    schemas = document["components"]["schemas"]
    validator = Draft202012Validator(
        {"$ref": "#/components/schemas/ContactEntity", "components": {"schemas": schemas}}
    )
    answer = client.post(
        PATH,
        content=orjson.dumps(_wrapper(_sample())),
        headers={"Content-Type": "application/json"},
    )
    validator.validate(answer.json())
    error = Draft202012Validator(
        {"$ref": "#/components/schemas/AgentError", "components": {"schemas": schemas}}
    )
    error.validate(
        client.post(PATH, content=b"{", headers={"Content-Type": "application/json"}).json()
    )


def test_two_different_schemas_of_one_name_are_refused() -> None:
    app = FastAPI()
    install(app)

    async def one() -> None: ...

    app.post("/a", openapi_extra=OpenAPIExtra({"X": {"type": "string"}}))(one)
    app.post("/b", openapi_extra=OpenAPIExtra({"X": {"type": "integer"}}))(one)
    with pytest.raises(ValueError, match="'X'"):
        app.openapi()


def test_one_routes_request_and_response_may_not_name_two_carriers_alike() -> None:
    # Two user carriers named Address (functional TypedDicts, so one module holds both),
    # one in the request's graph and one in the response's: each graph alone names it
    # plainly, so the route's components would hold one under a name both refer to.
    mine = TypedDict("Address", {"Street": str | None})  # type: ignore[misc]  # noqa: UP013
    theirs = TypedDict("Address", {"Zip": int})  # type: ignore[misc]  # noqa: UP013
    request = TypedDict("Order", {"Ship": mine | None})  # type: ignore[misc, valid-type]  # noqa: UP013
    response = TypedDict("Invoice", {"Bill": theirs | None})  # type: ignore[misc, valid-type]  # noqa: UP013
    negotiation = Negotiation(schema_of(request), schema_of(response))
    with pytest.raises(ValueError, match="'Address'"):
        negotiation.openapi()
    # one graph each, or the same carrier on both sides, is fine
    assert "Address" in Negotiation(schema_of(request), schema_of(request)).openapi().components


# -- Starlette alone, and the README -----------------------------------------------------


def test_a_starlette_app_uses_the_same_pieces() -> None:
    async def update(request: Request) -> NegotiatedResponse:
        value = await STORED.body(request)
        CONTACTS[request.path_params["id"]] = value
        return NegotiatedResponse(value)

    app = Starlette(
        routes=[Route("/contacts/{id:int}", update, methods=["PUT", "PATCH"])],
        exception_handlers={NegotiateError: exception_handler},
    )
    with TestClient(app) as test:
        answer = test.patch(
            "/contacts/7?$select=Name",
            content=b'{"Name": "Nordvik Bygg AS"}',
            headers={
                "Content-Type": "application/merge-patch+json",
                "Accept": "application/merge-patch+json",
            },
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/merge-patch+json; charset=utf-8"
        # a patch answer without a response base is the diff from the default
        assert _decoded(answer, base=CONTACT.default()) == CONTACT.normalize(
            {"Name": "Nordvik Bygg AS"}
        )
        assert CONTACTS[7] == {**_sample(), "Name": "Nordvik Bygg AS"}
        answer = test.put(
            "/contacts/7",
            content=b"<ContactEntity>",
            headers={"Content-Type": "text/xml", "Accept": "text/xml"},
        )
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "text/xml; charset=utf-8"


def _readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### With FastAPI") :]
    section = section[: section.index("\n## ")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def _readme_app(index: int) -> Any:
    code = _readme_blocks()[index]
    assert code.rstrip().endswith("asyncio.run(main())")
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(code.rstrip().removesuffix("asyncio.run(main())"), "README.md", "exec"), namespace)  # noqa: S102
    return namespace["app"]


def test_the_readme_fastapi_app() -> None:
    app = _readme_app(0)
    with TestClient(app) as test:
        answer = test.post(
            "/contacts/enrich",
            content=_encoded("text/xml", _wrapper(_sample())),
            headers={
                "Content-Type": "text/xml",
                "Accept": "application/xml;q=0.2, application/json",
            },
        )
        assert answer.status_code == 200
        assert answer.json() == _enrich(_wrapper(_sample()))
        answer = test.post(
            "/contacts/enrich", json={"EnrichId": "NO-1"}, headers={"Accept": "text/xml"}
        )
        assert answer.status_code == 404
        assert _error(answer)["Location"] == "/EnrichId"
        answer = test.post("/contacts/enrich", json={"EnrichId": ""})
        assert answer.status_code == 400
        document = test.get("/openapi.json").json()
        validate_openapi(document)
        content = document["paths"]["/contacts/enrich"]["post"]["requestBody"]["content"]
        assert list(content) == list(REQUEST_TYPES)


def test_the_readme_starlette_app() -> None:
    app = _readme_app(1)
    with TestClient(app) as test:
        answer = test.get("/contacts/7?$select=Name", headers={"Accept": "application/xml"})
        assert answer.status_code == 200
        assert _decoded(answer) == CONTACT.normalize({"Name": "Nordvik AS"})
        answer = test.patch(
            "/contacts/7",
            content=b'[{"op": "test", "path": "/Name", "value": "Someone else"}]',
            headers={"Content-Type": "application/json-patch+json"},
        )
        assert answer.status_code == 409
        assert set(_error(answer)) >= AGENT_SHAPE
        answer = test.put("/contacts/9", json={"Name": "x"})
        assert answer.status_code == 404
        assert _error(answer)["Location"] == "id"


def test_an_unexpected_error_is_a_500_in_the_agent_shape_without_its_text() -> None:
    async def broken(request: Request) -> NegotiatedResponse:
        raise RuntimeError("secret detail")

    app = Starlette(
        routes=[Route("/broken", broken)],
        exception_handlers={NegotiateError: exception_handler, Exception: exception_handler},
    )
    with TestClient(app, raise_server_exceptions=False) as test:
        answer = test.get("/broken", headers={"Accept": "application/xml"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/xml; charset=utf-8"
    assert "secret" not in answer.text
    assert set(_error(answer)) >= AGENT_SHAPE


def test_starlette_alone_is_enough_and_a_missing_one_names_the_extra() -> None:
    script = (
        "import sys\n"
        "import negotiate.integrations.fastapi\n"
        "assert 'fastapi' not in sys.modules, 'FastAPI was imported'\n"
        "for name in [m for m in sys.modules if m.startswith(('starlette', 'negotiate.integ'))]:\n"
        "    del sys.modules[name]\n"
        "sys.modules['starlette'] = None\n"
        "try:\n"
        "    import negotiate.integrations.fastapi\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        },
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'negotiate[fastapi]'" in done.stdout


# -- Content-Encoding of the request body ---------------------------------------------------


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize("path", [PATH, "/offloaded"])
def test_a_coded_body_is_decoded_as_the_core_decodes_it(
    client: TestClient, coding: str, path: str
) -> None:
    body = coded(orjson.dumps(_wrapper(_sample())), coding)
    headers = {"Content-Type": "application/json", "Content-Encoding": coding}
    if path == PATH:
        answer = _same_as_core(client, body, headers, "$select=Name,Phones")
    else:
        answer = client.post(path + "?$select=Name,Phones", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    enriched = _enrich(_wrapper(_sample()))
    assert answer.json()["Name"] == enriched["Name"]
    assert answer.json()["Phones"] == enriched["Phones"]


@pytest.mark.parametrize("coding", UNKNOWN_CODINGS)
def test_an_unknown_coding_is_415_listing_the_readable_ones(
    client: TestClient, coding: str
) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": coding, "Accept": "text/xml"}
    body = orjson.dumps(_wrapper())
    answer = _same_as_core(client, body, headers)
    assert answer.status_code == 415
    assert answer.headers["accept-encoding"] == READABLE
    assert answer.headers["accept-encoding"] == CORE.handle("POST", PATH, "", headers, body).header(
        "accept-encoding"
    )
    assert "accept-post" not in answer.headers
    assert _error(answer)["Location"] == "Content-Encoding"
    assert CALLS == []


def test_corrupt_coded_data_is_400_as_the_cores(client: TestClient) -> None:
    body = coded(orjson.dumps(_wrapper()), "zstd")[:-4]
    headers = {"Content-Type": "application/json", "Content-Encoding": "zstd"}
    assert _same_as_core(client, body, headers).status_code == 400


def test_a_gzip_bomb_is_413_in_bounded_memory(client: TestClient) -> None:
    bomb = gzip_bomb()
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    answer, peak = peak_memory(lambda: _same_as_core(client, bomb, headers))
    assert answer.status_code == 413
    assert _error(answer)["Limit"] == BOMB_LIMIT
    assert bounded(peak), peak
    assert CALLS == []


def test_a_coded_body_over_the_limit_once_decoded_is_413(client: TestClient) -> None:
    big = orjson.dumps(_wrapper({"Department": "x" * 2000}))
    body = coded(big, "gzip, gzip")
    assert len(big) > 2000 and len(body) < 1000
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip, gzip"}
    answer = client.post("/small", content=body, headers=headers)
    assert answer.status_code == 413
    assert _error(answer)["Limit"] == 1000
