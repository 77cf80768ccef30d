"""negotiate.integrations.flask: the README's app with Flask's test client, and under wsgiref.

The reference application (:mod:`negotiate.server`) answers the same requests
through :class:`negotiate.http.App`; a decorated Flask view must answer byte for
byte the same, for every request and response type.
"""

from __future__ import annotations

import types
from typing import Any

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
    agent_error as _agent_error,
    bounded,
    coded,
    core,
    gzip_bomb,
    named,
    peak_memory,
    readme_module,
    shaped_wrapper,
    without_codings,
)
from helpers import (
    CONTACT,
    REQUEST_TYPES,
    RESPONSE_TYPES,
    WRAPPER,
    WsgirefThread,
    decode_response,
    encode_request,
)
from werkzeug.test import EnvironBuilder

from negotiate import Options, get_schema
from negotiate.errors import NotFound
from negotiate.http import App
from negotiate.integrations.flask import EXTENSION, Negotiate
from negotiate.server import ENRICH_PATH


@pytest.fixture(scope="module")
def readme() -> types.ModuleType:
    """The README's Flask app, run as written (its own prints included)."""
    return readme_module("With Flask", "readme_flask")


@pytest.fixture(scope="module")
def client(readme: types.ModuleType) -> flask.testing.FlaskClient:
    app: flask.Flask = readme.app
    return app.test_client()


@pytest.fixture(scope="module")
def core_app(app: App) -> App:
    """The reference application without content codings (as the integration answers)."""
    return without_codings(app)


def post(client: flask.testing.FlaskClient, body: bytes, query: str = "", **headers: str) -> Any:
    path = ENRICH_PATH + (f"?{query}" if query else "")
    return client.post(path, data=body, headers=named(headers))


def agent_error(answer: Any) -> dict[str, Any]:
    """An error answer's body, checked to be in the agent shape."""
    return _agent_error(answer.status_code, answer.headers, answer.data)


def same_as_core(answer: Any, expected: Any) -> None:
    """The integration's answer is the core's: status, headers it names, body."""
    assert answer.status_code == expected.status
    for name in ("Content-Type", "Vary", "Content-Language", "Accept-Post"):
        assert answer.headers.get(name) == expected.header(name), name
    assert answer.data == expected.body


@pytest.fixture
def wrapper(enrich_id: str) -> dict[str, Any]:
    contact = {"Name": "Nordvik AS", "Phones": [{"Value": "22 96 81 51"}]}
    return {"ContactEntity": contact, "EnrichId": enrich_id}


def test_init_app_stores_the_extension() -> None:
    app = flask.Flask("init_app")
    negotiate = Negotiate(options=Options(max_body=1024))
    assert EXTENSION not in app.extensions
    negotiate.init_app(app)
    assert app.extensions[EXTENSION] is negotiate
    assert negotiate.registry is not None and negotiate.options.max_body == 1024


@pytest.mark.parametrize("media_type", REQUEST_TYPES)
def test_every_request_type_answers_as_the_core(
    client: flask.testing.FlaskClient, core_app: App, wrapper: dict[str, Any], media_type: str
) -> None:
    body = encode_request(media_type, wrapper)
    answer = post(client, body, Content_Type=media_type)
    same_as_core(answer, core(core_app, body, Content_Type=media_type))
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    contact = orjson.loads(answer.data)
    assert contact["Name"] == "Nordvik AS" and len(contact["Phones"]) > 1


@pytest.mark.parametrize("media_type", RESPONSE_TYPES)
def test_every_response_type_answers_as_the_core(
    client: flask.testing.FlaskClient, core_app: App, wrapper: dict[str, Any], media_type: str
) -> None:
    body = orjson.dumps(wrapper)
    answer = post(client, body, Content_Type=JSON, Accept=media_type)
    same_as_core(answer, core(core_app, body, Content_Type=JSON, Accept=media_type))
    assert answer.status_code == 200
    sent = CONTACT.normalize(wrapper["ContactEntity"])
    json_answer = orjson.loads(post(client, body, Content_Type=JSON).data)
    assert decode_response(media_type, answer.data, sent) == json_answer


@pytest.mark.parametrize(("accept", "chosen"), ACCEPTS)
def test_accept_weighs_q_values(
    client: flask.testing.FlaskClient, wrapper: dict[str, Any], accept: str, chosen: str
) -> None:
    answer = post(client, orjson.dumps(wrapper), Content_Type=JSON, Accept=accept)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].split(";")[0] == chosen


@pytest.mark.parametrize("query", SELECTS)
def test_select_projects_the_answer(
    client: flask.testing.FlaskClient, core_app: App, wrapper: dict[str, Any], query: str
) -> None:
    body = orjson.dumps(wrapper)
    answer = post(client, body, query, Content_Type=JSON)
    assert answer.status_code == 200
    same_as_core(answer, core(core_app, body, query, Content_Type=JSON))
    contact = orjson.loads(answer.data)
    assert contact["Name"] == "Nordvik AS" and contact["OrgNr"] is None
    assert contact["Phones"][0]["Value"] and contact["Phones"][0]["Description"] is None


def test_shaping_headers_apply(
    client: flask.testing.FlaskClient, core_app: App, wrapper: dict[str, Any]
) -> None:
    body = orjson.dumps(shaped_wrapper(wrapper))
    shaping = {"SO_TimeZone": "US-NY, includeTZOffset", "SO_Language": "nb"}
    answer = post(client, body, Content_Type=JSON, **shaping)
    assert answer.status_code == 200
    same_as_core(answer, core(core_app, body, Content_Type=JSON, **shaping))
    assert answer.headers["Vary"] == "Accept, SO-TimeZone, SO-Language, Accept-Language"
    assert answer.headers["Content-Language"] == "nb"
    contact = orjson.loads(answer.data)
    assert contact["DbiLastModified"] == "2024-03-01T06:00:00.5-0500"
    assert contact["Category"]["Value"] == "Leverandør"
    bad = post(client, body, Content_Type=JSON, SO_TimeZone="Mars/Olympus")
    assert bad.status_code == 400 and agent_error(bad)["Location"] == "SO-TimeZone"


@pytest.mark.parametrize("shaping", SHAPINGS, ids=lambda h: ",".join(h) or "none")
@pytest.mark.parametrize("accept", [JSON, "application/xml"])
def test_vary_names_the_headers_read_as_the_core_does(
    client: flask.testing.FlaskClient,
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


def test_vary_of_an_error_is_accept_as_the_cores(
    client: flask.testing.FlaskClient, core_app: App
) -> None:
    headers = {"Content-Type": JSON, "SO-TimeZone": "Europe/Oslo", "SO-Language": "nb"}
    answer = post(client, b'{"EnrichId": 5}', **headers)
    same_as_core(answer, core(core_app, b'{"EnrichId": 5}', **headers))
    assert answer.status_code == 400 and answer.headers["Vary"] == "Accept"


def test_not_acceptable_is_406_in_json(
    client: flask.testing.FlaskClient, wrapper: dict[str, Any]
) -> None:
    answer = post(client, orjson.dumps(wrapper), Content_Type=JSON, Accept="image/png")
    assert answer.status_code == 406
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert agent_error(answer)["Supported"] == list(RESPONSE_TYPES)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json; charset=latin-9"])
def test_unsupported_content_type_is_415(
    client: flask.testing.FlaskClient, content_type: str
) -> None:
    answer = post(client, b'{"EnrichId": "x"}', Content_Type=content_type, Accept="text/xml")
    assert answer.status_code == 415
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert agent_error(answer)["Message"] == "Unsupported Media Type"
    assert "application/xml" in answer.headers["Accept-Post"]


def test_a_body_without_content_type_is_415(client: flask.testing.FlaskClient) -> None:
    answer = client.post(ENRICH_PATH, data=b'{"EnrichId": "x"}')
    assert answer.status_code == 415 and agent_error(answer)["Status"] == 415


@pytest.mark.parametrize(("media_type", "body", "status", "location"), BAD_BODIES)
@pytest.mark.parametrize("accept", [JSON, "application/xml"])
def test_bad_bodies_name_their_location(
    client: flask.testing.FlaskClient,
    core_app: App,
    media_type: str,
    body: bytes,
    status: int,
    location: str,
    accept: str,
) -> None:
    answer = post(client, body, Content_Type=media_type, Accept=accept)
    assert answer.status_code == status
    error = agent_error(answer)
    assert error["Location"] == location
    assert answer.headers["Content-Type"].startswith(accept)
    same_as_core(answer, core(core_app, body, Content_Type=media_type, Accept=accept))


def test_a_views_own_error_is_answered_in_the_agent_shape(
    client: flask.testing.FlaskClient,
) -> None:
    answer = post(client, b'{"EnrichId": "NO-000000000"}', Content_Type=JSON, Accept="text/xml")
    assert answer.status_code == 404
    assert agent_error(answer) == {
        "Message": "Not Found",
        "MessageDetail": "Unknown EnrichId 'NO-000000000' - at /EnrichId",
        "Status": 404,
        "Location": "/EnrichId",
    }


def test_an_unknown_select_path_is_400(
    client: flask.testing.FlaskClient, wrapper: dict[str, Any]
) -> None:
    answer = post(client, orjson.dumps(wrapper), "$select=Nmae", Content_Type=JSON)
    assert answer.status_code == 400
    error = agent_error(answer)
    assert error["Location"] == "$select" and "Nmae" in error["MessageDetail"]


def _limited_app(limit: int) -> flask.Flask:
    app = flask.Flask("limited")
    negotiate = Negotiate(app, options=Options(max_body=limit))
    store = {7: CONTACT.normalize({"ContactId": 7, "Name": "Nordvik AS"})}

    @app.route("/contacts/<int:contact_id>", methods=["PATCH"])
    @negotiate.route(
        request=CONTACT,
        response=CONTACT,
        request_base=lambda url: store[url["contact_id"]],
    )
    def patch_contact(value: dict[str, Any], contact_id: int) -> dict[str, Any]:
        store[contact_id] = value
        return value

    @app.get("/contacts/<int:contact_id>")
    def get_contact(contact_id: int) -> Any:
        if contact_id not in store:
            raise NotFound(f"No contact {contact_id}", location="/ContactId")
        return store[contact_id]

    return app


def test_url_values_reach_the_view_and_the_request_base() -> None:
    client = _limited_app(4096).test_client()
    answer = client.patch(
        "/contacts/7",
        data=b'{"Department": "Sales"}',
        headers={"Content-Type": "application/merge-patch+json", "Accept": "application/xml"},
    )
    assert answer.status_code == 200
    contact = decode_response("application/xml", answer.data, None)
    assert (contact["ContactId"], contact["Name"], contact["Department"]) == (
        7,
        "Nordvik AS",
        "Sales",
    )


def test_a_plain_view_raising_a_negotiate_error_gets_the_agent_shape() -> None:
    client = _limited_app(4096).test_client()
    answer = client.get("/contacts/8", headers={"Accept": "application/json;q=0.1, text/xml"})
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert agent_error(answer)["Location"] == "/ContactId"


def test_a_body_over_the_limit_is_413() -> None:
    client = _limited_app(64).test_client()
    body = orjson.dumps({"Name": "x" * 100})
    answer = client.patch("/contacts/7", data=body, headers={"Content-Type": JSON})
    assert answer.status_code == 413 and agent_error(answer)["Status"] == 413


@pytest.mark.parametrize(("size", "status"), [(60, 200), (65, 413)])
def test_a_body_without_content_length_is_read_when_the_server_terminates_it(
    size: int, status: int
) -> None:
    """``wsgi.input_terminated`` (chunked uploads): read to its end, held to the limit."""
    client = _limited_app(64).test_client()
    body = b'{"Department": "' + b"x" * (size - 18) + b'"}'
    assert len(body) == size
    env = EnvironBuilder(
        "/contacts/7",
        method="PATCH",
        data=body,
        headers={"Content-Type": "application/merge-patch+json"},
    ).get_environ()
    del env["CONTENT_LENGTH"]
    env["wsgi.input_terminated"] = True
    answer = client.open(env)
    assert answer.status_code == status
    if status == 200:
        assert orjson.loads(answer.data)["Department"] == "x" * (size - 18)


def test_the_wrapper_schema_is_the_one_declared() -> None:
    assert get_schema("EnrichContactEntityRequest") is WRAPPER


def test_under_a_real_server(
    readme: types.ModuleType, core_app: App, wrapper: dict[str, Any]
) -> None:
    body = encode_request("text/xml", shaped_wrapper(wrapper))
    headers = {
        "Content-Type": "text/xml",
        "Accept": "application/json;q=0.5, application/xml",
        "Accept-Language": "nb",
    }
    with WsgirefThread(readme.app) as server, httpx.Client(base_url=server.url) as http:
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
    client: flask.testing.FlaskClient, core_app: App, wrapper: dict[str, Any], coding: str
) -> None:
    body = coded(orjson.dumps(wrapper), coding)
    headers = {"Content_Type": JSON, "Content_Encoding": coding}
    answer = post(client, body, "$select=Name", **headers)
    assert answer.status_code == 200, answer.data
    assert orjson.loads(answer.data)["Name"] == "Nordvik AS"
    same_as_core(answer, core(core_app, body, "$select=Name", **headers))


@pytest.mark.parametrize("coding", UNKNOWN_CODINGS)
def test_an_unknown_coding_is_415_listing_the_readable_ones(
    client: flask.testing.FlaskClient, core_app: App, wrapper: dict[str, Any], coding: str
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


def test_corrupt_coded_data_is_400_as_the_cores(
    client: flask.testing.FlaskClient, core_app: App, wrapper: dict[str, Any]
) -> None:
    body = coded(orjson.dumps(wrapper), "gzip")[:-6]  # truncated
    headers = {"Content_Type": JSON, "Content_Encoding": "gzip"}
    answer = post(client, body, **headers)
    assert answer.status_code == 400
    same_as_core(answer, core(core_app, body, **headers))


def test_a_gzip_bomb_is_413_in_bounded_memory(
    client: flask.testing.FlaskClient, core_app: App
) -> None:
    bomb = gzip_bomb()
    headers = {"Content_Type": JSON, "Content_Encoding": "gzip"}
    answer, peak = peak_memory(lambda: post(client, bomb, **headers))
    assert answer.status_code == 413
    assert agent_error(answer)["Limit"] == BOMB_LIMIT
    assert bounded(peak), peak
    same_as_core(answer, core(core_app, bomb, **headers))


def test_a_coded_body_over_the_limit_once_decoded_is_413() -> None:
    client = _limited_app(64).test_client()
    body = coded(orjson.dumps({"Name": "x" * 100}), "deflate")
    assert len(body) < 64
    headers = {"Content-Type": JSON, "Content-Encoding": "deflate"}
    answer = client.patch("/contacts/7", data=body, headers=headers)
    assert answer.status_code == 413 and agent_error(answer)["Limit"] == 64
