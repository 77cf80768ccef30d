"""What the falcon and Flask integrations share: the README's app answers as the core does.

The reference application (:mod:`negotiate.server`) answers the same requests
through :class:`negotiate.http.App`; the README's falcon app and its Flask app
must each answer byte for byte the same, for every request and response type.
Every test here runs once per framework, through the framework's own test
client (and once under a real server: waitress for falcon, wsgiref for Flask);
what only one framework has (falcon's media handlers, Flask's extension and
``url_values``, each one's body limits) stays in ``test_falcon.py`` and
``test_flask.py``.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import falcon
import falcon.testing
import flask
import httpx
import orjson
import pytest
from _shared import (
    ACCEPTS,
    AGENT_KEYS,
    BAD_BODIES,
    BOMB_LIMIT,
    CODINGS,
    JSON,
    READABLE,
    SELECTS,
    SHAPINGS,
    UNKNOWN_CODINGS,
    WaitressThread,
    agent_error as _agent_error,
    bounded,
    coded,
    core,
    gzip_bomb,
    named,
    nordvik,
    peak_memory,
    readme_module,
    shaped_wrapper,
    without_codings,
)
from helpers import (
    CONTACT,
    REQUEST_TYPES,
    RESPONSE_TYPES,
    WsgirefThread,
    decode_response,
    encode_request,
)

from negotiate.http import App
from negotiate.server import ENRICH_PATH


@dataclass(frozen=True)
class Answer:
    """A test client's answer, whichever framework's: its headers are case-insensitive."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


class Client(Protocol):
    """``POST ENRICH_PATH`` through one framework's test client."""

    def post(self, body: bytes, query: str, headers: dict[str, str]) -> Answer: ...


class FalconClient:
    def __init__(self, app: Any) -> None:
        self.client = falcon.testing.TestClient(app)

    def post(self, body: bytes, query: str, headers: dict[str, str]) -> Answer:
        result = self.client.simulate_post(
            ENRICH_PATH, body=body, query_string=query or None, headers=headers or None
        )
        return Answer(result.status_code, result.headers, result.content)


class FlaskClient:
    def __init__(self, app: flask.Flask) -> None:
        self.client = app.test_client()

    def post(self, body: bytes, query: str, headers: dict[str, str]) -> Answer:
        path = ENRICH_PATH + (f"?{query}" if query else "")
        result = self.client.post(path, data=body, headers=headers)
        return Answer(result.status_code, result.headers, result.data)


@dataclass(frozen=True)
class Framework:
    heading: str
    """The README's heading over the framework's app."""
    module: str
    """The name the README's block runs as."""
    client: Callable[[Any], Client]
    server: Callable[[Any], AbstractContextManager[Any]]
    """A real WSGI server in a thread (its ``url``), serving an app."""


FRAMEWORKS = {
    "falcon": Framework("With Falcon", "readme_falcon", FalconClient, WaitressThread),
    "flask": Framework("With Flask", "readme_flask", FlaskClient, WsgirefThread),
}


@pytest.fixture(scope="module", params=sorted(FRAMEWORKS))
def framework(request: pytest.FixtureRequest) -> Framework:
    return FRAMEWORKS[request.param]


@pytest.fixture(scope="module")
def readme(framework: Framework) -> types.ModuleType:
    """The README's app of ``framework``, run as written (its own prints included)."""
    return readme_module(framework.heading, framework.module)


@pytest.fixture(scope="module")
def client(framework: Framework, readme: types.ModuleType) -> Client:
    return framework.client(readme.app)


@pytest.fixture(scope="module")
def core_app(app: App) -> App:
    """The reference application without content codings (as the integrations answer)."""
    return without_codings(app)


@pytest.fixture
def wrapper(enrich_id: str) -> dict[str, Any]:
    return nordvik(enrich_id)


def post(client: Client, body: bytes, query: str = "", **headers: str) -> Answer:
    return client.post(body, query, named(headers))


def agent_error(answer: Answer) -> dict[str, Any]:
    """An error answer's body, checked to be in the agent shape."""
    return _agent_error(answer.status_code, answer.headers, answer.content)


def same_as_core(answer: Answer, expected: Any) -> None:
    """The integration's answer is the core's: status, headers it names, body."""
    assert answer.status_code == expected.status
    for name in ("Content-Type", "Vary", "Content-Language", "Accept-Post"):
        assert answer.headers.get(name) == expected.header(name), name
    assert answer.content == expected.body


@pytest.mark.parametrize("media_type", REQUEST_TYPES)
def test_every_request_type_answers_as_the_core(
    client: Client, core_app: App, wrapper: dict[str, Any], media_type: str
) -> None:
    body = encode_request(media_type, wrapper)
    answer = post(client, body, Content_Type=media_type)
    same_as_core(answer, core(core_app, body, Content_Type=media_type))
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    contact = orjson.loads(answer.content)
    assert contact["Name"] == "Nordvik AS" and len(contact["Phones"]) > 1


@pytest.mark.parametrize("media_type", RESPONSE_TYPES)
def test_every_response_type_answers_as_the_core(
    client: Client, core_app: App, wrapper: dict[str, Any], media_type: str
) -> None:
    body = orjson.dumps(wrapper)
    answer = post(client, body, Content_Type=JSON, Accept=media_type)
    same_as_core(answer, core(core_app, body, Content_Type=JSON, Accept=media_type))
    assert answer.status_code == 200
    sent = CONTACT.normalize(wrapper["ContactEntity"])
    json_answer = orjson.loads(post(client, body, Content_Type=JSON).content)
    assert decode_response(media_type, answer.content, sent) == json_answer


@pytest.mark.parametrize(("accept", "chosen"), ACCEPTS)
def test_accept_weighs_q_values(
    client: Client, wrapper: dict[str, Any], accept: str, chosen: str
) -> None:
    answer = post(client, orjson.dumps(wrapper), Content_Type=JSON, Accept=accept)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].split(";")[0] == chosen


@pytest.mark.parametrize("query", SELECTS)
def test_select_projects_the_answer(
    client: Client, core_app: App, wrapper: dict[str, Any], query: str
) -> None:
    body = orjson.dumps(wrapper)
    answer = post(client, body, query, Content_Type=JSON)
    assert answer.status_code == 200
    same_as_core(answer, core(core_app, body, query, Content_Type=JSON))
    contact = orjson.loads(answer.content)
    assert contact["Name"] == "Nordvik AS" and contact["OrgNr"] is None
    assert contact["Phones"][0]["Value"] and contact["Phones"][0]["Description"] is None


def test_shaping_headers_apply(client: Client, core_app: App, wrapper: dict[str, Any]) -> None:
    body = orjson.dumps(shaped_wrapper(wrapper))
    shaping = {"SO_TimeZone": "US-NY, includeTZOffset", "SO_Language": "nb"}
    answer = post(client, body, Content_Type=JSON, **shaping)
    assert answer.status_code == 200
    same_as_core(answer, core(core_app, body, Content_Type=JSON, **shaping))
    assert answer.headers["Vary"] == "Accept, SO-TimeZone, SO-Language, Accept-Language"
    assert answer.headers["Content-Language"] == "nb"
    contact = orjson.loads(answer.content)
    assert contact["DbiLastModified"] == "2024-03-01T06:00:00.5-0500"
    assert contact["Category"]["Value"] == "Leverandør"
    bad = post(client, body, Content_Type=JSON, SO_TimeZone="Mars/Olympus")
    assert bad.status_code == 400 and agent_error(bad)["Location"] == "SO-TimeZone"


@pytest.mark.parametrize("shaping", SHAPINGS, ids=lambda h: ",".join(h) or "none")
@pytest.mark.parametrize("accept", [JSON, "application/xml"])
def test_vary_names_the_headers_read_as_the_core_does(
    client: Client,
    core_app: App,
    wrapper: dict[str, Any],
    shaping: dict[str, str],
    accept: str,
) -> None:
    body = orjson.dumps(shaped_wrapper(wrapper))
    headers = {"Content-Type": JSON, "Accept": accept, **shaping}
    answer = post(client, body, **headers)
    assert answer.status_code == 200
    same_as_core(answer, core(core_app, body, **headers))


def test_vary_of_an_error_is_accept_as_the_cores(client: Client, core_app: App) -> None:
    headers = {"Content-Type": JSON, "SO-TimeZone": "Europe/Oslo", "SO-Language": "nb"}
    answer = post(client, b'{"EnrichId": 5}', **headers)
    same_as_core(answer, core(core_app, b'{"EnrichId": 5}', **headers))
    assert answer.status_code == 400 and answer.headers["Vary"] == "Accept"


def test_not_acceptable_is_406_in_json(client: Client, wrapper: dict[str, Any]) -> None:
    answer = post(client, orjson.dumps(wrapper), Content_Type=JSON, Accept="image/png")
    assert answer.status_code == 406
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert agent_error(answer)["Supported"] == list(RESPONSE_TYPES)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json; charset=latin-9"])
def test_unsupported_content_type_is_415(client: Client, content_type: str) -> None:
    answer = post(client, b'{"EnrichId": "x"}', Content_Type=content_type, Accept="text/xml")
    assert answer.status_code == 415
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert agent_error(answer)["Message"] == "Unsupported Media Type"
    assert "application/xml" in answer.headers["Accept-Post"]


def test_a_body_without_content_type_is_415(client: Client) -> None:
    answer = post(client, b'{"EnrichId": "x"}')
    assert answer.status_code == 415 and agent_error(answer)["Status"] == 415


@pytest.mark.parametrize(("media_type", "body", "status", "location"), BAD_BODIES)
@pytest.mark.parametrize("accept", [JSON, "application/xml"])
def test_bad_bodies_name_their_location(
    client: Client,
    core_app: App,
    media_type: str,
    body: bytes,
    status: int,
    location: str,
    accept: str,
) -> None:
    answer = post(client, body, Content_Type=media_type, Accept=accept)
    assert answer.status_code == status
    assert agent_error(answer)["Location"] == location
    assert answer.headers["Content-Type"].startswith(accept)
    same_as_core(answer, core(core_app, body, Content_Type=media_type, Accept=accept))


def test_a_handlers_own_error_is_answered_in_the_agent_shape(client: Client) -> None:
    """The README's responder (falcon) or view (Flask) raising NotFound for an EnrichId."""
    answer = post(client, b'{"EnrichId": "NO-000000000"}', Content_Type=JSON, Accept="text/xml")
    assert answer.status_code == 404
    assert agent_error(answer) == {
        "Message": "Not Found",
        "MessageDetail": "Unknown EnrichId 'NO-000000000' - at /EnrichId",
        "Status": 404,
        "Location": "/EnrichId",
    }


def test_an_unknown_select_path_is_400(client: Client, wrapper: dict[str, Any]) -> None:
    answer = post(client, orjson.dumps(wrapper), "$select=Nmae", Content_Type=JSON)
    assert answer.status_code == 400
    error = agent_error(answer)
    assert error["Location"] == "$select" and "Nmae" in error["MessageDetail"]


def test_under_a_real_server(
    framework: Framework, readme: types.ModuleType, core_app: App, wrapper: dict[str, Any]
) -> None:
    body = encode_request("text/xml", shaped_wrapper(wrapper))
    headers = {
        "Content-Type": "text/xml",
        "Accept": "application/json;q=0.5, application/xml",
        "Accept-Language": "nb",
    }
    with framework.server(readme.app) as server, httpx.Client(base_url=server.url) as http:
        answer = http.post(
            ENRICH_PATH, params={"$select": "Name,Category"}, content=body, headers=headers
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/xml; charset=utf-8"
        expected = core(core_app, body, "$select=Name,Category", **headers)
        assert (
            answer.headers["vary"]
            == expected.header("vary")
            == "Accept, SO-TimeZone, SO-Language, Accept-Language"
        )
        assert answer.headers["content-language"] == expected.header("content-language")
        assert answer.content == expected.body
        bad = http.post(ENRICH_PATH, content=b"{", headers={"Content-Type": JSON})
        assert bad.status_code == 400
        assert AGENT_KEYS <= set(bad.json())


# -- Content-Encoding of the request body ---------------------------------------------------


@pytest.mark.parametrize("coding", CODINGS)
def test_a_coded_body_is_decoded_as_the_core_decodes_it(
    client: Client, core_app: App, wrapper: dict[str, Any], coding: str
) -> None:
    body = coded(orjson.dumps(wrapper), coding)
    headers = {"Content_Type": JSON, "Content_Encoding": coding}
    answer = post(client, body, "$select=Name", **headers)
    assert answer.status_code == 200, answer.content
    assert orjson.loads(answer.content)["Name"] == "Nordvik AS"
    same_as_core(answer, core(core_app, body, "$select=Name", **headers))


@pytest.mark.parametrize("coding", UNKNOWN_CODINGS)
def test_an_unknown_coding_is_415_listing_the_readable_ones(
    client: Client, core_app: App, wrapper: dict[str, Any], coding: str
) -> None:
    body = orjson.dumps(wrapper)
    headers = {"Content_Type": JSON, "Content_Encoding": coding, "Accept": "text/xml"}
    answer = post(client, body, **headers)
    assert answer.status_code == 415
    assert answer.headers["Accept-Encoding"] == READABLE
    assert "Accept-Post" not in answer.headers
    assert agent_error(answer)["Location"] == "Content-Encoding"
    expected = core(core_app, body, **headers)
    same_as_core(answer, expected)
    assert answer.headers["Accept-Encoding"] == expected.header("Accept-Encoding")


@pytest.mark.parametrize(("coding", "cut"), [("br", 3), ("gzip", 6)])
def test_corrupt_coded_data_is_400_as_the_cores(
    client: Client, core_app: App, wrapper: dict[str, Any], coding: str, cut: int
) -> None:
    body = coded(orjson.dumps(wrapper), coding)[:-cut]  # truncated
    headers = {"Content_Type": JSON, "Content_Encoding": coding}
    answer = post(client, body, **headers)
    assert answer.status_code == 400
    same_as_core(answer, core(core_app, body, **headers))


def test_a_gzip_bomb_is_413_in_bounded_memory(client: Client, core_app: App) -> None:
    bomb = gzip_bomb()
    headers = {"Content_Type": JSON, "Content_Encoding": "gzip"}
    answer, peak = peak_memory(lambda: post(client, bomb, **headers))
    assert answer.status_code == 413
    assert agent_error(answer)["Limit"] == BOMB_LIMIT
    assert bounded(peak), peak
    same_as_core(answer, core(core_app, bomb, **headers))
