"""Form keys: the grammar (``.Name``, ``[text]``) and a key bound to a schema.

A key such as ``ContactEntity.Persons[0].Firstname`` (ASP.NET) or
``ContactEntity[Persons][0][Firstname]`` (jQuery) is parsed into segments, then bound
once to the carrier's schema as a :class:`_Path`: the steps from the root to the value
it sets. The rules are in the package docstring (:mod:`negotiate.codecs.form`).
"""

from __future__ import annotations

import re
from typing import Any, Final

from negotiate.codecs.base import clip
from negotiate.codecs.form.values import _leaf_parser, _type_name
from negotiate.errors import InvalidValue, MalformedBody, NegotiateError, excerpt
from negotiate.options import Options
from negotiate.schema import FieldType, Kind, Schema

__all__ = ["form_key"]


# -- keys -----------------------------------------------------------------------------------

_Segment = tuple[bool, str]  # (in brackets, text)


def _parse_key(key: str) -> tuple[_Segment, ...] | str:
    """The key's segments, or a message saying what is wrong with it."""
    segments: list[_Segment] = []
    pos, end = 0, len(key)
    first = True
    while pos < end:
        char = key[pos]
        if char == "[":
            close = key.find("]", pos + 1)
            if close < 0:
                return "a '[' without its ']'"
            if first:
                return "it starts with '['"
            segments.append((True, key[pos + 1 : close]))
            pos = close + 1
            continue
        if char == ".":
            if first:
                return "it starts with '.'"
            pos += 1
        elif not first:
            return f"expected '.' or '[' at position {pos}"
        stop = pos
        while stop < end and key[stop] not in ".[":
            stop += 1
        if stop == pos:
            return "an empty name"
        if "]" in key[pos:stop]:
            return "a ']' without its '['"
        segments.append((False, key[pos:stop]))
        pos = stop
        first = False
    if not segments:
        return "an empty key"
    return tuple(segments)


def form_key(schema: Schema, pointer: str) -> str:
    """The form key of a JSON pointer into a carrier of ``schema`` (for error locations).

    Args:
        schema: the carrier at the root of the pointer.
        pointer: a JSON pointer such as ``/Persons/0/Rank``.

    Returns:
        The key as this codec writes it, unescaped: ``Persons[0].Rank``.
    """
    out = ""
    ftype: FieldType | None = schema.root_type
    current = schema
    for raw in pointer.split("/")[1:]:
        segment = raw.replace("~1", "/").replace("~0", "~")
        if ftype is not None and ftype.kind in (Kind.ARRAY, Kind.DICT):
            out += f"[{segment}]"
            ftype = ftype.item
            continue
        out += f".{segment}" if out else segment
        field = None
        if ftype is not None and ftype.kind is Kind.CARRIER:
            current = ftype.schema
            field = current.field(segment)
        ftype = field.type if field is not None else None
    return out


# -- keys compiled against a schema --------------------------------------------------------

# What one segment of a key does, once bound to the schema.
_FIELD, _INDEX, _KEY, _PAIR_VALUE, _PAIR_KEY, _APPEND = range(6)
_CONTAINERS: Final = (Kind.CARRIER, Kind.ARRAY, Kind.DICT)

_Step = tuple[int, Any, FieldType, str]  # (op, slot, type of the value there, key so far)


class _Path:
    """A form key bound to a schema: the steps from the root to the value it sets.

    PERF: binding is done once per distinct key and memoised, so reading a body is
    dictionary work only; everything that depends on the key alone (names, index
    limits, depth, the unknown-property policy) is checked here. ``prefix`` names the
    node the parent steps lead to, ``(op, slot)`` by step: two keys with equal prefixes
    store into the same node (``Persons[3].Firstname`` and ``persons[3].Lastname``).
    """

    __slots__ = ("key", "steps", "parents", "prefix", "last", "parse", "error", "skip")

    def __init__(
        self,
        key: str,
        steps: tuple[_Step, ...] = (),
        *,
        error: NegotiateError | None = None,
        skip: bool = False,
    ) -> None:
        self.key = key
        self.steps = steps
        self.parents = tuple(
            (op, slot, ftype, where, ftype.schema if ftype.kind is Kind.CARRIER else None)
            for op, slot, ftype, where in steps[:-1]
        )
        self.prefix = tuple((op, slot) for op, slot, _, _ in steps[:-1])
        self.last = steps[-1] if steps else (_FIELD, "", FieldType(Kind.STRING), key)
        leaf = self.last[2]
        self.parse = _leaf_parser(leaf) if leaf.is_value_type else None
        self.error = error
        self.skip = skip


_SKIPPED: Final = _Path("", skip=True)
_NAME_KEY = re.compile(rb"[A-Za-z0-9_\-]+")  # one segment, nothing to unquote


def _render(segments: tuple[_Segment, ...]) -> str:
    """Segments as an ASP.NET-style key: ``Persons[0].Firstname``."""
    out = ""
    for bracket, name in segments:
        out += f"[{name}]" if bracket else (f".{name}" if out else name)
    return out


def _is_pair(segment: _Segment, item: FieldType) -> bool:
    bracket, name = segment
    if bracket or name.lower() not in ("key", "value"):
        return False
    return item.kind is not Kind.CARRIER or item.schema.field(name) is None


def _compile(schema: Schema, options: Options, key: str) -> _Path:
    """Bind ``key`` to ``schema`` (see the package docstring for the rules)."""
    segments = _parse_key(key)
    if isinstance(segments, str):
        return _Path(key, error=MalformedBody(f"Malformed form key: {segments}", location=key))
    try:
        steps = _bind(schema, options, key, segments)
    except InvalidValue as exc:
        return _Path(key, error=exc)
    if steps is None:
        return _SKIPPED  # PERF: one for every ignored key (a skipped key raises nothing)
    return _Path(key, steps)


def _bind(
    schema: Schema, options: Options, key: str, segments: tuple[_Segment, ...]
) -> tuple[_Step, ...] | None:
    current = schema
    index = 0
    first = segments[0][1]
    if len(segments) > 1 and current.field(first) is None:
        if first.casefold() == current.name.casefold():
            index = 1  # the carrier's name as a prefix
    steps: list[_Step] = []
    ftype: FieldType | None = None  # None: a property of ``current`` comes next
    depth = 0
    last = len(segments) - 1
    while True:
        bracket, name = segments[index]
        where = _render(segments[: index + 1])
        if ftype is None:
            field = current.field(name)
            if field is None:
                if options.unknown == "error":
                    raise InvalidValue(
                        f"Unknown property {excerpt(name)} for {current.name}", location=key
                    )
                return None
            ftype = field.type
            steps.append((_FIELD, field.name, ftype, where))
        elif ftype.kind is Kind.ARRAY:
            assert ftype.item is not None
            ftype = ftype.item
            if not bracket:
                raise InvalidValue(f"Expected an index, got .{clip(name)}", location=key)
            if name == "":
                if index != last or ftype.kind in _CONTAINERS:
                    raise InvalidValue("'[]' only appends to an array of scalars", location=key)
                steps.append((_APPEND, None, ftype, where))
                return tuple(steps)
            if not (name.isdigit() and name.isascii()):
                raise InvalidValue(f"Expected an array index, got [{clip(name)}]", location=key)
            if len(name) > 9 or int(name) >= options.max_items:
                raise InvalidValue(
                    f"Array index {clip(name)} is over the limit of {options.max_items} items",
                    location=key,
                )
            steps.append((_INDEX, int(name), ftype, where))
        elif ftype.kind is Kind.DICT:
            assert ftype.item is not None
            ftype = ftype.item
            if not bracket:
                raise InvalidValue(f"Expected [key], got .{clip(name)}", location=key)
            if index < last and _is_pair(segments[index + 1], ftype):
                index += 1
                if segments[index][1].lower() == "key":
                    if index != last:
                        raise InvalidValue("A dictionary key is a string", location=key)
                    steps.append((_PAIR_KEY, name, ftype, where))
                    return tuple(steps)
                steps.append((_PAIR_VALUE, name, ftype, where))
            else:
                steps.append((_KEY, name, ftype, where))
        else:
            part = f"[{clip(name)}]" if bracket else f".{clip(name)}"
            raise InvalidValue(f"{_type_name(ftype)} has no part {part}", location=key)
        if index == last:
            return tuple(steps)
        if ftype.kind is Kind.CARRIER:
            current = ftype.schema
            ftype = None
            depth += 1
            if depth > options.max_depth:
                raise InvalidValue(
                    f"Nested deeper than the limit of {options.max_depth}", location=key
                )
        elif ftype.kind not in _CONTAINERS:
            following, after = segments[index + 1]
            shown = f"[{clip(after)}]" if following else f".{clip(after)}"
            raise InvalidValue(f"{_type_name(ftype)} has no part {shown}", location=key)
        index += 1
