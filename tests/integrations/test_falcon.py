"""negotiate.integrations.falcon: the README's app with falcon's TestClient, and under waitress.

The reference application (:mod:`negotiate.server`) answers the same requests
through :class:`negotiate.http.App`; a decorated falcon responder must answer
byte for byte the same, for every request and response type.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import falcon
import falcon.testing
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
    peak_memory,
    readme_module,
    shaped_wrapper,
    without_codings,
)
from helpers import CONTACT, REQUEST_TYPES, RESPONSE_TYPES, decode_response, encode_request

from negotiate import Options, get_schema
from negotiate.errors import NotFound
from negotiate.http import App
from negotiate.integrations.falcon import MediaHandler, Negotiate, install, negotiate_carrier
from negotiate.server import ENRICH_PATH


@pytest.fixture(scope="module")
def readme() -> types.ModuleType:
    """The README's falcon app, run as written (its own prints included)."""
    return readme_module("With Falcon", "readme_falcon")


@pytest.fixture(scope="module")
def client(readme: types.ModuleType) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(readme.app)


@pytest.fixture(scope="module")
def core_app(app: App) -> App:
    """The reference application without content codings (as the integration answers)."""
    return without_codings(app)


def post(
    client: falcon.testing.TestClient, body: bytes, query: str = "", **headers: str
) -> falcon.testing.Result:
    return client.simulate_post(
        ENRICH_PATH, body=body, query_string=query or None, headers=named(headers)
    )


def agent_error(answer: falcon.testing.Result) -> dict[str, Any]:
    """An error answer's body, checked to be in the agent shape."""
    return _agent_error(answer.status_code, answer.headers, answer.content)


def same_as_core(answer: falcon.testing.Result, expected: Any) -> None:
    """The integration's answer is the core's: status, headers it names, body."""
    assert answer.status_code == expected.status
    for name in ("Content-Type", "Vary", "Content-Language", "Accept-Post"):
        assert answer.headers.get(name) == expected.header(name), name
    assert answer.content == expected.body


@pytest.fixture
def wrapper(enrich_id: str) -> dict[str, Any]:
    contact = {"Name": "Nordvik AS", "Phones": [{"Value": "22 96 81 51"}]}
    return {"ContactEntity": contact, "EnrichId": enrich_id}


def test_install_puts_a_handler_for_every_registered_type() -> None:
    app = falcon.App()
    negotiate = install(app, Negotiate(options=Options(max_body=1024)))
    for handlers in (app.req_options.media_handlers, app.resp_options.media_handlers):
        for media_type in negotiate.registry.request_types:
            handler = handlers[media_type]
            assert isinstance(handler, MediaHandler) and handler.negotiate is negotiate
        assert "multipart/form-data" in handlers  # falcon's own stay


@pytest.mark.parametrize("media_type", REQUEST_TYPES)
def test_every_request_type_answers_as_the_core(
    client: falcon.testing.TestClient, core_app: App, wrapper: dict[str, Any], media_type: str
) -> None:
    body = encode_request(media_type, wrapper)
    answer = post(client, body, Content_Type=media_type)
    same_as_core(answer, core(core_app, body, Content_Type=media_type))
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    contact = orjson.loads(answer.content)
    assert contact["Name"] == "Nordvik AS" and len(contact["Phones"]) > 1


@pytest.mark.parametrize("media_type", RESPONSE_TYPES)
def test_every_response_type_answers_as_the_core(
    client: falcon.testing.TestClient, core_app: App, wrapper: dict[str, Any], media_type: str
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
    client: falcon.testing.TestClient, wrapper: dict[str, Any], accept: str, chosen: str
) -> None:
    answer = post(client, orjson.dumps(wrapper), Content_Type=JSON, Accept=accept)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].split(";")[0] == chosen


@pytest.mark.parametrize("query", SELECTS)
def test_select_projects_the_answer(
    client: falcon.testing.TestClient, core_app: App, wrapper: dict[str, Any], query: str
) -> None:
    body = orjson.dumps(wrapper)
    answer = post(client, body, query, Content_Type=JSON)
    assert answer.status_code == 200
    same_as_core(answer, core(core_app, body, query, Content_Type=JSON))
    contact = orjson.loads(answer.content)
    assert contact["Name"] == "Nordvik AS" and contact["OrgNr"] is None
    assert contact["Phones"][0]["Value"] and contact["Phones"][0]["Description"] is None


def test_shaping_headers_apply(
    client: falcon.testing.TestClient, core_app: App, wrapper: dict[str, Any]
) -> None:
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
    client: falcon.testing.TestClient,
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
    client: falcon.testing.TestClient, core_app: App
) -> None:
    headers = {"Content-Type": JSON, "SO-TimeZone": "Europe/Oslo", "SO-Language": "nb"}
    answer = post(client, b'{"EnrichId": 5}', **headers)
    same_as_core(answer, core(core_app, b'{"EnrichId": 5}', **headers))
    assert answer.status_code == 400 and answer.headers["Vary"] == "Accept"


def test_not_acceptable_is_406_in_json(
    client: falcon.testing.TestClient, wrapper: dict[str, Any]
) -> None:
    answer = post(client, orjson.dumps(wrapper), Content_Type=JSON, Accept="image/png")
    assert answer.status_code == 406
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert agent_error(answer)["Supported"] == list(RESPONSE_TYPES)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json; charset=latin-9"])
def test_unsupported_content_type_is_415(
    client: falcon.testing.TestClient, content_type: str
) -> None:
    answer = post(client, b'{"EnrichId": "x"}', Content_Type=content_type, Accept="text/xml")
    assert answer.status_code == 415
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert agent_error(answer)["Message"] == "Unsupported Media Type"
    assert "application/xml" in answer.headers["Accept-Post"]


def test_a_body_without_content_type_is_415(client: falcon.testing.TestClient) -> None:
    answer = client.simulate_post(ENRICH_PATH, body=b'{"EnrichId": "x"}')
    assert answer.status_code == 415 and agent_error(answer)["Status"] == 415


@pytest.mark.parametrize(("media_type", "body", "status", "location"), BAD_BODIES)
@pytest.mark.parametrize("accept", [JSON, "application/xml"])
def test_bad_bodies_name_their_location(
    client: falcon.testing.TestClient,
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


def test_a_responders_own_error_is_answered_in_the_agent_shape(
    client: falcon.testing.TestClient,
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
    client: falcon.testing.TestClient, wrapper: dict[str, Any]
) -> None:
    answer = post(client, orjson.dumps(wrapper), "$select=Nmae", Content_Type=JSON)
    assert answer.status_code == 400
    error = agent_error(answer)
    assert error["Location"] == "$select" and "Nmae" in error["MessageDetail"]


class Contacts:
    """A stored contact: PATCH negotiated with a request base; GET by falcon's own media."""

    def __init__(self) -> None:
        self.store = {7: CONTACT.normalize({"ContactId": 7, "Name": "Nordvik AS"})}
        self.seen: list[Any] = []

    @negotiate_carrier(CONTACT, CONTACT, request_base=lambda call: call.resource.stored(call))
    def on_patch(self, req: falcon.Request, resp: falcon.Response, contact_id: int) -> None:
        value = req.get_media()
        self.seen.append((req.context.negotiate.request_essence, value is req.get_media()))
        self.store[contact_id] = value
        resp.media = value

    def stored(self, call: Any) -> dict[str, Any]:
        contact_id = call.params["contact_id"]
        if contact_id not in self.store:
            raise NotFound(f"No contact {contact_id}", location="/ContactId")
        return self.store[contact_id]

    def on_post(self, req: falcon.Request, resp: falcon.Response, contact_id: int) -> None:
        resp.content_type = req.get_header("Accept") or JSON
        resp.media = {"Got": req.get_media(), "Id": contact_id}


def _contacts_app(limit: int = 4096) -> tuple[falcon.App[Any, Any], Contacts]:
    app = falcon.App()
    install(app, Negotiate(options=Options(max_body=limit)))
    resource = Contacts()
    app.add_route("/contacts/{contact_id:int}", resource)
    return app, resource


def test_params_reach_the_responder_and_the_request_base() -> None:
    app, resource = _contacts_app()
    answer = falcon.testing.TestClient(app).simulate_patch(
        "/contacts/7",
        body=b'{"Department": "Sales"}',
        headers={"Content-Type": "application/merge-patch+json", "Accept": "application/xml"},
    )
    assert answer.status_code == 200
    contact = decode_response("application/xml", answer.content, None)
    assert (contact["ContactId"], contact["Name"], contact["Department"]) == (
        7,
        "Nordvik AS",
        "Sales",
    )
    assert resource.seen == [("application/merge-patch+json", True)]
    missing = falcon.testing.TestClient(app).simulate_patch(
        "/contacts/8", body=b"{}", headers={"Content-Type": "application/merge-patch+json"}
    )
    assert missing.status_code == 404 and agent_error(missing)["Location"] == "/ContactId"


def test_undecorated_resources_read_and_write_every_format_as_plain_data() -> None:
    app, _ = _contacts_app()
    client = falcon.testing.TestClient(app)
    answer = client.simulate_post(
        "/contacts/7",
        body=b"<a><b>1</b></a>",
        headers={"Content-Type": "application/xml", "Accept": JSON},
    )
    assert answer.status_code == 200
    assert orjson.loads(answer.content) == {"Got": {"a": {"b": "1"}}, "Id": 7}
    form = client.simulate_post(
        "/contacts/7",
        body=b"Name=Nordvik+AS",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": JSON},
    )
    assert orjson.loads(form.content) == {"Got": {"Name": "Nordvik AS"}, "Id": 7}
    bad = client.simulate_post(
        "/contacts/7", body=b"{", headers={"Content-Type": JSON, "Accept": "application/xml"}
    )
    assert bad.status_code == 400 and agent_error(bad)["Message"] == "Bad Request"


def test_a_body_over_the_limit_is_413() -> None:
    app, _ = _contacts_app(limit=64)
    client = falcon.testing.TestClient(app)
    body = orjson.dumps({"Name": "x" * 100})
    for method in (client.simulate_patch, client.simulate_post):
        answer = method("/contacts/7", body=body, headers={"Content-Type": JSON})
        assert answer.status_code == 413 and agent_error(answer)["Status"] == 413


def test_without_install_the_decorator_says_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = falcon.App()
    app.add_route("/contacts/{contact_id:int}", Contacts())
    answer = falcon.testing.TestClient(app).simulate_patch(
        "/contacts/7", body=b"{}", headers={"Content-Type": JSON}
    )
    assert answer.status_code == 500  # falcon's answer to the RuntimeError, logged
    assert "install(app) first" in capsys.readouterr().err


@pytest.fixture(scope="module")
def waitress_server(readme: types.ModuleType) -> Iterator[WaitressThread]:
    with WaitressThread(readme.app) as server:
        yield server


def test_under_a_real_server(
    waitress_server: WaitressThread, core_app: App, wrapper: dict[str, Any]
) -> None:
    body = encode_request("text/xml", shaped_wrapper(wrapper))
    headers = {
        "Content-Type": "text/xml",
        "Accept": "application/json;q=0.5, application/xml",
        "Accept-Language": "nb",
    }
    with httpx.Client(base_url=waitress_server.url) as http:
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


def test_a_chunked_body_is_read_under_a_real_server(
    waitress_server: WaitressThread, core_app: App, wrapper: dict[str, Any]
) -> None:
    body = orjson.dumps(wrapper)

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    with httpx.Client(base_url=waitress_server.url) as http:
        answer = http.post(ENRICH_PATH, content=chunks(), headers={"Content-Type": JSON})
    assert answer.status_code == 200
    assert answer.content == core(core_app, body, Content_Type=JSON).body


@pytest.mark.parametrize(("size", "status"), [(60, 200), (65, 413)])
def test_a_body_without_content_length_is_read_when_the_server_terminates_it(
    size: int, status: int
) -> None:
    """``wsgi.input_terminated`` (chunked uploads): falcon's bounded_stream would be empty."""
    app, _ = _contacts_app(limit=64)
    body = b'{"Department": "' + b"x" * (size - 18) + b'"}'
    assert len(body) == size
    env = falcon.testing.create_environ(
        "/contacts/7",
        method="PATCH",
        body=body,
        headers={"Content-Type": "application/merge-patch+json"},
    )
    del env["CONTENT_LENGTH"]
    env["wsgi.input_terminated"] = True
    start = falcon.testing.StartResponseMock()
    answer = b"".join(app(env, start))
    assert start.status.startswith(str(status))
    if status == 200:
        assert orjson.loads(answer)["Department"] == "x" * (size - 18)


def test_the_wrapper_carrier_is_the_catalogues(readme: types.ModuleType) -> None:
    assert readme.CONTACT is get_schema("ContactEntity")


# -- Content-Encoding of the request body ---------------------------------------------------


@pytest.mark.parametrize("coding", CODINGS)
def test_a_coded_body_is_decoded_as_the_core_decodes_it(
    client: falcon.testing.TestClient, core_app: App, wrapper: dict[str, Any], coding: str
) -> None:
    body = coded(orjson.dumps(wrapper), coding)
    headers = {"Content_Type": JSON, "Content_Encoding": coding}
    answer = post(client, body, "$select=Name", **headers)
    assert answer.status_code == 200, answer.text
    assert orjson.loads(answer.content)["Name"] == "Nordvik AS"
    same_as_core(answer, core(core_app, body, "$select=Name", **headers))


@pytest.mark.parametrize("coding", UNKNOWN_CODINGS)
def test_an_unknown_coding_is_415_listing_the_readable_ones(
    client: falcon.testing.TestClient, core_app: App, wrapper: dict[str, Any], coding: str
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
    client: falcon.testing.TestClient, core_app: App, wrapper: dict[str, Any]
) -> None:
    body = coded(orjson.dumps(wrapper), "br")[:-3]  # truncated
    headers = {"Content_Type": JSON, "Content_Encoding": "br"}
    answer = post(client, body, **headers)
    assert answer.status_code == 400
    same_as_core(answer, core(core_app, body, **headers))


def test_a_gzip_bomb_is_413_in_bounded_memory(
    client: falcon.testing.TestClient, core_app: App
) -> None:
    bomb = gzip_bomb()
    headers = {"Content_Type": JSON, "Content_Encoding": "gzip"}
    answer, peak = peak_memory(lambda: post(client, bomb, **headers))
    assert answer.status_code == 413
    assert agent_error(answer)["Limit"] == BOMB_LIMIT
    assert bounded(peak), peak
    same_as_core(answer, core(core_app, bomb, **headers))


def test_a_coded_body_over_the_limit_once_decoded_is_413() -> None:
    app, _ = _contacts_app(limit=64)
    body = coded(orjson.dumps({"Name": "x" * 100}), "gzip, deflate")
    assert len(body) < 80
    headers = {"Content-Type": JSON, "Content-Encoding": "gzip, deflate"}
    answer = falcon.testing.TestClient(app).simulate_patch(
        "/contacts/7", body=body, headers=headers
    )
    assert answer.status_code == 413 and agent_error(answer)["Limit"] == 64
