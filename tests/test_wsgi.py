"""The WSGI adapter: direct environ calls, and under wsgiref with real HTTP.

The application behind it is the house one (``helpers.house_app``), not the
reference server's (whose ``wsgi_app`` is tested in test_server.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import orjson
import pytest
from helpers import (
    COMPLETE_PATH,
    HOUSE_ID,
    REQUEST_TYPES,
    RESPONSE_TYPES,
    SUMMARY_PATH,
    WsgirefThread,
    bearer,
    decode_response,
    encode_request,
)

from negotiate.auth import ANONYMOUS
from negotiate.http import App, Context, Operation
from negotiate.options import Options
from negotiate.wsgi import WSGIAdapter

JSON = "application/json"


@pytest.fixture(scope="module")
def app(house: App) -> App:
    """The application behind the adapter: the house one, not the reference server's."""
    return house


@pytest.fixture(scope="module")
def enrich_id() -> str:
    """An EnrichId the house directory knows."""
    return HOUSE_ID


class Input(io.BytesIO):
    """wsgi.input that records how much was read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        return super().read(size)


def environ(
    path: str = COMPLETE_PATH,
    body: bytes = b"",
    *,
    method: str = "POST",
    length: bool = True,
    **headers: str,
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "test",
        "SERVER_PORT": "80",
        "wsgi.input": Input(body),
        "wsgi.url_scheme": "http",
    }
    if length:
        env["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers.items():
        if name == "Content_Type":
            env["CONTENT_TYPE"] = value
        else:
            env["HTTP_" + name.upper()] = value
    return env


def call(app: Any, env: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    captured: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        captured.append((status, headers))

    chunks: Iterable[bytes] = app(env, start_response)
    body = b"".join(chunks)
    return captured[0][0], captured[0][1], body


def echo_app(**options: Any) -> WSGIAdapter:
    app = App(
        [Operation("/x", lambda v, c: v, None, None)],
        authenticator=ANONYMOUS,
        options=Options(**options),
    )
    return WSGIAdapter(app)


# -- direct calls --------------------------------------------------------------------------


class TestDirect:
    def test_enrich(self, app: App, enrich_id: str) -> None:
        body = orjson.dumps({"EnrichId": enrich_id})
        env = environ(body=body, Content_Type=JSON, AUTHORIZATION=bearer()["Authorization"])
        env["QUERY_STRING"] = "%24select=Address"
        status, headers, out = call(WSGIAdapter(app), env)
        assert status == "200 OK"
        assert (
            "vary",
            "Accept, Accept-Encoding, SO-TimeZone, SO-Language, Accept-Language",
        ) in headers
        assert ("content-type", "application/json; charset=utf-8") in headers
        result = orjson.loads(out)
        assert result["Address"]["Formatted"] and result["Phones"] is None

    def test_refused_before_reading_the_body(self, app: App) -> None:
        env = environ(body=b"{}", Content_Type=JSON)
        status, headers, _ = call(WSGIAdapter(app), env)
        assert status == "401 Unauthorized"
        assert dict(headers)["www-authenticate"].startswith("Basic realm=")
        assert env["wsgi.input"].reads == 0

    def test_the_body_is_read_to_content_length_only(self) -> None:
        env = environ("/x", b"[1]", Content_Type=JSON)
        env["wsgi.input"] = Input(b"[1]garbage after the body")
        status, _, out = call(echo_app(), env)
        assert (status, out) == ("200 OK", b"[1]")

    def test_no_content_length_is_an_empty_body(self) -> None:
        env = environ("/x", b"[1]", length=False, Content_Type=JSON)
        status, _, out = call(echo_app(), env)
        assert (status, out) == ("200 OK", b"null")
        assert env["wsgi.input"].reads == 0

    def test_input_terminated_is_read_to_its_end(self) -> None:
        env = environ("/x", b"[1, 2]", length=False, Content_Type=JSON)
        env["wsgi.input_terminated"] = True
        status, _, out = call(echo_app(), env)
        assert (status, out) == ("200 OK", b"[1,2]")

    def test_input_terminated_over_the_limit_is_413(self) -> None:
        env = environ("/x", b"[" + b"1," * 50 + b"1]", length=False, Content_Type=JSON)
        env["wsgi.input_terminated"] = True
        status, _, out = call(echo_app(max_body=20), env)
        assert status.startswith("413 ")
        assert orjson.loads(out)["Limit"] == 20

    def test_a_zero_padded_content_length_is_read(self) -> None:
        # more than 4300 digits: past what int() reads without a limit error
        env = environ("/x", b"[1]", Content_Type=JSON)
        env["CONTENT_LENGTH"] = "0" * 5000 + "3"
        status, _, out = call(echo_app(), env)
        assert (status, out) == ("200 OK", b"[1]")

    def test_content_length_over_the_limit_is_413_unread(self) -> None:
        env = environ("/x", b"[1]" * 10, Content_Type=JSON)
        status, _, _ = call(echo_app(max_body=20), env)
        assert status.startswith("413 ")
        assert env["wsgi.input"].reads == 0

    def test_utf8_paths_arrive_as_latin1(self) -> None:
        seen: list[str] = []

        def keep(value: Any, ctx: Context) -> Any:
            seen.append(ctx.path)
            return value

        app = WSGIAdapter(App([Operation("/æ", keep, None, None)], authenticator=ANONYMOUS))
        env = environ("/æ".encode().decode("latin-1"), b"1", Content_Type=JSON)
        status, _, _ = call(app, env)
        assert status == "200 OK" and seen == ["/æ"]

    def test_script_name_is_part_of_the_path(self, app: App, enrich_id: str) -> None:
        script_name, _, tail = SUMMARY_PATH.rpartition("/")
        env = environ(
            "/" + tail,
            orjson.dumps({"EnrichId": enrich_id}),
            Content_Type=JSON,
            AUTHORIZATION=bearer()["Authorization"],
        )
        env["SCRIPT_NAME"] = script_name
        status, _, _ = call(WSGIAdapter(app), env)
        assert status == "200 OK"

    def test_fallback(self, app: App) -> None:
        def other(env: dict[str, Any], start_response: Any) -> list[bytes]:
            start_response("204 No Content", [])
            return [b""]

        adapter = WSGIAdapter(app, fallback=other)
        assert call(adapter, environ("/health", method="GET"))[0] == "204 No Content"
        assert call(adapter, environ(COMPLETE_PATH, method="GET"))[0] == "405 Method Not Allowed"


# -- under wsgiref, real HTTP --------------------------------------------------------------------


@pytest.fixture(scope="module")
def house_server(app: App) -> Iterator[WsgirefThread]:
    """The house application under wsgiref (real HTTP on 127.0.0.1)."""
    with WsgirefThread(WSGIAdapter(app)) as server:
        yield server


@pytest.fixture(scope="module")
def client(house_server: WsgirefThread) -> Any:
    with httpx.Client(base_url=house_server.url, headers=bearer(), timeout=10) as http:
        yield http


COMBINATIONS = sorted(
    {(c, "application/json") for c in REQUEST_TYPES} | {(JSON, a) for a in RESPONSE_TYPES}
)


@pytest.mark.parametrize(("content_type", "accept"), COMBINATIONS)
def test_types_over_real_http(
    client: httpx.Client, sample: dict[str, Any], enrich_id: str, content_type: str, accept: str
) -> None:
    sample["DbiLastModified"] = "2019-07-11T11:24:47Z"
    headers = {"SO-TimeZone": "NO"}
    select = "Name,Phones,Address/Formatted,DbiLastModified"
    expected = client.post(
        COMPLETE_PATH,
        params={"$select": select},
        json={"ContactEntity": sample, "EnrichId": enrich_id},
        headers=headers,
    ).json()
    assert expected["DbiLastModified"] == "2019-07-11T13:24:47"
    response = client.post(
        COMPLETE_PATH,
        params={"$select": select},
        content=encode_request(content_type, {"ContactEntity": sample, "EnrichId": enrich_id}),
        headers={**headers, "Content-Type": content_type, "Accept": accept},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept)
    assert decode_response(accept, response.content, sample) == expected


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status"),
    [
        ("POST", "/nope", {}, b"{}", 404),
        ("PUT", COMPLETE_PATH, {}, b"", 405),
        ("POST", COMPLETE_PATH, {"Accept": "text/html"}, b"{}", 406),
        ("POST", COMPLETE_PATH, {"Content-Type": "image/png"}, b"x", 415),
        ("POST", COMPLETE_PATH, {"Content-Type": JSON, "Content-Length": "99999999999"}, b"", 413),
        ("POST", COMPLETE_PATH, {"Authorization": "Basic eA=="}, b"{}", 401),
        ("POST", COMPLETE_PATH, {"Content-Type": JSON}, b"[1]", 400),
    ],
    ids=["404", "405", "406", "415", "413", "401", "400"],
)
def test_refusals_over_real_http(
    client: httpx.Client,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
) -> None:
    if status == 413:
        # httpx would send the real length; ask with a raw request instead
        import http.client

        url = httpx.URL(str(client.base_url))
        connection = http.client.HTTPConnection(url.host, url.port, timeout=10)
        connection.putrequest(method, path)
        for name, value in {**headers, **bearer()}.items():
            connection.putheader(name, value)
        connection.endheaders()
        raw = connection.getresponse()
        assert raw.status == 413
        assert orjson.loads(raw.read())["Status"] == 413
        connection.close()
        return
    response = client.request(method, path, content=body, headers=headers)
    assert response.status_code == status
    assert response.headers["vary"] == "Accept, Accept-Encoding"
    assert response.json()["Status"] == status
