"""negotiate.integrations.django: DRF views over the registry, in process and under wsgiref.

Django is configured here, in process (``settings.configure`` when nothing has
configured it yet; each test then runs with this module as ``ROOT_URLCONF``).
Requests go through DRF's ``APIClient`` (the whole Django handler stack, no
socket), and a few through a real WSGI server on loopback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import orjson
import pytest
from django.conf import settings

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "negotiate.integrations.django.exception_handler",
}

if not settings.configured:
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=["rest_framework"],
        ROOT_URLCONF=__name__,
        REST_FRAMEWORK=REST_FRAMEWORK,
        USE_TZ=True,
    )
    django.setup()

from _shared import (  # noqa: E402
    CODINGS,
    READABLE,
    SHAPINGS,
    UNKNOWN_CODINGS,
    bounded,
    coded,
    core,
    gzip_bomb,
    peak_memory,
    without_codings,
)
from django.core.wsgi import get_wsgi_application  # noqa: E402 - after settings
from django.test import override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from helpers import WsgirefThread  # noqa: E402
from rest_framework import exceptions as drf  # noqa: E402
from rest_framework.parsers import BaseParser, JSONParser  # noqa: E402
from rest_framework.renderers import BaseRenderer, JSONRenderer  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from negotiate.codecs import CodecRegistry, JsonCodec, XmlCodec, default_registry  # noqa: E402
from negotiate.enrich import EmbeddedProvider, enrich_contact  # noqa: E402
from negotiate.errors import InvalidValue, NotFound  # noqa: E402
from negotiate.http import App  # noqa: E402
from negotiate.integrations.django import (  # noqa: E402
    ContentNegotiation,
    NegotiateMixin,
    NegotiateParser,
    NegotiateRenderer,
    exception_handler,
    parser_classes,
    renderer_classes,
)
from negotiate.options import Options  # noqa: E402
from negotiate.schema import get_schema  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = ROOT / "negotiate" / "data" / "contact-sample.json"
ENRICH = "/api/v1/Agents/Contact/EnrichContactEntity"
STORED = "/stored"
REGISTRY = default_registry()
REQUEST_TYPES = REGISTRY.request_types
RESPONSE_TYPES = REGISTRY.response_types
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json")
CONTACT = get_schema("ContactEntity")
WRAPPER = get_schema("EnrichContactEntityRequest")
ENRICH_ID = "NO-800099668"
PROVIDER = EmbeddedProvider()
AGENT_KEYS = ["Message", "MessageDetail", "Status", "Location"]


def _sample() -> dict[str, Any]:
    return CONTACT.normalize(orjson.loads(SAMPLE.read_bytes()))


def _wrapper(contact: Any = None) -> dict[str, Any]:
    return WRAPPER.normalize({"ContactEntity": contact, "EnrichId": ENRICH_ID})


# -- the views under test --------------------------------------------------------------


class Enrich(NegotiateMixin, APIView):
    """EnrichContactEntity, as the reference server answers it."""

    negotiate_request = WRAPPER
    negotiate_response = CONTACT

    def post(self, request: Request) -> Response:
        value = request.data
        if not value["EnrichId"]:
            raise InvalidValue("EnrichId is required", location="/EnrichId")
        company = PROVIDER.lookup(value["EnrichId"])
        if company is None:
            raise NotFound(f"Unknown EnrichId {value['EnrichId']!r}", location="/EnrichId")
        result = enrich_contact(value["ContactEntity"], company)
        if value["ContactEntity"] is not None:
            # NOTE: the handler changes what it was given: a patch answer still diffs
            # from what the client sent (the snapshot), not from this.
            value["ContactEntity"]["Name"] = "changed by the handler"
        return Response(result)

    def negotiate_response_base(self, value: dict[str, Any]) -> Any:
        return value["ContactEntity"]


STORED_CONTACT = CONTACT.normalize({"ContactId": 7, "Name": "Nordvik AS", "OrgNr": "923609016"})


class Stored(NegotiateMixin, APIView):
    """A stored contact a patch body applies to; the result is echoed."""

    negotiate_request = CONTACT
    negotiate_response = CONTACT

    def negotiate_request_base(self, request: Request) -> Any:
        return STORED_CONTACT

    def patch(self, request: Request) -> Response:
        return Response(request.data)

    def get(self, request: Request) -> Response:
        return Response(STORED_CONTACT)


class Small(NegotiateMixin, APIView):
    negotiate_request = CONTACT
    negotiate_response = CONTACT
    negotiate_options = Options(max_body=64)

    def post(self, request: Request) -> Response:
        return Response(request.data)


class Unwritable(NegotiateMixin, APIView):
    negotiate_response = CONTACT

    def get(self, request: Request) -> Response:
        return Response(CONTACT.normalize({"Name": "a\x01b"}))


class DrfErrors(NegotiateMixin, APIView):
    def get(self, request: Request) -> Response:
        kind = request.query_params["kind"]
        if kind == "validation":
            raise drf.ValidationError({"Name": ["This field is required."]})
        if kind == "permission":
            raise drf.PermissionDenied()
        if kind == "throttled":
            raise drf.Throttled(wait=30)
        if kind == "parse":
            raise drf.ParseError("Bad things")
        raise RuntimeError("a bug")


JSON_XML = CodecRegistry([JsonCodec(), XmlCodec()], not_acceptable="default")


class Narrow(NegotiateMixin, APIView):
    """Another registry: JSON and XML only, falling back to JSON on a bad Accept."""

    negotiate_request = CONTACT
    negotiate_response = CONTACT
    parser_classes = parser_classes(JSON_XML)
    renderer_classes = renderer_classes(JSON_XML)

    def post(self, request: Request) -> Response:
        return Response(request.data)


class Pieces(APIView):
    """The pieces on a plain APIView, the exception handler from settings."""

    negotiate_request = CONTACT
    negotiate_response = CONTACT
    parser_classes = parser_classes()
    renderer_classes = renderer_classes()
    content_negotiation_class = ContentNegotiation
    authentication_classes = ()
    permission_classes = ()

    def post(self, request: Request) -> Response:
        return Response(request.data)


class TextParser(BaseParser):
    """A parser of DRF's kind, by a media range."""

    media_type = "text/*"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return {"text": stream.read().decode()}


class Mixed(NegotiateMixin, APIView):
    """Our parsers and one of DRF's kind side by side; plain data (no carriers)."""

    parser_classes = [*parser_classes(), TextParser]

    def post(self, request: Request) -> Response:
        return Response(request.data)


class Native(APIView):
    """DRF's own parser and negotiation; errors through our handler (from settings)."""

    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    authentication_classes = ()
    permission_classes = ()

    def post(self, request: Request) -> Response:
        return Response(request.data)


urlpatterns = [
    path(ENRICH.lstrip("/"), Enrich.as_view()),
    path(STORED.lstrip("/"), Stored.as_view()),
    path("small", Small.as_view()),
    path("unwritable", Unwritable.as_view()),
    path("drf-errors", DrfErrors.as_view()),
    path("narrow", Narrow.as_view()),
    path("pieces", Pieces.as_view()),
    path("native", Native.as_view()),
    path("mixed", Mixed.as_view()),
]


@pytest.fixture(autouse=True)
def _urls() -> Iterator[None]:
    with override_settings(ROOT_URLCONF=__name__, REST_FRAMEWORK=REST_FRAMEWORK):
        yield


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def _post(
    client: APIClient,
    url: str,
    body: bytes,
    content_type: str | None = "application/json",
    accept: str | None = None,
    **headers: str,
) -> Any:
    extra = dict(headers)
    if accept is not None:
        extra["HTTP_ACCEPT"] = accept
    if content_type is None:
        # NOTE: the test client always sends a Content-Type; WSGI has none without one.
        return client.generic("POST", url, body, content_type="", **extra)
    return client.generic("POST", url, body, content_type=content_type, **extra)


def _value(response: Any, sent: Any = None, schema: Any = CONTACT) -> Any:
    media_type = response["Content-Type"]
    codec, parsed = REGISTRY.for_content_type(media_type)
    return codec.decode(response.content, schema, media_type=parsed, base=sent)


def _error(response: Any, content_type: str = "application/json; charset=utf-8") -> dict[str, Any]:
    assert response["Content-Type"] == content_type
    error: dict[str, Any] = orjson.loads(response.content)
    assert list(error)[:4] == AGENT_KEYS
    assert error["Status"] == response.status_code
    return error


def _encode(media_type: str, value: dict[str, Any]) -> bytes:
    """The request wrapper in a request type (a patch type: the patch from the default)."""
    return REGISTRY.codec(media_type).encode(value, WRAPPER, base=WRAPPER.default())


def _enriched(contact: Any) -> dict[str, Any]:
    company = PROVIDER.lookup(ENRICH_ID)
    assert company is not None
    return enrich_contact(contact, company)


# -- the generated classes ---------------------------------------------------------------


def test_one_class_per_registered_type() -> None:
    parsers = parser_classes()
    renderers = renderer_classes()
    assert [p.media_type for p in parsers] == list(REQUEST_TYPES)
    assert [r.media_type for r in renderers] == list(RESPONSE_TYPES)
    assert all(issubclass(p, NegotiateParser) for p in parsers)
    assert all(issubclass(r, NegotiateRenderer) and issubclass(r, BaseRenderer) for r in renderers)
    assert len({p.__name__ for p in parsers}) == len(parsers)
    by_type = {r.media_type: r for r in renderers}
    assert by_type["application/xml"].format == "xml"
    assert by_type["application/json-patch+json"].format == "json-patch"
    assert by_type["text/json"].charset == "utf-8"
    # the same classes each time, for the same registry
    assert parser_classes() == parsers and renderer_classes() == renderers


def test_classes_follow_their_registry() -> None:
    registry = CodecRegistry([JsonCodec()])
    assert [p.media_type for p in parser_classes(registry)] == ["application/json", "text/json"]
    registry.register(XmlCodec())
    assert [r.media_type for r in renderer_classes(registry)] == [
        "application/json",
        "text/json",
        "application/xml",
        "text/xml",
    ]
    assert all(r.registry is registry for r in renderer_classes(registry))


def test_a_renderer_outside_a_view_only_encodes() -> None:
    renderers = {r.media_type: r() for r in renderer_classes()}
    body = renderers["application/xml"].render(
        STORED_CONTACT, "application/xml", {"view": Stored()}
    )
    assert REGISTRY.codec("application/xml").decode(body, CONTACT) == STORED_CONTACT
    # no view: plain data
    assert renderers["application/json"].render([1, {"a": None}]) == b'[1,{"a":null}]'
    assert renderers["application/json"].render(None) == b""


# -- every request type, every response type ---------------------------------------------


@pytest.mark.parametrize("media_type", REQUEST_TYPES)
def test_every_request_type_is_read(client: APIClient, media_type: str) -> None:
    sample = _sample()
    response = _post(client, ENRICH, _encode(media_type, _wrapper(sample)), media_type)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Vary"] == "Accept, SO-TimeZone, SO-Language, Accept-Language"
    assert orjson.loads(response.content) == _enriched(_sample())


@pytest.mark.parametrize("media_type", RESPONSE_TYPES)
def test_every_response_type_is_written(client: APIClient, media_type: str) -> None:
    body = orjson.dumps(_wrapper(_sample()))
    response = _post(client, ENRICH, body, accept=media_type)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == REGISTRY.codec(media_type).content_type(media_type)
    # a patch type: the diff from what was sent (not from what the handler made of it)
    assert _value(response, sent=_sample()) == _enriched(_sample())


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json;q=0.5, application/xml", "application/xml"),
        ("application/xml;q=0.4, text/json;q=0.6, */*;q=0.1", "text/json"),
        ("application/json;q=0, */*", "text/json"),
        ("text/*;q=0.3, application/merge-patch+json;q=0.2", "text/json"),
        ("application/*;q=0.9, application/xml", "application/xml"),
        ("", "application/json"),
        (None, "application/json"),
    ],
)
def test_q_values_choose_the_type(client: APIClient, accept: str | None, expected: str) -> None:
    # DRF's own negotiation ranks by specificity and would answer JSON to the first.
    response = _post(client, ENRICH, orjson.dumps(_wrapper()), accept=accept)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].split(";")[0] == expected


def test_format_override_narrows_the_renderers(client: APIClient) -> None:
    response = _post(client, ENRICH + "?format=xml", orjson.dumps(_wrapper()))
    assert response["Content-Type"] == "application/xml; charset=utf-8"


def test_an_empty_body_is_the_default(client: APIClient) -> None:
    response = _post(client, ENRICH, b"")
    assert response.status_code == 400
    assert _error(response)["Location"] == "/EnrichId"  # the default has no EnrichId


# -- patch bodies apply to the view's base -------------------------------------------------


def test_a_merge_patch_applies_to_the_request_base(client: APIClient) -> None:
    response = client.patch(
        STORED, b'{"Name": "Nordvik ASA"}', content_type="application/merge-patch+json"
    )
    assert response.status_code == 200, response.content
    assert orjson.loads(response.content) == {**STORED_CONTACT, "Name": "Nordvik ASA"}


def test_a_json_patch_applies_to_the_request_base(client: APIClient) -> None:
    ops = [
        {"op": "test", "path": "/Name", "value": "Nordvik AS"},
        {"op": "remove", "path": "/OrgNr"},
    ]
    response = client.patch(STORED, orjson.dumps(ops), content_type="application/json-patch+json")
    assert response.status_code == 200, response.content
    assert orjson.loads(response.content) == {**STORED_CONTACT, "OrgNr": None}


def test_a_failed_json_patch_test_is_409(client: APIClient) -> None:
    ops = [{"op": "test", "path": "/Name", "value": "Someone else"}]
    response = client.patch(STORED, orjson.dumps(ops), content_type="application/json-patch+json")
    assert response.status_code == 409
    assert _error(response)["Location"]


def test_a_patch_with_an_invalid_result_is_422(client: APIClient) -> None:
    response = client.patch(
        STORED, b'{"ContactId": "seven"}', content_type="application/merge-patch+json"
    )
    assert response.status_code in (400, 422)
    assert _error(response)["Location"] == "/ContactId"


# -- $select and shaping ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["$select=Name,OrgNr", "%24select=Name&%24select=OrgNr", "$SELECT=name, orgnr"]
)
def test_select_projects_the_answer(client: APIClient, query: str) -> None:
    response = _post(client, ENRICH + "?" + query, orjson.dumps(_wrapper(_sample())))
    assert response.status_code == 200, response.content
    value = orjson.loads(response.content)
    full = _enriched(_sample())
    assert value["Name"] == full["Name"] and value["OrgNr"] == full["OrgNr"]
    assert value["Phones"] is None and value["ContactId"] == 0 and full["ContactId"] != 0
    assert list(value) == list(full)


def test_an_unknown_select_path_is_400_before_the_handler_runs(client: APIClient) -> None:
    response = _post(client, STORED + "?$select=Nmae", b"", accept="application/xml")
    assert response.status_code == 405  # routing and method first, as DRF orders them
    response = _post(client, ENRICH + "?$select=Nmae", orjson.dumps({"EnrichId": "NO-1"}))
    assert response.status_code == 400  # not the handler's 404
    error = _error(response)
    assert error["Location"] == "$select" and "Nmae" in error["MessageDetail"]


def test_a_bad_body_is_answered_before_a_bad_select(client: APIClient) -> None:
    response = _post(client, ENRICH + "?$select=Nmae", b'{"EnrichId": 5}')
    assert response.status_code == 400
    assert _error(response)["Location"] == "/EnrichId"


def test_so_headers_shape_the_answer(client: APIClient) -> None:
    contact = {
        **_sample(),
        "DbiLastModified": "2024-03-01T12:00:00.5+01:00",
        "Category": {"Id": 3, "Value": 'US:"Supplier";NO:"Leverandør";'},
    }
    body = orjson.dumps(_wrapper(CONTACT.normalize(contact)))
    plain = orjson.loads(_post(client, ENRICH, body).content)
    assert plain["DbiLastModified"] == "2024-03-01T12:00:00.5+01:00"
    shaped = _post(
        client,
        ENRICH,
        body,
        HTTP_SO_TIMEZONE="US-NY, includeTZOffset",
        HTTP_SO_LANGUAGE="nb",
    )
    assert shaped.status_code == 200, shaped.content
    value = orjson.loads(shaped.content)
    assert value["DbiLastModified"] == "2024-03-01T06:00:00.5-0500"
    assert value["Category"]["Value"] == "Leverandør"
    assert value["UpdatedDate"] == plain["UpdatedDate"]  # stays UTC, as SuperOffice's does


@pytest.mark.parametrize("shaping", SHAPINGS, ids=lambda h: ",".join(h) or "none")
@pytest.mark.parametrize("accept", ["application/json", "application/xml"])
def test_vary_names_the_shaping_headers_read_as_the_core_does(
    client: APIClient, app: App, shaping: dict[str, str], accept: str
) -> None:
    body = orjson.dumps(_wrapper(_sample()))
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in shaping.items()}
    response = _post(client, ENRICH, body, accept=accept, **meta)
    assert response.status_code == 200, response.content
    expected = core(
        without_codings(app), body, Content_Type="application/json", Accept=accept, **shaping
    )
    assert expected.status == 200
    assert response["Vary"] == expected.header("vary")
    assert response.get("Content-Language") == expected.header("content-language")


def test_a_bad_so_timezone_is_400_in_the_negotiated_type(client: APIClient) -> None:
    body = orjson.dumps(_wrapper())
    response = _post(client, ENRICH, body, accept="application/xml", HTTP_SO_TIMEZONE="Mars/Base")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    error = REGISTRY.codec("application/xml").decode(response.content, None)
    assert error["Error"]["Location"] == "SO-TimeZone"
    assert response["Vary"] == "Accept"  # as the core's: an error is not shaped


# -- refusals ----------------------------------------------------------------------------------


def test_nothing_acceptable_is_406_in_json(client: APIClient) -> None:
    response = _post(client, ENRICH, orjson.dumps(_wrapper()), accept="image/png, text/html")
    assert response.status_code == 406
    error = _error(response)
    assert error["Supported"] == list(RESPONSE_TYPES)
    assert "image/png" in error["MessageDetail"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b"x"), ("application/json; charset=koi8-q", b"{}"), (None, b"{}")],
    ids=["unknown-type", "unknown-charset", "no-content-type"],
)
def test_an_unreadable_content_type_is_415(
    client: APIClient, content_type: str | None, body: bytes
) -> None:
    response = _post(client, ENRICH, body, content_type)
    assert response.status_code == 415
    error = _error(response)
    assert error["Supported"]
    assert response["Accept-Post"] == ", ".join(REQUEST_TYPES)


@pytest.mark.parametrize(
    ("media_type", "body", "location"),
    [
        (
            "application/json",
            b'{"EnrichId": "NO-800099668", "ContactEntity": {"Name": [1]}}',
            "/ContactEntity/Name",
        ),
        ("application/json", b'{"EnrichId": "NO-8', ""),
        ("application/xml", b"<EnrichContactEntityRequest><EnrichId>x</Enrich", ""),
        (
            "application/x-www-form-urlencoded",
            b"EnrichId=NO-800099668&ContactEntity.ContactId=seven",
            "ContactEntity.ContactId",
        ),
        ("application/json-patch+json", b'[{"op": "jump", "path": "/EnrichId"}]', "/0"),
        ("application/merge-patch+json", b'{"EnrichId": 7}', "/EnrichId"),
    ],
    ids=["json-value", "json-syntax", "xml-syntax", "form-value", "json-patch-op", "merge-value"],
)
def test_a_bad_body_is_refused_with_its_location(
    client: APIClient, media_type: str, body: bytes, location: str
) -> None:
    response = _post(client, ENRICH, body, media_type)
    # a patch that applies but leaves an invalid value is a 422
    expected = 422 if media_type == "application/merge-patch+json" else 400
    assert response.status_code == expected, response.content
    error = _error(response)
    assert error["Location"].startswith(location)
    if not location:
        assert error["MessageDetail"]


def test_an_error_is_written_in_the_negotiated_type(client: APIClient) -> None:
    body = b'{"EnrichId": "NO-000000000"}'
    xml = _post(client, ENRICH, body, accept="application/xml")
    assert xml.status_code == 404
    assert xml.content.startswith(b"<Error><Message>Not Found</Message>")
    # a patch type writes its errors in JSON: an error is not a change to anything
    patch = _post(client, ENRICH, body, accept="application/merge-patch+json")
    assert patch.status_code == 404
    assert _error(patch)["Location"] == "/EnrichId"


def test_a_body_over_the_limit_is_413(client: APIClient) -> None:
    response = _post(client, "/small", b'{"Name": "' + b"x" * 100 + b'"}')
    assert response.status_code == 413
    assert _error(response)["Limit"] == 64
    assert _post(client, "/small", b'{"Name": "x"}').status_code == 200


def test_a_value_the_format_cannot_write_is_500_in_json(client: APIClient) -> None:
    response = client.get("/unwritable", HTTP_ACCEPT="application/xml")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert b"<Location>/Name</Location>" in response.content


@pytest.mark.parametrize(
    ("kind", "status", "location"),
    [
        ("validation", 400, "/Name"),
        ("permission", 403, ""),
        ("throttled", 429, ""),
        ("parse", 400, ""),
    ],
)
def test_drf_exceptions_are_agent_errors(
    client: APIClient, kind: str, status: int, location: str
) -> None:
    response = client.get("/drf-errors", {"kind": kind})
    assert response.status_code == status
    error = _error(response)
    assert error["Location"] == location
    if kind == "validation":
        assert error["Errors"] == {"Name": ["This field is required."]}
        assert error["Message"] == "Bad Request"
    if kind == "throttled":
        assert response["Retry-After"] == "30"
        assert error["Message"] == "Too Many Requests"


def test_other_exceptions_are_left_to_django(client: APIClient) -> None:
    assert exception_handler(RuntimeError("a bug"), {}) is None
    with pytest.raises(RuntimeError, match="a bug"):
        client.get("/drf-errors", {"kind": "bug"})


def test_drf_own_refusals_through_the_handler(client: APIClient) -> None:
    # DRF's JSONParser, negotiation and 415, with our exception handler from settings
    # (written by DRF's JSONRenderer, which names no charset)
    bad = client.generic("POST", "/native", b"{", content_type="application/json")
    assert bad.status_code == 400
    assert _error(bad, "application/json")["Message"] == "Bad Request"
    unsupported = client.generic("POST", "/native", b"<a/>", content_type="application/xml")
    assert unsupported.status_code == 415
    error = _error(unsupported, "application/json")
    assert "application/xml" in error["MessageDetail"]
    assert error["Supported"] == ["application/json"]
    refused = client.generic(
        "POST", "/native", b"{}", content_type="application/json", HTTP_ACCEPT="text/csv"
    )
    assert refused.status_code == 406
    assert _error(refused, "application/json")["Supported"] == ["application/json"]


# -- the pieces without the view class; another registry -----------------------------------


def test_the_pieces_on_a_plain_api_view(client: APIClient) -> None:
    body = REGISTRY.codec("application/xml").encode(STORED_CONTACT, CONTACT)
    response = _post(
        client, "/pieces?$select=Name", body, "application/xml", "application/json;q=0.1, text/xml"
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert _value(response) == {**CONTACT.default(), "Name": "Nordvik AS"}
    bad = _post(
        client,
        "/pieces",
        b"<ContactEntity><ContactId>x</ContactId></ContactEntity>",
        "application/xml",
    )
    assert bad.status_code == 400 and _error(bad)["Location"].startswith("/ContactEntity")


def test_another_registry(client: APIClient) -> None:
    body = orjson.dumps(STORED_CONTACT)
    response = _post(client, "/narrow", body, accept="application/merge-patch+json")
    assert response.status_code == 200  # not offered: this registry falls back to JSON
    assert response["Content-Type"] == "application/json; charset=utf-8"
    refused = _post(client, "/narrow", body, "application/merge-patch+json")
    assert refused.status_code == 415
    assert _error(refused)["Supported"] == [
        "application/json",
        "text/json",
        "application/xml",
        "text/xml",
    ]


def test_drf_parsers_beside_ours(client: APIClient) -> None:
    text = _post(client, "/mixed", b"hello", "text/plain; charset=utf-8")
    assert text.status_code == 200 and orjson.loads(text.content) == {"text": "hello"}
    xml = _post(client, "/mixed", b"<a><b>1</b></a>", "application/xml")
    assert xml.status_code == 200 and orjson.loads(xml.content) == {"a": {"b": "1"}}
    refused = _post(client, "/mixed", b"x", "image/png")
    assert refused.status_code == 415
    assert _error(refused)["Supported"] == [*REQUEST_TYPES, "text/*"]


def test_settings_may_name_the_negotiation_class(tmp_path: Path) -> None:
    # rest_framework.views imports the class the settings name while it makes APIView;
    # this module must then import without rest_framework.views.
    script = tmp_path / "project.py"
    script.write_text(
        "import django\n"
        "from django.conf import settings\n"
        "settings.configure(INSTALLED_APPS=['rest_framework'], REST_FRAMEWORK={\n"
        "    'DEFAULT_CONTENT_NEGOTIATION_CLASS':"
        " 'negotiate.integrations.django.ContentNegotiation',\n"
        "    'EXCEPTION_HANDLER': 'negotiate.integrations.django.exception_handler'})\n"
        "django.setup()\n"
        "from rest_framework.views import APIView\n"
        "from negotiate.integrations.django import ContentNegotiation\n"
        "assert APIView.content_negotiation_class is ContentNegotiation\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# -- the README's application --------------------------------------------------------------


def _readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### With Django REST framework", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


def test_the_readme_app(capsys: pytest.CaptureFixture[str]) -> None:
    code = _readme_block()
    module = types.ModuleType("readme_django")
    sys.modules[module.__name__] = module
    try:
        with override_settings(ROOT_URLCONF=module.__name__):
            exec(compile(code, "README.md", "exec"), module.__dict__)
            expected = re.findall(r"^print\(.*\)  # (.*)$", code, re.MULTILINE)
            assert capsys.readouterr().out.splitlines() == expected
            client = APIClient()
            sent = orjson.dumps(_wrapper(_sample()))
            response = client.generic(
                "POST", ENRICH, sent, content_type="application/json", HTTP_ACCEPT="text/xml"
            )
            assert response.status_code == 200, response.content
            assert _value(response) == _enriched(_sample())
            missing = _post(client, ENRICH, b'{"EnrichId": "NO-000000000"}')
            assert missing.status_code == 404 and _error(missing)["Location"] == "/EnrichId"
    finally:
        del sys.modules[module.__name__]


# -- under a real WSGI server ----------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with override_settings(ROOT_URLCONF=__name__, REST_FRAMEWORK=REST_FRAMEWORK):
        with WsgirefThread(get_wsgi_application()) as running:
            yield running


def _http(
    server: Any, path_: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(server.url + path_, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


@pytest.mark.parametrize("media_type", REQUEST_TYPES)
def test_under_wsgiref_every_request_type(server: Any, media_type: str) -> None:
    body = _encode(media_type, _wrapper(_sample()))
    status, headers, content = _http(
        server,
        ENRICH,
        body,
        {"Content-Type": media_type, "Accept": "application/json;q=0.5, application/xml"},
    )
    assert status == 200, content
    assert headers["Content-Type"] == "application/xml; charset=utf-8"
    assert "Accept" in headers["Vary"]
    codec = REGISTRY.codec("application/xml")
    assert codec.decode(content, CONTACT) == _enriched(_sample())


def test_under_wsgiref_select_and_refusals(server: Any) -> None:
    body = orjson.dumps(_wrapper(_sample()))
    status, _, content = _http(
        server, ENRICH + "?%24select=Name", body, {"Content-Type": "application/json"}
    )
    assert status == 200 and orjson.loads(content)["Phones"] is None
    status, headers, content = _http(server, ENRICH, body, {"Content-Type": "text/csv"})
    assert status == 415 and headers["Accept-Post"] == ", ".join(REQUEST_TYPES)
    assert list(orjson.loads(content))[:4] == AGENT_KEYS
    status, _, content = _http(
        server, ENRICH, body, {"Content-Type": "application/json", "Accept": "application/xml;q=0"}
    )
    assert status == 406 and orjson.loads(content)["Status"] == 406
    status, _, content = _http(server, "/small", b"x" * 1000, {"Content-Type": "application/json"})
    assert status == 413 and orjson.loads(content)["Limit"] == 64


# -- Content-Encoding of the request body, Content-Length -----------------------------------


def _same_as_core(response: Any, expected: Any) -> None:
    assert response.status_code == expected.status, response.content
    for name in ("Content-Type", "Vary", "Content-Language", "Accept-Post", "Accept-Encoding"):
        assert response.get(name) == expected.header(name), name
    assert response.content == expected.body


@pytest.mark.parametrize("coding", CODINGS)
def test_a_coded_body_is_decoded_as_the_core_decodes_it(
    client: APIClient, app: App, coding: str
) -> None:
    plain = orjson.dumps(_wrapper(_sample()))
    body = coded(plain, coding)
    response = _post(client, ENRICH, body, HTTP_CONTENT_ENCODING=coding)
    assert response.status_code == 200, response.content
    assert response.content == _post(client, ENRICH, plain).content
    expected = core(
        without_codings(app), body, Content_Type="application/json", Content_Encoding=coding
    )
    assert expected.status == 200
    assert response["Content-Type"] == expected.header("content-type")
    assert response["Vary"] == expected.header("vary")


@pytest.mark.parametrize("coding", UNKNOWN_CODINGS)
def test_an_unknown_coding_is_415_listing_the_readable_ones(
    client: APIClient, app: App, coding: str
) -> None:
    body = orjson.dumps(_wrapper())
    response = _post(client, ENRICH, body, accept="text/xml", HTTP_CONTENT_ENCODING=coding)
    assert response.status_code == 415
    assert response["Accept-Encoding"] == READABLE
    assert "Accept-Post" not in response
    headers = {"Content_Type": "application/json", "Accept": "text/xml"}
    _same_as_core(response, core(without_codings(app), body, Content_Encoding=coding, **headers))


@pytest.mark.parametrize(
    ("coding", "body"),
    [("gzip", gzip_bomb()), ("deflate", coded(orjson.dumps(_wrapper()), "deflate")[:-5])],
    ids=["bomb", "truncated"],
)
def test_a_gzip_bomb_is_413_in_bounded_memory_corrupt_data_400(
    client: APIClient, app: App, coding: str, body: bytes
) -> None:
    response, peak = peak_memory(lambda: _post(client, ENRICH, body, HTTP_CONTENT_ENCODING=coding))
    assert response.status_code == (413 if coding == "gzip" else 400)
    assert bounded(peak), peak
    expected = core(
        without_codings(app), body, Content_Type="application/json", Content_Encoding=coding
    )
    _same_as_core(response, expected)


def test_a_coded_body_over_the_limit_once_decoded_is_413(client: APIClient) -> None:
    body = coded(b'{"Name": "' + b"x" * 100 + b'"}', "br, gzip")
    response = _post(client, "/small", body, HTTP_CONTENT_ENCODING="br, gzip")
    assert response.status_code == 413
    assert _error(response)["Limit"] == 64


@pytest.mark.parametrize("body", [b"", b'{"EnrichId": "NO-800099668"}'])
def test_a_content_length_that_is_not_a_number_is_400_as_the_cores(
    client: APIClient, app: App, body: bytes
) -> None:
    response = _post(client, ENRICH, body, CONTENT_LENGTH="x2")
    assert response.status_code == 400
    expected = core(
        without_codings(app), body, Content_Type="application/json", Content_Length="x2"
    )
    _same_as_core(response, expected)
    assert "Content-Length" in _error(response)["MessageDetail"]
