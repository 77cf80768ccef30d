"""DRF errors and NegotiateError refusals as SuperOffice's agent error document."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from negotiate.codecs import CodecRegistry
from negotiate.coding import decodable_codings
from negotiate.errors import (
    MalformedBody,
    MethodNotAllowed,
    NegotiateError,
    NotAcceptable,
    NotFound,
    UnsupportedMediaType,
    error_class,
    escape_pointer,
    excerpt,
)
from negotiate.http import App
from negotiate.integrations._common import error_writer

__all__ = ["as_negotiate_error", "exception_handler"]

# -- errors ------------------------------------------------------------------------------


class _Document(NegotiateError):
    """An error document already made (by the exception handler), with its status."""

    def __init__(self, document: Any, status: int) -> None:
        super().__init__("")
        self.status = status
        if isinstance(document, Mapping):
            self.document = dict(document)
        else:  # not ours (a view's own error Response): in the agent shape around it
            self.document = _generic(status, _text(document)).to_dict()

    def to_dict(self) -> dict[str, Any]:
        return self.document


_ERROR_APPS: dict[int, tuple[CodecRegistry, App]] = {}


def _error_app(registry: CodecRegistry) -> App:
    """An :class:`~negotiate.http.App` without operations: its ``error`` writes the body."""
    found = _ERROR_APPS.get(id(registry))
    if found is None:
        found = _ERROR_APPS[id(registry)] = (
            registry,
            error_writer(registry),
        )
    return found[1]


def _generic(status: int, message: str, location: str = "") -> NegotiateError:
    """The error class of ``status``, or the base class carrying that status."""
    cls = error_class(status)
    error = cls(message, location=location)
    if cls is NegotiateError:
        error.status = status
        try:
            error.title = HTTPStatus(status).phrase
        except ValueError:
            error.title = "Error"
    return error


def _text(detail: Any) -> str:
    """DRF's detail (a string, or lists and dicts of them) as one line."""
    if isinstance(detail, Mapping):
        return "; ".join(f"{key}: {_text(value)}" for key, value in detail.items())
    if isinstance(detail, list | tuple):
        return "; ".join(_text(item) for item in detail)
    return str(detail)


def _plain(detail: Any) -> Any:
    """DRF's detail as plain data (its ``ErrorDetail`` strings as ``str``)."""
    if isinstance(detail, Mapping):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list | tuple):
        return [_plain(item) for item in detail]
    return str(detail)


def _location(detail: Any) -> str:
    """A JSON pointer to the first field a validation detail names."""
    path = []
    while isinstance(detail, Mapping) and detail:
        key, detail = next(iter(detail.items()))
        path.append(escape_pointer(key))
    return "".join("/" + segment for segment in path)


def as_negotiate_error(exc: Exception, context: Mapping[str, Any]) -> NegotiateError | None:
    """``exc`` as a :class:`NegotiateError`, or ``None`` when it is not a client's error."""
    if isinstance(exc, NegotiateError):
        return exc
    request = context.get("request")
    view = context.get("view")
    if isinstance(exc, drf.UnsupportedMediaType):
        content_type = request.content_type if request is not None else ""
        types = [parser.media_type for parser in view.get_parsers()] if view is not None else []
        return UnsupportedMediaType(
            f"Unsupported Content-Type {excerpt(content_type)}", supported=types
        )
    if isinstance(exc, drf.NotAcceptable):
        accept = request.META.get("HTTP_ACCEPT") if request is not None else None
        available = exc.available_renderers or (view.get_renderers() if view is not None else [])
        return NotAcceptable(
            f"None of the available types is acceptable: {excerpt(accept)}",
            supported=[renderer.media_type for renderer in available],
        )
    if isinstance(exc, drf.ParseError):
        return MalformedBody(_text(exc.detail))
    if isinstance(exc, Http404):
        return NotFound(str(exc) or "Not found")
    if isinstance(exc, DjangoPermissionDenied):
        return _generic(403, str(exc) or "You do not have permission to perform this action")
    if isinstance(exc, drf.MethodNotAllowed):
        allowed = list(view.allowed_methods) if view is not None else []
        return MethodNotAllowed(_text(exc.detail), allowed=allowed)
    if isinstance(exc, drf.ValidationError):
        error = _generic(exc.status_code, _text(exc.detail), _location(exc.detail))
        error.detail["errors"] = _plain(exc.detail)
        return error
    if isinstance(exc, drf.APIException):
        return _generic(exc.status_code, _text(exc.detail))
    return None


def _error_headers(error: NegotiateError, request: Any) -> dict[str, str]:
    """The headers an error response carries besides its body's (as the core sends them)."""
    headers: dict[str, str] = {}
    unsupported = isinstance(error, UnsupportedMediaType)
    if unsupported and error.location == "Content-Encoding":
        # NOTE: RFC 9110 §15.5.16, as the core: the codings that would do, no media types.
        supported = error.detail.get("supported") or decodable_codings()
        headers["Accept-Encoding"] = ", ".join(supported)
    elif unsupported and request is not None and request.method == "POST":
        types = [parser.media_type for parser in request.parsers]
        if types:
            headers["Accept-Post"] = ", ".join(types)
    elif isinstance(error, MethodNotAllowed):
        headers["Allow"] = ", ".join(error.detail.get("allowed", ()))
    return headers


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Any:
    """DRF's ``EXCEPTION_HANDLER``: the error as SuperOffice's agent error document.

    :class:`~negotiate.errors.NegotiateError` keeps its status, message and location;
    DRF's ``ParseError`` is a 400, ``UnsupportedMediaType`` a 415 and ``NotAcceptable``
    a 406 listing the supported types; every other DRF exception (and Django's
    ``Http404`` and ``PermissionDenied``) keeps its status, with its detail as the
    message (a validation error's fields under ``Errors``, the first at ``Location``).
    The body is written by the negotiated renderer.

    Args:
        exc: the exception the view raised.
        context: DRF's context (``view``, ``request``).

    Returns:
        A DRF ``Response`` whose data is ``{"Message", "MessageDetail", "Status",
        "Location", ...}``; ``None`` for any other exception (Django answers it).
    """
    error = as_negotiate_error(exc, context)
    if error is None:
        return None
    # NOTE: imported here: rest_framework.views imports this module when the settings
    # name ContentNegotiation (APIView reads it while its class is made).
    from rest_framework.views import set_rollback

    set_rollback()
    headers = _error_headers(error, context.get("request"))
    auth = getattr(exc, "auth_header", None)
    if auth:
        headers["WWW-Authenticate"] = auth
    wait = getattr(exc, "wait", None)
    if wait:
        headers["Retry-After"] = f"{wait:.0f}"
    return Response(error.to_dict(), status=error.status, headers=headers)
