"""JSON pointers (RFC 6901): parsing, joining, and resolving one in a document.

The patch formats address the document with pointers; this is where their
text is read (:func:`_parse`), written (:func:`_join`, one
:func:`~negotiate.errors.escape_pointer` per token) and followed. The
messages of a pointer that leads nowhere name the pointer, never the
document's values (they reach error bodies).

:class:`_Pointer` is the pointer class the ``jsonpatch`` engine is given for
the operations it runs (``remove`` and ``test``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from jsonpointer import EndOfList, JsonPointer, JsonPointerException

from negotiate.errors import MalformedBody, PatchConflict, escape_pointer, excerpt

__all__ = ["resolve_pointer"]

_BAD_ESCAPE: Final = re.compile(r"~(?![01])")
_INDEX_DIGITS: Final = 18


def _parse(pointer: str) -> list[str]:
    """The unescaped reference tokens of a pointer, or ``JsonPointerException``."""
    if not pointer:
        return []
    if pointer[0] != "/":
        raise JsonPointerException(
            f"{excerpt(pointer)} is not a JSON pointer: it must start with '/'"
        )
    if "~" not in pointer:
        return pointer[1:].split("/")
    if _BAD_ESCAPE.search(pointer):
        raise JsonPointerException(
            f"{excerpt(pointer)} is not a JSON pointer: '~' must be followed by 0 or 1"
        )
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def _join(parts: Sequence[str | int]) -> str:
    return "".join("/" + escape_pointer(p) for p in parts)


def _index(part: str | int) -> int:
    """An array index token (RFC 6901: ``0`` or no leading zero), as an int."""
    if type(part) is int:
        return part
    assert isinstance(part, str)
    if part.isascii() and part.isdigit() and (part[0] != "0" or part == "0"):
        if len(part) > _INDEX_DIGITS:
            # NOTE: int() refuses more than 4300 digits, and no array is that long.
            raise JsonPointerException(f"index {excerpt(part)} is out of bounds")
        return int(part)
    raise JsonPointerException(f"{excerpt(part)} is not an array index")


def _step(doc: Any, part: str | int) -> Any:
    """One step down a document, with messages that never quote the document."""
    if type(doc) is dict:
        try:
            return doc[part]
        except KeyError:
            raise JsonPointerException(f"member {excerpt(part)} not found") from None
    if type(doc) is list:
        if part == "-":
            return EndOfList(doc)
        index = _index(part)
        if index >= len(doc):
            raise JsonPointerException(f"index {index} is out of bounds (length {len(doc)})")
        return doc[index]
    raise JsonPointerException(f"cannot look up {excerpt(str(part))} in {_kind(doc)}")


class _Pointer(JsonPointer):
    """The engine's pointer class (``pointer_cls``), faster on dicts and lists.

    PERF: ``jsonpointer`` tests every step against the ``Mapping`` and
    ``Sequence`` ABCs, which dominates applying a short patch; documents here
    are plain dicts and lists. Its "not found" messages also quote the whole
    document, which must not reach an error body.
    """

    def __init__(self, pointer: str) -> None:
        self.parts = _parse(pointer)

    def to_last(self, doc: Any) -> tuple[Any, str | int | None]:
        parts = self.parts
        if not parts:
            return doc, None
        for part in parts[:-1]:
            doc = _step(doc, part)
        return doc, self.get_part(doc, parts[-1])

    @classmethod
    def get_part(cls, doc: Any, part: str | int) -> str | int:
        if type(doc) is dict:
            return part
        if type(doc) is list:
            return part if part == "-" else _index(part)
        if isinstance(doc, str | int | float | bool) or doc is None:
            raise JsonPointerException(f"cannot look up {excerpt(str(part))} in {_kind(doc)}")
        return super().get_part(doc, part)

    def walk(self, doc: Any, part: str | int) -> Any:
        if type(doc) is dict or type(doc) is list:
            return _step(doc, part)
        return super().walk(doc, part)


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value a JSON pointer (RFC 6901) refers to, as the patch codecs resolve it.

    Args:
        document: a JSON value (dicts, lists, scalars).
        pointer: a pointer in its JSON string form (``/foo/0``, ``""`` for the
            whole document); a URI fragment must be percent-decoded first.

    Returns:
        The referenced value.

    Raises:
        MalformedBody: ``pointer`` is not a JSON pointer (400).
        PatchConflict: nothing is there (a missing member, an index out of
            range or not an index, ``-``, a scalar on the way) (409).
    """
    try:
        parts = _parse(pointer)
    except JsonPointerException as exc:
        raise MalformedBody(str(exc)) from None
    value = document
    for depth, part in enumerate(parts):
        try:
            value = _step(value, part)
        except JsonPointerException as exc:
            raise PatchConflict(
                f"Nothing at {excerpt(pointer)}: {exc}", location=_join(parts[: depth + 1])
            ) from None
        if type(value) is EndOfList:
            raise PatchConflict(
                f"Nothing at {excerpt(pointer)}: '-' refers to the element after the last",
                location=_join(parts[: depth + 1]),
            )
    return value


def _kind(value: Any) -> str:
    """What a document value is, without quoting it."""
    if value is None:
        return "null"
    if type(value) is EndOfList:
        return "the element after the last"
    if type(value) is bool:
        return "a bool"
    if type(value) is str:
        return "a string"
    if type(value) is int or type(value) is float:
        return "a number"
    return f"a {type(value).__name__}"
