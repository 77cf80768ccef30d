"""Errors that carry their HTTP meaning.

Every failure that bad input can cause is a :class:`NegotiateError`; nothing
else escapes the codecs. The tree::

    NegotiateError                  (500 unless a subclass says otherwise)
     ├── MalformedBody              400  the body or a header cannot be read
     │    └── InvalidValue          400  a value does not fit the schema
     ├── Unauthorized               401  no credentials, or wrong ones
     ├── NotFound                   404  no such resource (the HTTP layer)
     ├── MethodNotAllowed           405  the path exists, the method does not
     ├── NotAcceptable              406  no offered type satisfies Accept
     ├── PatchConflict              409  a JSON Patch ``test`` failed
     ├── BodyTooLarge               413  the body is over the configured limit
     ├── UnsupportedMediaType       415  Content-Type or charset not supported
     ├── Unprocessable              422  a patched value violates the schema
     ├── EncodeError                500  a value cannot be written in a format
     ├── BadGateway                 502  an upstream service failed
     ├── ServiceUnavailable         503  the server cannot take the request now; retry
     │    └── TooManyPasswordChecks 503  the budget of password checks is spent
     └── GatewayTimeout             504  an upstream service did not answer in time

``location`` says where: a JSON pointer (``/Persons/0/Rank``), an XML path
(``/ContactEntity/Persons/Person[1]/Rank``) or a form key
(``ContactEntity.Persons[0].Rank``); empty when the error concerns the whole
body.

:func:`error_class` maps an HTTP status back to its class (the client raises
what the server answered).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EXCERPT_LIMIT",
    "BadGateway",
    "BodyTooLarge",
    "EncodeError",
    "GatewayTimeout",
    "InvalidValue",
    "MalformedBody",
    "MethodNotAllowed",
    "NegotiateError",
    "NotAcceptable",
    "NotFound",
    "NotRepresentable",
    "PatchConflict",
    "ServiceUnavailable",
    "TooManyPasswordChecks",
    "Unauthorized",
    "Unprocessable",
    "UnsupportedMediaType",
    "error_class",
    "escape_pointer",
    "excerpt",
]


EXCERPT_LIMIT = 200
"""The most characters of client input an error message quotes."""


def excerpt(value: object, limit: int = EXCERPT_LIMIT) -> str:
    """``repr(value)`` cut to ``limit`` characters with an ellipsis, for messages.

    Messages quote client input through this, so that an error body never
    echoes a large header or value back whole.
    """
    text = value if isinstance(value, str) else None
    if text is not None and len(text) > limit:
        return repr(text[:limit]) + "…"
    shown = repr(value)
    return shown if len(shown) <= limit + 2 else shown[: limit + 2] + "…"


class NegotiateError(Exception):
    """Base of every error this library raises for bad input or bad output.

    Args:
        message: one sentence: what was expected and what came.
        location: where in the body (JSON pointer, XML path or form key).
        detail: extra fields for :meth:`to_dict` (e.g. ``supported`` types).
    """

    status: int = 500
    title: str = "Internal Server Error"

    def __init__(self, message: str, *, location: str = "", **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.detail = detail

    def __str__(self) -> str:
        if self.location:
            return f"{self.message} - at {self.location}"
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, location={self.location!r})"

    def to_dict(self) -> dict[str, Any]:
        """The error as SuperOffice's agent error shape, plus our fields.

        ``Message`` and ``MessageDetail`` are what SuperOffice clients read;
        ``Status``, ``Location`` and any detail (such as ``Supported``) follow.
        """
        out: dict[str, Any] = {
            "Message": self.title,
            "MessageDetail": str(self),
            "Status": self.status,
            "Location": self.location,
        }
        for key, value in self.detail.items():
            out[key[:1].upper() + key[1:]] = value
        return out

    def at(self, *segments: str | int, style: str = "pointer") -> NegotiateError:
        """Prefix the location with outer segments (used while unwinding)."""
        prefix = "".join(_segment(s, style) for s in segments)
        self.location = prefix + self.location
        return self


def escape_pointer(segment: str | int) -> str:
    """One reference token of a JSON pointer (RFC 6901): ``~`` as ``~0``, ``/`` as ``~1``."""
    return str(segment).replace("~", "~0").replace("/", "~1")


def _segment(segment: str | int, style: str) -> str:
    if style == "pointer":
        return "/" + escape_pointer(segment)
    return f"/{segment}"


class MalformedBody(NegotiateError):
    """400: the body (or a header) cannot be parsed."""

    status = 400
    title = "Bad Request"


class InvalidValue(MalformedBody):
    """400: a value is well-formed but does not fit the carrier schema."""


class Unauthorized(NegotiateError):
    """401: no credentials, or credentials that do not check out."""

    status = 401
    title = "Unauthorized"


class NotFound(NegotiateError):
    """404: no such resource."""

    status = 404
    title = "Not Found"


class NotAcceptable(NegotiateError):
    """406: nothing the server can write satisfies ``Accept``."""

    status = 406
    title = "Not Acceptable"


class MethodNotAllowed(NegotiateError):
    """405: the path exists but not with this method; ``allowed`` lists the methods."""

    status = 405
    title = "Method Not Allowed"


class PatchConflict(NegotiateError):
    """409: a JSON Patch ``test`` operation failed."""

    status = 409
    title = "Conflict"


class BodyTooLarge(NegotiateError):
    """413: the body is larger than the configured limit."""

    status = 413
    title = "Content Too Large"


class UnsupportedMediaType(NegotiateError):
    """415: the request's Content-Type or charset is not supported."""

    status = 415
    title = "Unsupported Media Type"


class Unprocessable(NegotiateError):
    """422: a patch applied cleanly but its result violates the schema."""

    status = 422
    title = "Unprocessable Content"


class EncodeError(NegotiateError):
    """500: the application handed over a value that cannot be written."""

    status = 500
    title = "Internal Server Error"


class NotRepresentable(NotAcceptable, EncodeError):
    """406: the response exists, but the negotiated format cannot express it.

    A merge patch cannot set a member to null (null deletes it, RFC 7396): a
    client that asked for ``application/merge-patch+json`` is told so, with the
    types that can (``supported``), rather than given a 500. An
    :class:`EncodeError` too, for callers of the codecs.
    """

    status = 406
    title = "Not Acceptable"


class BadGateway(NegotiateError):
    """502: an upstream service (the enrichment provider) failed or answered nonsense."""

    status = 502
    title = "Bad Gateway"


class ServiceUnavailable(NegotiateError):
    """503: the server cannot take the request at the moment; the client may retry shortly."""

    status = 503
    title = "Service Unavailable"


class TooManyPasswordChecks(ServiceUnavailable):
    """503: the server's budget of password checks per second is spent; retry shortly."""


class GatewayTimeout(NegotiateError):
    """504: an upstream service (the enrichment provider) did not answer in time."""

    status = 504
    title = "Gateway Timeout"


def error_class(status: int) -> type[NegotiateError]:
    """The :class:`NegotiateError` subclass for an HTTP status (the base class if none).

    Args:
        status: an HTTP status code.

    Returns:
        The most general class of that status (400 is ``MalformedBody``, 503
        ``ServiceUnavailable``).
    """
    return _BY_STATUS.get(status, NegotiateError)


def _by_status() -> dict[int, type[NegotiateError]]:
    found: dict[int, type[NegotiateError]] = {}
    stack: list[type[NegotiateError]] = [NegotiateError]
    while stack:
        cls = stack.pop(0)  # breadth first: the most general class of a status wins
        if cls is not NegotiateError:
            found.setdefault(cls.status, cls)
        stack.extend(cls.__subclasses__())
    found.pop(500, None)  # EncodeError is the server's own failure, not a category
    return found


# NOTE: built when this module is loaded, so it holds exactly the classes above: a
# private subclass defined elsewhere (http's ``_Logged``) never becomes a status's class.
_BY_STATUS = _by_status()
