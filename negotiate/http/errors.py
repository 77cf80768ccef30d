"""Error responses: the body's backstop limits, JSON that cannot fail, one log line each.

Part of :mod:`negotiate.http` (see its docstring: the agent shape, the XML
fallback, logging of 4xx and 5xx).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson

from negotiate.errors import NegotiateError, excerpt

__all__ = ["MAX_ERROR_ITEMS", "MAX_ERROR_TEXT", "REALM", "log_error"]

# NOTE: the logger keeps the package's name (the module docstring and callers name it).
log = logging.getLogger("negotiate.http")

REALM = "SuperOffice Username or Ticket"
"""The realm of the ``WWW-Authenticate`` challenge, as SuperOffice sends it."""

_CHALLENGE = f'Basic realm="{REALM}"'

MAX_ERROR_TEXT = 1024
"""The most characters of any one string in an error body (longer ones are cut)."""

MAX_ERROR_ITEMS = 64
"""The most items of any one list in an error body (longer ones are cut)."""

_SURROGATE = re.compile("[\ud800-\udfff]")


class _Logged(NegotiateError):
    """500 for a failure already logged with its traceback (not logged again)."""


def log_error(exc: NegotiateError, method: str, path: str) -> None:
    """Log an error response as the core does: one line (see the module docstring), never a
    traceback; a 4xx at debug level, a 5xx at warning (error for 500).

    Args:
        exc: the error answered.
        method: the request method.
        path: the request path.
    """
    status = exc.status
    if status < 500:
        # PERF: isEnabledFor is cached per logger; a 4xx costs no formatting when off.
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%d %s %s: %r", status, excerpt(method), excerpt(path), _cut(str(exc)))
    elif not isinstance(exc, _Logged):
        level = logging.ERROR if status == 500 else logging.WARNING
        log.log(level, "%d %s %s: %r", status, excerpt(method), excerpt(path), _cut(str(exc)))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_ERROR_TEXT else text[:MAX_ERROR_TEXT] + "…"


def _bounded(value: Any) -> Any:
    """A value of an error body with long strings and lists cut (a backstop)."""
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, list | tuple):
        items = [_cut(item) if isinstance(item, str) else item for item in value]
        return items if len(items) <= MAX_ERROR_ITEMS else [*items[:MAX_ERROR_ITEMS], "…"]
    return value


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escaped(item: Any, pattern: re.Pattern[str]) -> Any:
    """A string (or a list's strings) with the characters ``pattern`` finds escaped."""
    if isinstance(item, str):
        return pattern.sub(_escape, item) if pattern.search(item) is not None else item
    if isinstance(item, list):
        return [_escaped(x, pattern) for x in item]
    return item


def _as_text(value: object) -> str:
    return _SURROGATE.sub(_escape, str(value))


def _json_error(value: dict[str, Any]) -> bytes:
    """The error as JSON, whatever its strings and details hold."""
    try:
        return orjson.dumps(value)
    except TypeError:
        pass
    # NOTE: UTF-8 cannot carry a lone surrogate, and a handler may put anything in a
    # detail: escape the one, write the other as text, rather than fail a second time.
    safe = {key: _escaped(item, _SURROGATE) for key, item in value.items()}
    return orjson.dumps(safe, default=_as_text)
