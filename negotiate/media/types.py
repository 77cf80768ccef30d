"""Concrete media types: :class:`MediaType`, ``Content-Type`` parsing, the common types."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from negotiate.errors import UnsupportedMediaType, excerpt
from negotiate.media._grammar import (
    _CACHE_SIZE,
    _DELIMITERS,
    _ESSENCE_RE,
    _PARAM_RE,
    _QUOTED_PAIR_RE,
    _TCHARS,
    _TOKEN_RE,
    _Params,
)

__all__ = [
    "MEDIA_FORM",
    "MEDIA_JSON",
    "MEDIA_JSON_PATCH",
    "MEDIA_MERGE_PATCH",
    "MEDIA_TEXT_JSON",
    "MEDIA_TEXT_XML",
    "MEDIA_XML",
    "MediaType",
    "parse_content_type",
]

MEDIA_JSON: Final = "application/json"
MEDIA_TEXT_JSON: Final = "text/json"
MEDIA_XML: Final = "application/xml"
MEDIA_TEXT_XML: Final = "text/xml"
MEDIA_FORM: Final = "application/x-www-form-urlencoded"
MEDIA_JSON_PATCH: Final = "application/json-patch+json"
MEDIA_MERGE_PATCH: Final = "application/merge-patch+json"


_UNTERMINATED_RE: Final = re.compile(r'[^"]*"(?:[^"\\]|\\.)*\\?\Z', re.DOTALL)


def _parse_params(text: str, pos: int) -> _Params | str:
    """Parameters of ``text`` from ``pos`` to the end, or a message saying what is wrong."""
    params: list[tuple[str, str]] = []
    end = len(text)
    match = _PARAM_RE.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            rest = text[pos:]
            if _UNTERMINATED_RE.match(rest):
                return f"Expected a closing quote in the parameters, got {excerpt(rest)}"
            return f"Expected parameters as ';name=value', got {excerpt(rest)}"
        pos = m.end()
        name = m[1]
        if name is None:
            continue  # an empty parameter
        name = name.lower()
        value = m[2]
        if value is None:
            value = _QUOTED_PAIR_RE.sub(r"\1", m[3])
        if name == "charset":
            value = value.lower()
        params.append((name, value))
    return tuple(params)


def _parse_media_type(text: str) -> MediaType | str:
    """A concrete media type, or a message saying what is wrong."""
    # PERF: a value made of tokens (nearly every one) is read by one scan with str
    # methods; the rest, and every error, go through the grammar.
    found = _scan_media_type(text)
    return _reference_media_type(text) if found is None else found


def _scan_media_type(text: str) -> MediaType | None:
    """The fast pass: a concrete media type of tokens, or ``None`` to ask the reference.

    ``None`` for what the scan does not read (a quoted string, a non-ASCII or control
    character, blanks around ``=``) and for anything malformed, a repeated parameter
    included: the reference parser words the error, so the two cannot disagree on it.
    """
    if not text.isascii():
        return None
    # What is not a tchar, in order: the delimiters tell the structure.
    skeleton = text.encode().translate(None, _TCHARS)
    if skeleton == b"/; =" or skeleton == b"/;=":
        # PERF: "type/subtype; name=value", the commonest form, without the loop below.
        head, _, rest = text.partition(";")
        if rest[0] == " ":
            rest = rest[1:]  # the blank is OWS; anywhere else it is inside the name
        name, _, value = rest.partition("=")
        type_, _, subtype = head.lower().partition("/")
        if not type_ or not subtype or not name or not value or type_ == "*" or subtype == "*":
            return None
        if " " in name:
            return None
        name = name.lower()
        return MediaType(type_, subtype, ((name, value.lower() if name == "charset" else value),))
    # Only tchars and "; / =" and blanks; a parameter cannot hold a "/": it is the type's.
    if skeleton.translate(None, _DELIMITERS) or skeleton.count(b"/") != 1:
        return None
    head, sep, rest = text.partition(";")
    if " " in head or "\t" in head:
        head = head.strip(" \t")
        if " " in head or "\t" in head:
            return None
    # NOTE: lower() is safe: the text is ASCII (the reference's note on KELVIN SIGN).
    type_, _, subtype = head.lower().partition("/")
    if not type_ or not subtype or "=" in head or type_ == "*" or subtype == "*":
        return None
    if not sep:
        return MediaType(type_, subtype)
    params: list[tuple[str, str]] = []
    for part in rest.split(";"):
        name, _, value = part.partition("=")
        if " " in part or "\t" in part:
            name = name.strip(" \t")
            value = value.strip(" \t")
            if " " in name or "\t" in name or " " in value or "\t" in value:
                return None
        if not name or not value or "=" in value:
            if name or value or "=" in part:
                return None
            continue  # an empty parameter (";;"), which RFC 9110 allows
        name = name.lower()
        params.append((name, value.lower() if name == "charset" else value))
    if len(params) > 1 and len({name for name, _ in params}) != len(params):
        return None
    return MediaType(type_, subtype, tuple(params))


def _reference_media_type(text: str) -> MediaType | str:
    """A concrete media type by the strict grammar (the reference), or what is wrong."""
    essence, sep, _ = text.partition(";")
    essence = essence.strip(" \t")
    m = _ESSENCE_RE.fullmatch(essence)
    if m is None:
        type_, slash, subtype = essence.partition("/")
        if not slash:
            return f"Expected a media type 'type/subtype', got {excerpt(text)} (no '/')"
        if not type_.strip(" \t") or not subtype.strip(" \t"):
            return (
                f"Expected a media type 'type/subtype', got {excerpt(text)} (empty type or subtype)"
            )
        return f"Expected token characters in the media type, got {excerpt(essence)}"
    type_, _, subtype = essence.lower().partition("/")
    if type_ == "*" or subtype == "*":
        return f"Expected a concrete media type, got the wildcard {excerpt(essence)}"
    params: _Params = ()
    if sep:
        body = text.rstrip(" \t")
        parsed = _parse_params(body, body.index(";"))
        if isinstance(parsed, str):
            return parsed
        names = [name for name, _ in parsed]
        if len(set(names)) != len(names):
            return f"Expected each parameter once, got {excerpt(text)}"
        params = parsed
    return MediaType(type_, subtype, params)


def _quote(value: str) -> str:
    if _TOKEN_RE.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_json(type_: str, subtype: str) -> bool:
    return subtype.endswith("+json") or (subtype == "json" and type_ in ("application", "text"))


def _params_match(wanted: _Params, offered: _Params, is_json: bool) -> bool:
    for item in wanted:
        if item not in offered and not (is_json and item[0] == "charset"):
            return False
    return True


@dataclass(frozen=True, slots=True)
class MediaType:
    """A concrete media type, as a Content-Type header (or an offer) names it.

    Attributes:
        type: the top-level type, lower case.
        subtype: the subtype, lower case.
        params: ``(name, value)`` pairs in header order; names lower case, values
            unquoted and case-preserved, except ``charset``, which is lower case.
    """

    type: str
    subtype: str
    params: _Params = ()

    @classmethod
    def parse(cls, text: str) -> MediaType:
        """Parse a Content-Type value.

        Args:
            text: the header value, such as ``application/json; charset=utf-8``.

        Returns:
            The media type.

        Raises:
            UnsupportedMediaType: (415) the value is malformed: no ``/``, an empty
                type or subtype, a wildcard, a character outside the token set, a
                malformed or repeated parameter, an unterminated quote.
        """
        parsed = _parse_media_type(text)
        if isinstance(parsed, str):
            raise UnsupportedMediaType(f"Malformed Content-Type: {parsed}")
        return parsed

    @property
    def essence(self) -> str:
        """``type/subtype``, without parameters."""
        return f"{self.type}/{self.subtype}"

    def param(self, name: str) -> str | None:
        """The value of parameter ``name`` (case-insensitive), or ``None``."""
        name = name.lower()
        for key, value in self.params:
            if key == name:
                return value
        return None

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter, lower case, or ``None``."""
        # PERF: param() without its lower(); read on every request body.
        for key, value in self.params:
            if key == "charset":
                return value
        return None

    @property
    def is_json(self) -> bool:
        """Whether this is JSON: ``application/json``, ``text/json`` or ``+json``."""
        return _is_json(self.type, self.subtype)

    def to_header(self) -> str:
        """The media type as a header value, quoting values that need it."""
        return self.essence + "".join(f"; {n}={_quote(v)}" for n, v in self.params)


@lru_cache(maxsize=_CACHE_SIZE)
def parse_content_type(header: str) -> MediaType:
    """Parse a ``Content-Type`` header; cached by the header string.

    Args:
        header: the header value.

    Returns:
        The media type.

    Raises:
        UnsupportedMediaType: (415) the value is malformed (see :meth:`MediaType.parse`).
    """
    return MediaType.parse(header)


def _clear_caches() -> None:
    parse_content_type.cache_clear()
