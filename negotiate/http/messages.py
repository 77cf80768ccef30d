"""What an operation is and what a handler sees: Operation, Context, Response, query and length.

Part of :mod:`negotiate.http` (see its docstring).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from negotiate.errors import BodyTooLarge, MalformedBody, excerpt
from negotiate.http.headers import Headers
from negotiate.media import MEDIA_JSON
from negotiate.schema import Schema

if TYPE_CHECKING:
    from negotiate.auth import Principal

__all__ = [
    "Context",
    "Handler",
    "Operation",
    "Response",
    "body_too_large",
    "check_content_length",
    "parse_query",
    "raw_headers",
    "raw_pair",
]

_MAX_QUERY_FIELDS = 64


@dataclass(slots=True)
class Response:
    """What :meth:`App.handle` returns.

    Attributes:
        status: the HTTP status code.
        headers: ``(name, value)`` pairs, names lower case.
        body: the encoded body.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def reason(self) -> str:
        """The reason phrase of the status (``"OK"``)."""
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    def header(self, name: str) -> str | None:
        """The value of a response header (case-insensitive), or ``None``."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(slots=True)
class Context:
    """What a handler learns about its request besides the decoded body.

    Attributes:
        method: the request method, upper case.
        path: the request path.
        headers: the request headers.
        query: the decoded query parameters (the last value of each name).
        principal: who the authenticator says is calling.
        request_type: the essence of the request's Content-Type, or ``None``.
        response_type: the negotiated response media type.
    """

    method: str
    path: str
    headers: Headers
    query: Mapping[str, str]
    principal: Principal | None
    request_type: str | None = None
    response_type: str = MEDIA_JSON


Handler = Callable[[Any, Context], Any]
"""An operation's function: ``(decoded request value, context) -> response value``."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One endpoint.

    Attributes:
        path: the path, such as ``/api/v1/Agents/Contact/EnrichContactEntity``.
        handler: ``(request value, context) -> response value``; the response
            value must be a normalised ``response`` carrier. It may raise any
            :class:`NegotiateError` (answered with its status).
        request: the request body's carrier (``None``: plain data).
        response: the response carrier (``None``: plain data; no ``$select``).
        method: the HTTP method.
        request_base: ``(context) -> value`` a patch request body applies to
            (a stored entity, say); ``None``: the request carrier's default.
        response_base: ``(request value) -> value`` a patch-format response is
            the diff from; ``None``: the response carrier's default.
        blocking: the handler does I/O (the ASGI adapter runs it in a thread).
        public: anyone may call it: the authenticator is not asked (the
            context's ``principal`` is ``None``); for documents such as an
            OpenAPI description.
    """

    path: str
    handler: Handler
    request: Schema | None
    response: Schema | None
    method: str = "POST"
    request_base: Callable[[Context], Any] | None = None
    response_base: Callable[[Any], Any] | None = None
    blocking: bool = False
    public: bool = False


# -- reading a request ---------------------------------------------------------


def check_content_length(value: str, limit: int) -> None:
    """Refuse a request by its ``Content-Length`` header, before its body is read.

    Args:
        value: the header's value.
        limit: the most bytes a body may have (``Options.max_body``).

    Raises:
        MalformedBody: the value is not a number (400).
        BodyTooLarge: the number is over ``limit`` (413).
    """
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        raise MalformedBody(f"Expected a number in Content-Length, got {excerpt(value)}")
    digits = text.lstrip("0")
    # NOTE: int() refuses strings of more than 4300 digits; a number that long is over
    # any limit anyway.
    if len(digits) > len(str(limit)) or int(digits or "0") > limit:
        shown = text if len(text) <= 40 else text[:20] + "..."
        raise BodyTooLarge(f"Body of {shown} bytes is over the limit of {limit}", limit=limit)


def body_too_large(limit: int) -> BodyTooLarge:
    """The 413 for a body that streamed past ``limit`` bytes (no ``Content-Length`` said so)."""
    message = f"Body of more than {limit} bytes is over the limit of {limit}"
    return BodyTooLarge(message, limit=limit)


_EMPTY_QUERY: Mapping[str, str] = MappingProxyType({})
"""NOTE: read-only: it is every query-less request's ``Context.query``."""


def parse_query(query_string: str | bytes) -> Mapping[str, str]:
    """The query parameters as the core reads them: the last value of each name.

    ``$select`` is found whatever its case and spelling (``%24select``), its
    repeated values joined by commas, under the key ``"$select"``.

    Args:
        query_string: the raw (percent-encoded) query string, without ``?``.

    Returns:
        The parameters (a shared empty mapping for an empty query string).

    Raises:
        MalformedBody: more than 64 parameters (400, location ``?``).
    """
    if not query_string:
        return _EMPTY_QUERY
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    try:
        pairs = parse_qsl(
            query_string,
            keep_blank_values=True,
            encoding="utf-8",
            errors="replace",
            max_num_fields=_MAX_QUERY_FIELDS,
        )
    except ValueError:
        raise MalformedBody(
            f"Too many query parameters (limit {_MAX_QUERY_FIELDS})", location="?"
        ) from None
    query: dict[str, str] = {}
    for name, value in pairs:
        if name.casefold() == "$select":
            name = "$select"
            if name in query and value:
                value = query[name] + "," + value if query[name] else value
        query[name] = value
    return query


# -- writing a response ----------------------------------------------------------

# PERF: most response header pairs are the same few tuples (Content-Type per format,
# Vary, the 401 challenge); their byte forms are kept. Content-Length varies: not kept.
_ENCODED: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_ENCODED_LIMIT = 256
_CONTENT_LENGTH = b"content-length"


def raw_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Response headers as ASGI wants them: Latin-1 bytes (the usual pairs' bytes are kept).

    Args:
        headers: ``(name, value)`` pairs, such as :attr:`negotiate.http.Response.headers`.
    """
    encoded = _ENCODED
    out = []
    for pair in headers:
        raw = encoded.get(pair)
        if raw is None:
            raw = _encoded(pair)
        out.append(raw)
    return out


def raw_pair(pair: tuple[str, str]) -> tuple[bytes, bytes]:
    """One header pair as Latin-1 bytes, kept for next time unless it is a Content-Length."""
    found = _ENCODED.get(pair)
    return found if found is not None else _encoded(pair)


def _encoded(pair: tuple[str, str]) -> tuple[bytes, bytes]:
    """A pair not kept yet, encoded (and kept, but for a Content-Length)."""
    name, value = pair
    if name == "content-length":
        return (_CONTENT_LENGTH, value.encode("latin-1"))
    found = (name.encode("latin-1"), value.encode("latin-1"))
    if len(_ENCODED) < _ENCODED_LIMIT:
        _ENCODED[pair] = found
    return found
