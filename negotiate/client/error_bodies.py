"""A server's error body read back into its error: :func:`error_from_body`.

The body is the server's error document, as JSON (``{"Message",
"MessageDetail", "Location", ...}``) or XML (``{"Error": {...}}``); the error
is the :class:`~negotiate.errors.NegotiateError` subclass of its status, with
the server's message, location and details (``Supported``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from negotiate.errors import NegotiateError, error_class

__all__ = ["error_from_body"]

_ERROR_KEYS = frozenset({"Message", "MessageDetail", "Status", "Location"})


def error_from_body(status: int, data: Any, fallback: str = "") -> NegotiateError:
    """The :class:`NegotiateError` a server error body stands for.

    Args:
        status: the HTTP status.
        data: the decoded body: ``{"Message", "MessageDetail", "Location", ...}``
            (JSON) or ``{"Error": {...}}`` (XML); anything else uses ``fallback``.
        fallback: the message when the body has none (the raw text, say).

    Returns:
        An instance of the status's class (:func:`negotiate.errors.error_class`);
        ``status`` is set on the instance when the class is the base class.
    """
    if isinstance(data, Mapping) and len(data) == 1 and isinstance(data.get("Error"), Mapping):
        data = data["Error"]  # XML: <Error><Message>...</Message>...</Error>
    cls = error_class(status)
    if not isinstance(data, Mapping):
        error = cls(fallback or f"HTTP {status}")
    else:
        location = data.get("Location") or ""
        message = data.get("MessageDetail") or data.get("Message") or fallback or f"HTTP {status}"
        suffix = f" - at {location}"
        if location and isinstance(message, str) and message.endswith(suffix):
            message = message[: -len(suffix)]
        detail = {
            key[:1].lower() + key[1:]: _listed(value)
            for key, value in data.items()
            if key not in _ERROR_KEYS
        }
        error = cls(str(message), location=str(location), **detail)
    if error.status != status:
        error.status = status
    return error


def _listed(value: Any) -> Any:
    # XML lists arrive as {"string": [...]} (or one item: {"string": "x"}).
    if isinstance(value, Mapping) and list(value) == ["string"]:
        items = value["string"]
        return items if isinstance(items, list) else [items]
    return value
