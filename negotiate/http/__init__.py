"""Framework-neutral request handling: no I/O, no framework.

An :class:`App` is a table of :class:`Operation` s (path, method, request and
response carriers, a handler function) plus a codec registry, an
:class:`~negotiate.auth.Authenticator` and :class:`~negotiate.options.Options`.
It takes ``(method, path, query string, headers, body)`` and returns a
:class:`Response` ``(status, headers, body)``; the ASGI and WSGI adapters only
move bytes.

One request, in order:

1. The response codec is chosen from ``Accept`` (remembered; a 406 is raised
   only once the route and the credentials are known to be good, so that a
   404 or 401 is not hidden behind it).
2. Route: unknown path 404; known path, wrong method 405 with ``Allow``.
   Paths match case-insensitively (as ASP.NET routes do) and a trailing ``/``
   is ignored.
3. Authentication: the authenticator's principal, or 401 with
   ``WWW-Authenticate: Basic realm="SuperOffice Username or Ticket"``.
4. ``Content-Length`` over ``Options.max_body``: 413, before the body is read
   (:meth:`App.start` answers steps 1-4 without a body, so adapters can refuse
   early).
5. The query string: ``$select`` (``%24select`` too, name case-insensitive,
   repeated values joined by commas), compiled against the response carrier;
   unknown paths 400. What the headers and the query decide (the reader, the
   ``$select`` projector, the shaping) is resolved here, once, into the
   request's :class:`~negotiate.pipeline.Plan`; a refusal among it is answered
   where its step runs (below), as it always was.
6. The body is decoded by the codec for its ``Content-Type`` (415 with the
   accepted types when none; an empty body is the carrier's default). A patch
   body (JSON Patch, merge patch) applies to the operation's ``request_base``,
   else to the request carrier's default.
7. The handler runs; its result is projected by ``$select``, then shaped by
   the ``SO-TimeZone`` / ``SO-Language`` / ``Accept-Language`` / ``SO-Culture``
   headers (with the app's resource table).
8. The result is encoded by the negotiated codec. A patch-format response is
   the diff from the operation's ``response_base`` (for EnrichContactEntity,
   the ContactEntity the client sent) to the result, so applying it to what
   the client sent gives exactly what a JSON response would have carried.

Steps 6-8 are the operation's :class:`~negotiate.pipeline.Pipeline`, the
same one ``negotiate convert`` runs.

Every response carries ``Content-Type`` (with a charset where the format has
one), ``Content-Length`` and ``Vary``.

Content codings (RFC 9110 §8.4; :mod:`negotiate.coding`), unless the app is
built with ``codings=False``:

- A response body (errors and patch documents too) of at least
  :data:`~negotiate.coding.MIN_ENCODE_SIZE` bytes is compressed with the
  coding ``Accept-Encoding`` prefers among the app's (``br``, ``zstd``,
  ``gzip``, ``deflate``: those installed, in that order on a tie), with
  ``Content-Encoding``; without ``Accept-Encoding`` it is sent as it is.
- ``Vary`` names the request headers that may shape the response: ``Accept``;
  ``Accept-Encoding`` (always with codings on); and, for a response with a
  carrier, ``SO-TimeZone``, ``SO-Language`` and ``Accept-Language``, whether
  or not the request carried them (a cache matches their absence too).
- ``Content-Language`` is the language shaping translated to (the tag
  RFC 4647 lookup chose, :attr:`~negotiate.shaping.Shaping.content_language`).

A request body with ``Content-Encoding`` (``gzip``, ``deflate``, ``br``,
``zstd``, stacked too) is decoded before its codec reads it, bounded by
``Options.max_body`` of decoded bytes (:func:`~negotiate.coding.decode_body`;
the ASGI adapter decodes while the body streams in). ``Content-Length`` is the
wire size and is held to ``max_body`` too. An unknown coding is a 415 whose
``Accept-Encoding`` header lists the codings this installation reads
(RFC 9110 §15.5.16), answered before the body is read. Request bodies are
decoded whatever ``codings`` says: that option is about responses.

Errors have SuperOffice's agent shape, ``{"Message": ..., "MessageDetail": ...}``
plus ``Status``, ``Location`` and details such as ``Supported`` (see
:meth:`NegotiateError.to_dict`), encoded with the negotiated codec. JSON is
used instead when nothing acceptable was negotiated (406, or a bad ``Accept``
met before negotiation) and when the negotiated codec says so (a patch format:
an error is not a change to anything). Each codec knows its error document
(:meth:`~negotiate.codecs.base.BaseCodec.encode_error`): in XML an ``<Error>``
element with one child per key, in the order above (``Supported`` holds
``<string>`` items), without a namespace, the shape of ASP.NET Web API's
``HttpError`` in XML, with what XML 1.0 cannot carry written escaped
(``\\x01``). An error the negotiated codec still cannot write is answered in
JSON. Every string in an error body is cut
to :data:`MAX_ERROR_TEXT` characters and every list to :data:`MAX_ERROR_ITEMS`
items (a backstop: messages quote client input through
:func:`~negotiate.errors.excerpt` in the first place). A 415 on ``POST``
lists the registry's request media types in ``Accept-Post``, whatever the
error's own ``Supported`` says (a charset 415 lists charsets there).

Logging (logger ``negotiate.http``): a 4xx is one debug line, never a
traceback; a 502/504 one warning line; a 500 raised as a
:class:`NegotiateError` one error line. An exception that is not a
:class:`NegotiateError` (a bug in a handler or an authenticator) is logged
once with its traceback and answered 500 without its text.

For framework integrations (:mod:`negotiate.integrations`, or one of your own):
what the core does to a request besides running its
:class:`~negotiate.pipeline.Pipeline` is public here, so that an integration
answers as :class:`App` does without copying it: :func:`check_content_length`
(the 400/413 before a body is read), :func:`parse_query` (``$select`` found
as the core finds it), :data:`SHAPING_HEADERS`, :func:`has_shaping` and
:func:`shaping_headers` (what :meth:`~negotiate.pipeline.Pipeline.plan`
takes), :data:`VARY` and :func:`shaped_vary` (the ``Vary`` of a response),
:func:`log_error` (the core's one log line per error) and :meth:`App.error`
(an error body in the agent shape; an :class:`App` without operations is an
error writer). :func:`negotiate.pipeline.snapshot` copies a response base for
an integration that decodes and encodes in separate hooks;
:func:`body_too_large` is the 413 for a body that streamed past the
limit, and :func:`negotiate.asgi.raw_headers` serves ASGI integrations.

The error classes of this layer extend the tree in :mod:`negotiate.errors`::

    NegotiateError
     ├── Unauthorized               401  no or wrong credentials
     ├── MethodNotAllowed           405  the path exists, the method does not
     ├── BadGateway                 502  the enrichment service failed
     └── GatewayTimeout             504  the enrichment service did not answer in time
"""

from __future__ import annotations

from negotiate.errors import (
    BadGateway as BadGateway,
    GatewayTimeout as GatewayTimeout,
    MethodNotAllowed as MethodNotAllowed,
    Unauthorized as Unauthorized,
    error_class as error_class,
)
from negotiate.http.app import App as App
from negotiate.http.errors import (
    MAX_ERROR_ITEMS as MAX_ERROR_ITEMS,
    MAX_ERROR_TEXT as MAX_ERROR_TEXT,
    REALM as REALM,
    log_error as log_error,
)
from negotiate.http.exchange import (
    SHAPED_VARY_NAMES as SHAPED_VARY_NAMES,
    VARY as VARY,
    Exchange as Exchange,
    shaped_vary as shaped_vary,
)
from negotiate.http.headers import (
    SHAPING_HEADERS as SHAPING_HEADERS,
    Headers as Headers,
    has_shaping as has_shaping,
    shaping_headers as shaping_headers,
)
from negotiate.http.messages import (
    Context as Context,
    Operation as Operation,
    Response as Response,
    body_too_large as body_too_large,
    check_content_length as check_content_length,
    parse_query as parse_query,
)

__all__ = [
    "MAX_ERROR_ITEMS",
    "MAX_ERROR_TEXT",
    "REALM",
    "SHAPING_HEADERS",
    "SHAPED_VARY_NAMES",
    "VARY",
    "App",
    "BadGateway",
    "Context",
    "Exchange",
    "GatewayTimeout",
    "Headers",
    "MethodNotAllowed",
    "Operation",
    "Response",
    "Unauthorized",
    "body_too_large",
    "check_content_length",
    "error_class",
    "has_shaping",
    "log_error",
    "parse_query",
    "shaped_vary",
    "shaping_headers",
]
