"""negotiate.integrations.falcon: what only falcon has (media handlers, params, limits).

The README's falcon app answering as the core does, under falcon's TestClient
and waitress, is tested with Flask's in ``test_wsgi_frameworks.py``; here, what
falcon alone does: ``install``'s media handlers, undecorated resources, params
reaching the request base, and a chunked body under waitress.
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
    JSON,
    WaitressThread,
    agent_error as _agent_error,
    coded,
    core,
    nordvik,
    readme_module,
    without_codings,
)
from helpers import CONTACT, decode_response

from negotiate import Options, get_schema
from negotiate.errors import NotFound
from negotiate.http import App
from negotiate.integrations.falcon import MediaHandler, Negotiate, install, negotiate_carrier
from negotiate.server import ENRICH_PATH


@pytest.fixture(scope="module")
def readme() -> types.ModuleType:
    """The README's falcon app, run as written (its own prints included)."""
    return readme_module("With Falcon", "readme_falcon")


def agent_error(answer: falcon.testing.Result) -> dict[str, Any]:
    """An error answer's body, checked to be in the agent shape."""
    return _agent_error(answer.status_code, answer.headers, answer.content)


def test_install_puts_a_handler_for_every_registered_type() -> None:
    app = falcon.App()
    negotiate = install(app, Negotiate(options=Options(max_body=1024)))
    for handlers in (app.req_options.media_handlers, app.resp_options.media_handlers):
        for media_type in negotiate.registry.request_types:
            handler = handlers[media_type]
            assert isinstance(handler, MediaHandler) and handler.negotiate is negotiate
        assert "multipart/form-data" in handlers  # falcon's own stay


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


def test_a_chunked_body_is_read_under_a_real_server(
    readme: types.ModuleType, app: App, enrich_id: str
) -> None:
    body = orjson.dumps(nordvik(enrich_id))

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    with WaitressThread(readme.app) as server, httpx.Client(base_url=server.url) as http:
        answer = http.post(ENRICH_PATH, content=chunks(), headers={"Content-Type": JSON})
    assert answer.status_code == 200
    assert answer.content == core(without_codings(app), body, Content_Type=JSON).body


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


def test_a_coded_body_over_the_limit_once_decoded_is_413() -> None:
    app, _ = _contacts_app(limit=64)
    body = coded(orjson.dumps({"Name": "x" * 100}), "gzip, deflate")
    assert len(body) < 80
    headers = {"Content-Type": JSON, "Content-Encoding": "gzip, deflate"}
    answer = falcon.testing.TestClient(app).simulate_patch(
        "/contacts/7", body=body, headers=headers
    )
    assert answer.status_code == 413 and agent_error(answer)["Limit"] == 64
