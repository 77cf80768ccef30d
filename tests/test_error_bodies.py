"""Error bodies stay small, Accept-Post lists media types, and 4xx log no traceback.

A client controls the headers, the query string, the path and the body; none
of them may come back whole in an error (a 60 KB header must not give a 60 KB
400), a character XML cannot carry must not turn an XML error into a logged
traceback, and only the server's own failures (500) are logged as errors.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from typing import Any

import orjson
import pytest
from helpers import CONTACT, REQUEST_TYPES, RESPONSE_TYPES, bearer

from negotiate.auth import ANONYMOUS
from negotiate.codecs import BaseCodec, CodecRegistry, JsonCodec
from negotiate.errors import (
    EXCERPT_LIMIT,
    BadGateway,
    EncodeError,
    GatewayTimeout,
    NegotiateError,
    NotFound,
    UnsupportedMediaType,
)
from negotiate.http import MAX_ERROR_ITEMS, MAX_ERROR_TEXT, App, Context, Operation, Response
from negotiate.schema import Schema
from negotiate.select import MAX_SELECT_LENGTH
from negotiate.server import ENRICH_PATH, PREVIEW_PATH, ServerConfig, create_app

JSON = "application/json"
XML = "application/xml"
SMALL = 1024  # an error body answering any one oversized input stays under this
HUGE = 60_000
LOGGER = "negotiate"


def contact_app(response: Schema = CONTACT) -> App:
    """An App with one operation answering a default ContactEntity (for $select, shaping)."""

    def answer(value: Any, ctx: Context) -> Any:
        return response.default()

    return App([Operation("/contact", answer, None, response)], authenticator=ANONYMOUS)


def failing_app(error: Exception) -> App:
    """An App with one operation whose handler raises ``error``."""

    def fail(value: Any, ctx: Context) -> Any:
        raise error

    return App([Operation("/x", fail, None, None)], authenticator=ANONYMOUS)


def call(
    app: App,
    headers: dict[str, str] | None = None,
    *,
    path: str = "/contact",
    query: str = "",
    method: str = "POST",
    body: bytes = b"",
) -> Response:
    return app.handle(method, path, query, {"Content-Type": JSON, **(headers or {})}, body)


def error_of(response: Response) -> dict[str, Any]:
    assert response.header("content-type") == "application/json; charset=utf-8"
    body: dict[str, Any] = orjson.loads(response.body)
    return body


def xml_error_of(response: Response) -> dict[str, Any]:
    """An XML error document as ``{tag: text or [item texts]}`` (it must parse)."""
    assert response.header("content-type") == "application/xml; charset=utf-8"
    root = ET.fromstring(response.body)
    assert root.tag == "Error"
    return {
        child.tag: [item.text for item in child] if len(child) else (child.text or "")
        for child in root
    }


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert all(record.exc_info is None for record in caplog.records), caplog.text
    assert "Traceback" not in caplog.text
    assert all(record.levelno < logging.WARNING for record in caplog.records), caplog.text


# -- headers, path, query: bounded echoes ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "location"),
    [
        ("SO-TimeZone", "x" * HUGE, "SO-TimeZone"),
        ("SO-TimeZone", "NO, " + "x" * HUGE, "SO-TimeZone"),
        ("SO-TimeZone", ", includeTZOffset" * (HUGE // 17), "SO-TimeZone"),
        ("SO-Language", "1" * HUGE, "SO-Language"),
        ("SO-Culture", "1" * HUGE, "SO-Culture"),
    ],
    ids=["zone", "zone-option", "zone-only-options", "language", "culture"],
)
def test_a_huge_shaping_header_is_a_small_400(name: str, value: str, location: str) -> None:
    response = call(contact_app(), {name: value})
    assert response.status == 400
    assert len(response.body) < SMALL
    error = error_of(response)
    assert error["Location"] == location
    assert "…" in error["MessageDetail"]


def test_a_huge_accept_language_is_not_echoed() -> None:
    # Accept-Language items that do not parse are dropped, never an error: the answer
    # is the same carrier as without the header, nothing of it comes back.
    plain = call(contact_app())
    header = ", ".join(f"{'1' * 8}-{i};q=0.5" for i in range(5000))
    response = call(contact_app(), {"Accept-Language": header})
    assert (response.status, response.body) == (200, plain.body)


def test_a_huge_accept_language_with_an_error_is_small() -> None:
    header = ", ".join(f"x{chr(97 + i % 26)}-{i}" for i in range(5000))
    response = call(contact_app(), {"Accept-Language": header, "SO-TimeZone": "Nowhere"})
    assert response.status == 400
    assert len(response.body) < SMALL
    assert "xa-0" not in response.body.decode()


def test_a_5000_item_accept_is_a_small_406() -> None:
    accept = ", ".join(f"image/x-{i}" for i in range(5000))
    response = call(contact_app(), {"Accept": accept})
    assert response.status == 406
    assert len(response.body) < SMALL
    error = error_of(response)
    assert error["Supported"] == list(RESPONSE_TYPES)  # ours, listed whole
    assert "image/x-4999" not in error["MessageDetail"]
    assert error["MessageDetail"].endswith("…")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/" + "x" * HUGE,
        "x" * HUGE,
        "application/" + "é" * HUGE,
        "application/json; " + "a=b; " * (HUGE // 5) + "a=c",
        'application/json; a="' + "x" * HUGE,
        "application/json; " + "=" * HUGE,
        "*/" + "x" * HUGE,
    ],
    ids=["unknown", "no-slash", "non-token", "repeated-param", "open-quote", "bad-param", "wild"],
)
def test_a_huge_content_type_is_a_small_415(content_type: str) -> None:
    response = call(contact_app(), {"Content-Type": content_type}, body=b"{}")
    assert response.status == 415
    assert len(response.body) < SMALL
    assert response.header("accept-post") == ", ".join(REQUEST_TYPES)


def test_a_huge_path_is_a_small_404() -> None:
    response = call(contact_app(), path="/" + "p" * HUGE)
    assert response.status == 404
    assert len(response.body) < SMALL


def test_a_huge_method_is_a_small_405() -> None:
    response = call(contact_app(), method="M" * HUGE)
    assert response.status == 405
    assert len(response.body) < SMALL
    assert response.header("allow") == "POST"


def test_a_huge_content_length_is_a_small_400() -> None:
    response = call(contact_app(), {"Content-Length": "x" * HUGE})
    assert response.status == 400
    assert len(response.body) < SMALL


def test_a_huge_query_string_is_a_small_400() -> None:
    response = call(contact_app(), query="&".join(f"p{i}={'v' * 100}" for i in range(600)))
    assert response.status == 400
    assert len(response.body) < SMALL


# -- $select ---------------------------------------------------------------------------------


def select_error(text: str) -> tuple[Response, dict[str, Any]]:
    response = call(contact_app(), query="$select=" + text)
    assert response.status == 400
    return response, error_of(response)


@pytest.mark.parametrize(
    ("huge", "short"),
    [
        ("x" * (MAX_SELECT_LENGTH - 10), "x"),
        ("Persons/" + "x" * (MAX_SELECT_LENGTH - 20), "Persons/x"),
        ("Name/" + "x" * (MAX_SELECT_LENGTH - 20), "Name/x"),
        ("Category//" + "x" * (MAX_SELECT_LENGTH - 20), "Category//x"),
        ("*/" + "x" * (MAX_SELECT_LENGTH - 20), "*/x"),
        ("/".join(["Persons"] * 1000), "/".join(["Persons"] * 65)),
    ],
    ids=["unknown", "unknown-inner", "through-scalar", "empty-segment", "star", "deep"],
)
def test_a_huge_select_echoes_no_more_than_excerpts(huge: str, short: str) -> None:
    big, error = select_error(huge)
    small, _ = select_error(short)
    # The message quotes the path (and the segment) as excerpts and the Path detail is cut
    # too: at most three excerpts' worth more than the same error for a short selection.
    assert len(big.body) <= len(small.body) + 3 * (EXCERPT_LIMIT + 8)
    assert len(error["Path"]) <= EXCERPT_LIMIT + 1
    assert error["Location"] == "$select"


def test_a_select_over_the_limit_is_a_small_400() -> None:
    response, error = select_error("Name," * (HUGE // 5))
    assert len(response.body) < SMALL
    assert "characters long" in error["MessageDetail"]


def test_many_unknown_select_names_report_the_first_only() -> None:
    response, error = select_error(",".join(f"Nope{i}" for i in range(800)))
    assert "Nope0" in error["MessageDetail"]
    assert "Nope799" not in response.body.decode()


# -- Accept-Post ----------------------------------------------------------------------------


def test_a_charset_415_lists_media_types_in_accept_post(app: App) -> None:
    headers = {**bearer(), "Content-Type": "application/json; charset=latin-9"}
    response = app.handle("POST", ENRICH_PATH, b"", headers, b'{"EnrichId": "x"}')
    assert response.status == 415
    # the body may keep its charsets; the header names media types (RFC 9110 media ranges)
    assert error_of(response)["Supported"] == ["utf-8", "utf-16", "utf-32"]
    accept_post = response.header("accept-post")
    assert accept_post == ", ".join(REQUEST_TYPES)
    assert all("/" in item for item in accept_post.split(", "))


@pytest.mark.parametrize(
    "content_type", ["text/plain", "json", None], ids=["unsupported", "malformed", "missing"]
)
def test_every_415_on_post_lists_media_types(content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = contact_app().handle("POST", "/contact", "", headers, b"{}")
    assert response.status == 415
    assert response.header("accept-post") == ", ".join(REQUEST_TYPES)


def test_a_415_from_a_handler_lists_media_types() -> None:
    app = failing_app(UnsupportedMediaType("Unsupported charset 'x'", supported=["utf-8"]))
    response = call(app, path="/x", body=b"{}")
    assert response.status == 415
    assert response.header("accept-post") == ", ".join(REQUEST_TYPES)


# -- characters XML cannot carry, and logging --------------------------------------------------


def test_an_enrich_id_xml_cannot_carry_is_a_clean_404(
    caplog: pytest.LogCaptureFixture, config: ServerConfig
) -> None:
    app = create_app(config)
    headers = {**bearer(), "Content-Type": JSON, "Accept": XML}
    body = orjson.dumps({"EnrichId": "SE-\x01\x02\x1f-\ufffe"})
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        response = app.handle("POST", PREVIEW_PATH, b"", headers, body)
    assert response.status == 404
    error = xml_error_of(response)
    assert error["Status"] == "404" and error["Location"] == "/EnrichId"
    assert "SE-" in error["MessageDetail"]
    no_traceback(caplog)
    assert len(caplog.records) <= 1
    assert all("\n" not in record.getMessage() for record in caplog.records)


def test_a_huge_enrich_id_is_a_bounded_404(app: App) -> None:
    headers = {**bearer(), "Content-Type": JSON}
    response = app.handle("POST", ENRICH_PATH, b"", headers, orjson.dumps({"EnrichId": "E" * HUGE}))
    assert response.status == 404
    assert len(error_of(response)["MessageDetail"]) <= MAX_ERROR_TEXT + 1


def test_a_huge_so_timezone_through_the_server_is_a_small_400(app: App, enrich_id: str) -> None:
    headers = {**bearer(), "Content-Type": JSON, "SO-TimeZone": "z" * HUGE}
    response = app.handle("POST", ENRICH_PATH, b"", headers, orjson.dumps({"EnrichId": enrich_id}))
    assert response.status == 400
    assert len(response.body) < SMALL
    assert error_of(response)["Location"] == "SO-TimeZone"


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        ("a\x01b", "a\\x01b"),
        ("\x00\x08\x0b\x0c\x1f", "\\x00\\x08\\x0b\\x0c\\x1f"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("not \ufffe\uffff chars", "not \\ufffe\\uffff chars"),
        ("tab\tline\nok", "tab\tline\nok"),
    ],
    ids=["soh", "c0", "surrogate", "nonchars", "allowed"],
)
def test_an_error_xml_cannot_carry_is_written_escaped(
    caplog: pytest.LogCaptureFixture, raw: str, written: str
) -> None:
    app = failing_app(NotFound(f"No {raw}", location=f"/{raw}", ids=[raw, "plain"]))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        response = call(app, {"Accept": XML}, path="/x", body=b"{}")
    assert response.status == 404
    error = xml_error_of(response)
    assert error["MessageDetail"] == f"No {written} - at /{written}"
    assert error["Location"] == f"/{written}"
    assert error["Ids"] == [written, "plain"]
    no_traceback(caplog)


@pytest.mark.parametrize(
    "accept", [JSON, "application/json-patch+json"], ids=["json", "patch-falls-back-to-json"]
)
def test_an_error_utf8_cannot_carry_is_written_escaped_in_json(
    caplog: pytest.LogCaptureFixture, accept: str
) -> None:
    # a lone surrogate cannot be written as UTF-8; a detail JSON has no type for is text
    error = NotFound("x\ud800y", location="/\udfff", ids=["\ud800"], when=object)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        response = call(failing_app(error), {"Accept": accept}, path="/x", body=b"{}")
    assert response.status == 404
    body = error_of(response)
    assert body["MessageDetail"] == "x\\ud800y - at /\\udfff"
    assert body["Ids"] == ["\\ud800"]
    assert body["When"] == str(object)
    no_traceback(caplog)


class Refusing(BaseCodec):
    """A response codec that cannot write an error document (nor anything without a schema)."""

    media_types = ("application/vnd.refusing",)

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        if schema is None:
            raise TypeError("no schema, no document")
        return b"{}"


@pytest.mark.parametrize("status", [404, 400], ids=["not-found", "bad-request"])
def test_an_error_the_codec_cannot_write_falls_back_to_json(
    caplog: pytest.LogCaptureFixture, status: int
) -> None:
    app = App(
        [Operation("/contact", lambda v, c: CONTACT.default(), None, CONTACT)],
        authenticator=ANONYMOUS,
        registry=CodecRegistry([JsonCodec(), Refusing()]),
    )
    headers = {"Accept": "application/vnd.refusing"}
    if status == 400:
        headers["SO-TimeZone"] = "Nowhere"
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        response = call(app, headers, path="/contact" if status == 400 else "/nope")
    assert response.status == status
    assert error_of(response)["Status"] == status
    no_traceback(caplog)
    assert sum("answered in JSON" in r.getMessage() for r in caplog.records) == 1


def test_a_4xx_logs_one_debug_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        response = call(contact_app(), path="/no\nsuch\r\npath" + "p" * HUGE)
    assert response.status == 404
    (record,) = caplog.records
    assert record.levelno == logging.DEBUG and record.exc_info is None
    line = record.getMessage()
    assert "\n" not in line and "\r" not in line
    assert len(line) < SMALL


def test_a_4xx_logs_nothing_above_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        call(contact_app(), {"SO-TimeZone": "x" * HUGE})
        call(contact_app(), {"Accept": "image/png"})
        call(contact_app(), {"Content-Type": "text/plain"}, body=b"x")
        call(contact_app(), query="$select=Nope")
    assert caplog.records == []


# -- real 500s --------------------------------------------------------------------------------


def test_a_handler_bug_logs_its_traceback_once(caplog: pytest.LogCaptureFixture) -> None:
    app = failing_app(ZeroDivisionError("our own bug"))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        response = call(app, {"Accept": XML}, path="/x", body=b"{}")
    assert response.status == 500
    assert b"our own bug" not in response.body
    assert xml_error_of(response)["Status"] == "500"
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError
    assert caplog.text.count("Traceback") == 1


def test_an_authenticator_bug_logs_its_traceback_once(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def authenticate(self, headers: Any) -> Any:
            raise RuntimeError("store down")

    app = App([Operation("/x", lambda v, c: v, None, None)], authenticator=Broken())
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        response = call(app, path="/x", body=b"1")
    assert response.status == 500
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None


@pytest.mark.parametrize(
    ("error", "level"),
    [
        (EncodeError("Cannot write it", location="/Name"), logging.ERROR),
        (NegotiateError("Something of ours failed"), logging.ERROR),
        (BadGateway("The upstream failed"), logging.WARNING),
        (GatewayTimeout("The upstream is slow"), logging.WARNING),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else logging.getLevelName(v),
)
def test_a_5xx_negotiate_error_logs_one_line(
    caplog: pytest.LogCaptureFixture, error: NegotiateError, level: int
) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        response = call(failing_app(error), path="/x", body=b"{}")
    assert response.status == error.status
    (record,) = caplog.records
    assert record.levelno == level and record.exc_info is None
    assert error.message in record.getMessage()


def test_a_response_xml_cannot_carry_is_a_500_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    def answer(value: Any, ctx: Context) -> Any:
        return {**CONTACT.default(), "Name": "bad \x01 name"}

    app = App([Operation("/contact", answer, None, CONTACT)], authenticator=ANONYMOUS)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        response = call(app, {"Accept": XML})
    assert response.status == 500
    assert xml_error_of(response)["Location"] == "/Name"
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is None


# -- the backstop -----------------------------------------------------------------------------


def test_every_error_string_and_list_is_bounded() -> None:
    error = NotFound("m" * HUGE, location="/" + "l" * HUGE, ids=["i" * HUGE] * 500, count=7)
    response = call(failing_app(error), path="/x", body=b"{}")
    body = error_of(response)
    assert len(body["MessageDetail"]) == MAX_ERROR_TEXT + 1
    assert body["MessageDetail"].endswith("…")
    assert len(body["Location"]) == MAX_ERROR_TEXT + 1
    assert len(body["Ids"]) == MAX_ERROR_ITEMS + 1 and body["Ids"][-1] == "…"
    assert all(len(item) <= MAX_ERROR_TEXT + 1 for item in body["Ids"])
    assert body["Count"] == 7
    assert len(response.body) < (MAX_ERROR_ITEMS + 3) * (MAX_ERROR_TEXT + 8)
