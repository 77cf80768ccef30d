"""negotiate.integrations.flask: what only Flask has (the extension, ``url_values``, limits).

The README's Flask app answering as the core does, under Flask's test client
and wsgiref, is tested with falcon's in ``test_wsgi_frameworks.py``.
"""

from __future__ import annotations

from typing import Any

import flask
import orjson
import pytest
from _shared import JSON, agent_error as _agent_error, coded
from helpers import CONTACT, WRAPPER, decode_response
from werkzeug.test import EnvironBuilder

from negotiate import Options, get_schema
from negotiate.errors import NotFound
from negotiate.integrations.flask import EXTENSION, Negotiate


def agent_error(answer: Any) -> dict[str, Any]:
    """An error answer's body, checked to be in the agent shape."""
    return _agent_error(answer.status_code, answer.headers, answer.data)


def test_init_app_stores_the_extension() -> None:
    app = flask.Flask("init_app")
    negotiate = Negotiate(options=Options(max_body=1024))
    assert EXTENSION not in app.extensions
    negotiate.init_app(app)
    assert app.extensions[EXTENSION] is negotiate
    assert negotiate.registry is not None and negotiate.options.max_body == 1024


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


def test_a_coded_body_over_the_limit_once_decoded_is_413() -> None:
    client = _limited_app(64).test_client()
    body = coded(orjson.dumps({"Name": "x" * 100}), "deflate")
    assert len(body) < 64
    headers = {"Content-Type": JSON, "Content-Encoding": "deflate"}
    answer = client.patch("/contacts/7", data=body, headers=headers)
    assert answer.status_code == 413 and agent_error(answer)["Limit"] == 64
