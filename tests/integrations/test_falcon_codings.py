"""negotiate.integrations.falcon: a coded request body read by an undecorated responder.

Falcon hands a media handler the body's stream and nothing of the request, so
:func:`~negotiate.integrations.falcon.install` adds a middleware that tells the
handlers a body's ``Content-Encoding``; ``req.get_media()`` then undoes it as the
core does (bounded by ``Options.max_body``; 415 for a coding it cannot read, when the
body is read).
"""

from __future__ import annotations

from typing import Any

import falcon
import falcon.testing
import orjson
import pytest
from _shared import (
    BOMB_LIMIT,
    CODINGS,
    JSON,
    READABLE,
    UNKNOWN_CODINGS,
    bounded,
    coded,
    gzip_bomb,
    peak_memory,
)

from negotiate import Options, get_schema
from negotiate.integrations import falcon as falcon_integration
from negotiate.integrations.falcon import Negotiate, install, negotiate_carrier

VALUE = {"Name": "Nordvik AS", "Numbers": [1, 2, 3], "Note": "æøå"}


class Echo:
    """Undecorated: whatever ``req.get_media()`` reads, answered as JSON."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"read": req.get_media()}


class Ignores:
    """Undecorated, and never reads its body."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"read": None}


class Decorated:
    """Decorated: the carrier as it was read."""

    @negotiate_carrier(request=get_schema("ContactEntity"), response=get_schema("ContactEntity"))
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = req.get_media()


def _client(limit: int | None = None) -> falcon.testing.TestClient:
    app = falcon.App()
    install(app, Negotiate(options=Options(max_body=limit)) if limit else None)
    app.add_route("/echo", Echo())
    app.add_route("/ignores", Ignores())
    app.add_route("/contact", Decorated())
    return falcon.testing.TestClient(app)


@pytest.fixture(scope="module")
def client() -> falcon.testing.TestClient:
    return _client()


def _post(
    client: falcon.testing.TestClient, path: str, body: bytes, **headers: str
) -> falcon.testing.Result:
    return client.simulate_post(path, body=body, headers={"Content-Type": JSON, **headers})


@pytest.mark.parametrize("coding", CODINGS)
def test_get_media_undoes_the_coding(client: falcon.testing.TestClient, coding: str) -> None:
    answer = _post(client, "/echo", coded(orjson.dumps(VALUE), coding), Content_Encoding=coding)
    assert answer.status_code == 200, answer.text
    assert answer.json == {"read": VALUE}


def test_a_body_without_coding_is_read_as_it_came(client: falcon.testing.TestClient) -> None:
    assert _post(client, "/echo", orjson.dumps(VALUE)).json == {"read": VALUE}
    plain = _post(client, "/echo", orjson.dumps(VALUE), Content_Encoding="identity")
    assert plain.json == {"read": VALUE}


def test_the_coding_of_one_request_is_not_anothers(client: falcon.testing.TestClient) -> None:
    gzipped = _post(client, "/echo", coded(orjson.dumps(VALUE), "gzip"), Content_Encoding="gzip")
    assert gzipped.status_code == 200
    assert falcon_integration._CODED.get() is None  # reset when the request ended
    # the next request on the same thread sends plain JSON: nothing to undo
    assert _post(client, "/echo", orjson.dumps([1])).json == {"read": [1]}


def test_a_request_inside_a_coded_one_reads_its_own_body(
    client: falcon.testing.TestClient,
) -> None:
    class Outer:
        """Calls the inner app (plain JSON) before reading its own (gzip) body."""

        def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
            inner = _post(client, "/echo", orjson.dumps([1]))
            resp.media = {"inner": inner.json, "outer": req.get_media()}

    app = falcon.App()
    install(app)
    app.add_route("/outer", Outer())
    body = coded(orjson.dumps(VALUE), "gzip")
    answer = _post(falcon.testing.TestClient(app), "/outer", body, Content_Encoding="gzip")
    assert answer.status_code == 200, answer.text
    assert answer.json == {"inner": {"read": [1]}, "outer": VALUE}


def test_installing_twice_decodes_once() -> None:
    app = falcon.App()
    install(app)
    install(app)
    app.add_route("/echo", Echo())
    app.add_route("/contact", Decorated())
    twice = falcon.testing.TestClient(app)
    for path in ("/echo", "/contact"):
        body = coded(orjson.dumps({"Name": "Nordvik AS"}), "gzip, deflate")
        answer = _post(twice, path, body, Content_Encoding="gzip, deflate")
        assert answer.status_code == 200, answer.text
        assert falcon_integration._CODED.get() is None


@pytest.mark.parametrize("coding", UNKNOWN_CODINGS)
def test_an_unknown_coding_is_415_when_the_body_is_read(
    client: falcon.testing.TestClient, coding: str
) -> None:
    answer = _post(client, "/echo", orjson.dumps(VALUE), Content_Encoding=coding)
    assert answer.status_code == 415, answer.text
    assert answer.headers["Accept-Encoding"] == READABLE
    assert answer.json["Location"] == "Content-Encoding"
    # a responder that never reads its body is not refused for the body's coding
    ignored = _post(client, "/ignores", orjson.dumps(VALUE), Content_Encoding=coding)
    assert ignored.status_code == 200 and ignored.json == {"read": None}
    # nor is a request for no route: 404 as ever
    assert _post(client, "/nowhere", b"{}", Content_Encoding=coding).status_code == 404


def test_corrupt_coded_data_is_400(client: falcon.testing.TestClient) -> None:
    body = coded(orjson.dumps(VALUE), "gzip")[:-5]
    answer = _post(client, "/echo", body, Content_Encoding="gzip")
    assert answer.status_code == 400, answer.text
    assert set(answer.json) >= {"Message", "Status", "Location"}


def test_a_gzip_bomb_is_413_in_bounded_memory(client: falcon.testing.TestClient) -> None:
    bomb = gzip_bomb()
    answer, peak = peak_memory(lambda: _post(client, "/echo", bomb, Content_Encoding="gzip"))
    assert answer.status_code == 413
    assert answer.json["Limit"] == BOMB_LIMIT
    assert bounded(peak), peak


def test_the_limit_holds_for_the_decoded_body() -> None:
    body = coded(orjson.dumps({"Name": "x" * 100}), "gzip, deflate")
    assert len(body) < 80
    answer = _post(_client(limit=64), "/echo", body, Content_Encoding="gzip, deflate")
    assert answer.status_code == 413 and answer.json["Limit"] == 64


def test_a_decorated_responder_decodes_its_body_once(client: falcon.testing.TestClient) -> None:
    contact = {"Name": "Nordvik AS", "Department": "Sales"}
    body = coded(orjson.dumps(contact), "gzip")
    answer = _post(client, "/contact", body, Content_Encoding="gzip")
    assert answer.status_code == 200, answer.text
    value: dict[str, Any] = answer.json
    assert value["Name"] == "Nordvik AS" and value["Department"] == "Sales"
