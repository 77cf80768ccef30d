"""``application/x-www-form-urlencoded`` with ASP.NET model-binding keys.

Keys are paths from the carrier's root, as ASP.NET model binding reads them:
``Name``, ``Persons[0].Firstname``, ``CustomFields[SuperOffice:1]``. For the request
wrapper that gives ``ContactEntity.Name`` and ``EnrichId``.

Decoding (request side):

* Segments are ``.Name`` or ``[text]``; jQuery's all-bracket style
  (``ContactEntity[Persons][0][Firstname]``) reads the same. Property names bind like
  JSON's (exact, then case-insensitive); an unknown one follows
  :attr:`Options.unknown`. The carrier's own name may prefix every key
  (``ContactEntity.Name`` for a bare ContactEntity), as ASP.NET binds an action
  parameter with or without its name; a property of that name wins.
* Arrays: ``Persons[0]``, ``Persons[1]``... indices contiguous from 0 and below
  :attr:`Options.max_items` (a larger index is a 400 before anything is allocated).
  String arrays also take repeated keys (``Domains=a&Domains=b``, where an empty value
  is an unfilled input and is skipped) or jQuery's ``Domains[]=a``. One array uses
  one style.
* Dictionaries: ``CustomFields[key]=value``, or ASP.NET's pairs
  ``CustomFields[0].Key=key&CustomFields[0].Value=value`` (a pair's index is only a
  label; it is recognised when the segment after the brackets is ``Key`` or ``Value``
  and the value type has no property of that name).
* Values: a string takes the text as it is, ``""`` included. For any other type an
  empty value means "not given" (the default applies), except that an empty value at
  an array or dictionary key means "present and empty" (``Emails=`` is ``[]``: leaving
  the key out already says "not given", and this is the only way to send an empty
  collection), and at an array item or dictionary entry whose type is a carrier it
  means a null item. bool takes ``true``/``false`` in any case, ``1``/``0`` and an HTML
  checkbox's ``on``; given more than once, the first value counts (ASP.NET MVC's
  ``CheckBox`` posts ``true&false``). Every other property given twice is a 400. Enums
  take names in any case or the number; flags are separated by commas or spaces.
* The ``charset`` parameter is honoured (UTF-8 by default; it must be ASCII-compatible).
  A ``%`` not followed by two hex digits, or bytes invalid in the charset, are a 400
  naming the key. Every error is located by its form key.
* The result passes through the schema's normaliser, as JSON's does.
* A body of more fields than :attr:`Options.max_nodes` is a 400 at the first key past
  the budget, before any field is read; without a schema, more distinct keys (or values
  of one key) than :attr:`Options.max_items` are a 400.

Encoding (for clients) writes every non-null property in declaration order, keys
escaped as the WHATWG urlencoded serializer does (``[`` is ``%5B``), no carrier-name
prefix. Nulls are left out; ``""`` is ``Key=``; an empty array or dictionary is ``Key=``;
array items are indexed; dictionaries use ``[key]``, or the ``[i].Key``/``[i].Value``
pairs when a key holds a ``]``. Flag enums are written as JSON writes them
(``Read, Write``).

What a form cannot say, exactly (every other value reads back unchanged):

* a carrier whose every property is null has no key to write: it reads back as null
  (a null array item or dictionary value is written ``Key=``, which reads back as null);
* a null item of a string array and a null value of a string dictionary are written
  ``Key=``, which reads back as ``""`` (a form field has no null);
* a null item of an array of arrays (``LocalizedAddress``) is written ``Key=``, which
  reads back as ``[]``.

Without a schema a body decodes to ``{key: value}``, keys as written (percent-decoded),
a repeated key's values as a list; encoding takes such a dict (strings, numbers, bools,
``None`` written as ``Key=``, lists as repeated keys).

PERF: each distinct raw key is bound to the schema once per codec and memoised (bounded),
so reading a body is percent-decoding plus dictionary work.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, ClassVar, Final
from urllib.parse import unquote_to_bytes

from negotiate.codecs.base import BaseCodec, clip, too_many_nodes
from negotiate.codecs.xml import text_codec
from negotiate.errors import (
    EncodeError,
    InvalidValue,
    MalformedBody,
    NegotiateError,
    UnsupportedMediaType,
    excerpt,
)
from negotiate.media import MEDIA_FORM, MediaType
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import FieldType, Kind, Schema
from negotiate.schema.values import (
    EnumSpec,
    check_datetime,
    describe,
    format_double,
    parse_bool,
    parse_double,
    parse_int32,
)

__all__ = ["FormCodec", "form_key"]

_ASCII_COMPATIBLE = frozenset(
    {"utf-8", "ascii", "latin-1", "koi8-r", "koi8-u"}
    | {f"iso8859-{n}" for n in range(1, 17)}
    | {f"cp{n}" for n in range(1250, 1259)}
)
_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_MEMO_LIMIT = 4096


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
    ftype: FieldType | None = FieldType(Kind.CARRIER, carrier=schema.name)
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
            current = schema if ftype.carrier == schema.name else ftype.schema
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
    limits, depth, the unknown-property policy) is checked here.
    """

    __slots__ = ("key", "steps", "parents", "last", "parse", "error", "skip")

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
    """Bind ``key`` to ``schema`` (see the module docstring for the rules)."""
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


def _type_name(ftype: FieldType) -> str:
    if ftype.kind is Kind.CARRIER:
        return ftype.carrier
    if ftype.kind is Kind.ENUM:
        assert ftype.enum is not None
        return ftype.enum.name
    if ftype.item is not None:
        return f"{'an array' if ftype.kind is Kind.ARRAY else 'a dictionary'} of " + _type_name(
            ftype.item
        )
    return "A " + ftype.kind.value if ftype.kind is not Kind.INT32 else "An int32"


# -- the tree a body is read into -----------------------------------------------------------

_NULL: Final = object()  # "Persons[1]=": a null item, unless the item's keys follow


class _Array:
    """An array being read; one of its three styles is in use."""

    __slots__ = ("bare", "indexed", "appended", "marked", "where")

    def __init__(self, where: str) -> None:
        self.bare: list[Any] | None = None
        self.indexed: dict[int, Any] | None = None
        self.appended: list[Any] | None = None
        self.marked = False
        self.where = where


class _Dict:
    """A dictionary being read: ``[key]`` entries and ``[i].Key``/``[i].Value`` pairs."""

    __slots__ = ("entries", "pairs", "where")

    def __init__(self, where: str) -> None:
        self.entries: dict[str, Any] = {}
        self.pairs: dict[str, dict[str, Any]] = {}
        self.where = where


def _leaf_parser(ftype: FieldType) -> Callable[[str], Any]:
    kind = ftype.kind
    if kind is Kind.INT32:
        return _parse_int32
    if kind is Kind.DOUBLE:
        return parse_double
    if kind is Kind.BOOL:
        return _parse_bool
    if kind is Kind.DATETIME:
        return _parse_datetime
    assert ftype.enum is not None
    return _enum_parser(ftype.enum)


def _parse_int32(text: str) -> int:
    if len(text) < 10 and text.isdigit() and text.isascii():
        return int(text)
    return parse_int32(text)


def _parse_bool(text: str) -> bool:
    if text.strip().lower() == "on":
        return True
    return parse_bool(text)


def _parse_datetime(text: str) -> str:
    return check_datetime(text.strip())


_FLAG_SPLIT = re.compile(r"[\s,]+")


def _enum_parser(spec: EnumSpec) -> Callable[[str], str]:
    def parse(text: str) -> str:
        text = text.strip()
        digits = text.lstrip("-")
        if digits.isdigit() and text.isascii():
            significant = len(digits.lstrip("0"))
            if significant > 10:  # NOTE: before int(), which may refuse it
                raise ValueError(
                    f"Expected {spec.name} value, got a number of {significant} digits "
                    "(not defined)"
                )
            return spec.normalize(int(text))
        if spec.flags:
            return spec.normalize(", ".join(n for n in _FLAG_SPLIT.split(text) if n))
        return spec.normalize(text)

    return parse


class _Builder:
    """Applies compiled paths to a tree of dicts (carriers), ``_Array`` and ``_Dict``."""

    def __init__(self, schema: Schema, options: Options) -> None:
        self.limit = options.max_items
        self.root: dict[str, Any] = {}
        # NOTE: the schema of every carrier node, by id (nodes live as long as the builder)
        self.schemas: dict[int, Schema] = {id(self.root): schema}

    def apply(self, path: _Path, text: str) -> None:
        """Store one value.

        Raises:
            InvalidValue: the value does not fit, or clashes with another key.
        """
        node: Any = self.root
        key = path.key
        for op, slot, ftype, where, schema in path.parents:
            holder = node if op == _FIELD else self.holder(node, op, slot, key)
            if op == _PAIR_VALUE:
                slot = "value"
            node = holder.get(slot)
            if node is None or node is _NULL:
                if schema is not None:
                    node = {}
                    self.schemas[id(node)] = schema
                elif ftype.kind is Kind.ARRAY:
                    node = _Array(where)
                else:
                    node = _Dict(where)
                holder[slot] = node
            elif type(node) is not dict and type(node) is not _Array and type(node) is not _Dict:
                raise InvalidValue(
                    f"{clip(where)} is given both as a value and with parts", location=key
                )
        op, slot, ftype, where = path.last
        if op == _FIELD:
            # PERF: the common cases inline: a property given once.
            if slot not in node:
                parse = path.parse
                if parse is not None:
                    if text != "":
                        try:
                            node[slot] = parse(text)
                        except ValueError as exc:
                            raise InvalidValue(str(exc), location=key) from None
                    return
                if ftype.kind is Kind.STRING:
                    node[slot] = text
                    return
            self.leaf(node, slot, ftype, text, key, False)
        elif op == _APPEND:
            self.append(node, ftype, text, key)
        elif op == _PAIR_KEY:
            holder = self.holder(node, op, slot, key)
            if "key" in holder:
                raise InvalidValue("Key is given more than once", location=key)
            holder["key"] = (text, key)
        else:
            holder = self.holder(node, op, slot, key)
            self.leaf(holder, "value" if op == _PAIR_VALUE else slot, ftype, text, key, True)

    def holder(self, node: Any, op: int, slot: Any, key: str) -> dict[Any, Any]:
        """The dict an index, key or pair step stores into."""
        if op == _INDEX:
            holder: dict[Any, Any] | None = node.indexed
            if holder is None:
                if node.bare is not None or node.appended is not None:
                    raise InvalidValue(
                        f"{clip(node.where)} mixes indexed keys with repeated or '[]' keys",
                        location=key,
                    )
                holder = node.indexed = {}
            return holder
        if op == _KEY:
            holder = node.entries
            if slot not in holder:
                self.room(node, key)
            return holder
        holder = node.pairs.get(slot)
        if holder is None:
            self.room(node, key)
            holder = node.pairs[slot] = {}
        return holder

    def room(self, mapping: _Dict, key: str) -> None:
        if len(mapping.entries) + len(mapping.pairs) >= self.limit:
            raise InvalidValue(
                f"Too many entries in {clip(mapping.where)} (limit {self.limit})", location=key
            )

    def append(self, array: _Array, item: FieldType, text: str, key: str) -> None:
        if array.bare is not None or array.indexed is not None:
            raise InvalidValue(
                f"{clip(array.where)} mixes '[]' keys with indexed or repeated keys", location=key
            )
        if array.appended is None:
            array.appended = []
        if len(array.appended) >= self.limit:
            raise InvalidValue(f"Too many items (limit {self.limit})", location=key)
        array.appended.append(_scalar(item, text, key, item=True))

    def leaf(
        self, holder: dict[Any, Any], slot: Any, ftype: FieldType, text: str, key: str, item: bool
    ) -> None:
        """Store the value of a key that ends at ``holder[slot]`` (the general case)."""
        kind = ftype.kind
        existing = holder.get(slot)
        if kind is Kind.STRING:
            if existing is not None:
                raise InvalidValue(f"{clip(str(slot))} is given more than once", location=key)
            holder[slot] = text
        elif kind is Kind.ARRAY:
            assert ftype.item is not None
            if existing is None or existing is _NULL:
                existing = holder[slot] = _Array(key)
            elif type(existing) is not _Array:
                raise InvalidValue(f"{clip(str(slot))} is given more than once", location=key)
            if text == "":
                existing.marked = True  # present; a repeated key left empty adds nothing
                return
            if ftype.item.kind in _CONTAINERS:
                raise InvalidValue(
                    f"Expected {_type_name(ftype.item)} items as indexed keys, got a value",
                    location=key,
                )
            if existing.indexed is not None or existing.appended is not None:
                raise InvalidValue(
                    f"{clip(existing.where)} mixes repeated keys with indexed or '[]' keys",
                    location=key,
                )
            if existing.bare is None:
                existing.bare = []
            if len(existing.bare) >= self.limit:
                raise InvalidValue(f"Too many items (limit {self.limit})", location=key)
            existing.bare.append(_scalar(ftype.item, text, key, item=True))
        elif kind is Kind.CARRIER or kind is Kind.DICT:
            if text != "":
                what = "properties" if kind is Kind.CARRIER else "[key] entries"
                raise InvalidValue(
                    f"Expected {_type_name(ftype)} as {what}, got the value {excerpt(text, 40)}",
                    location=key,
                )
            if kind is Kind.DICT:
                if existing is None or existing is _NULL:
                    holder[slot] = _Dict(key)
                elif type(existing) is not _Dict:
                    raise InvalidValue(f"{clip(str(slot))} is given more than once", location=key)
            elif item and existing is None:
                holder[slot] = _NULL
        elif text == "":
            if item:
                raise InvalidValue(
                    f"Expected {_type_name(ftype).lower()}, got an empty value", location=key
                )
        elif existing is not None:
            if kind is not Kind.BOOL or item:
                raise InvalidValue(f"{clip(str(slot))} is given more than once", location=key)
            # NOTE: a repeated bool keeps its first value (MVC's CheckBox posts "true&false")
        else:
            holder[slot] = _scalar(ftype, text, key)

    # -- the tree to plain data

    def finish(self) -> dict[str, Any]:
        return self.carrier(self.root)

    def carrier(self, node: dict[str, Any]) -> dict[str, Any]:
        """The carrier with every field, in declaration order.

        PERF: the normaliser's fast path then has nothing to rebind.
        """
        for name, child in node.items():
            kind = type(child)
            if kind is dict:
                node[name] = self.carrier(child)
            elif kind is _Array:
                node[name] = self.array(child)
            elif kind is _Dict:
                node[name] = self.mapping(child)
        out = self.schemas[id(node)].default()
        out.update(node)
        return out

    def value(self, node: Any) -> Any:
        kind = type(node)
        if kind is dict:
            return self.carrier(node)
        if kind is _Array:
            return self.array(node)
        if kind is _Dict:
            return self.mapping(node)
        if node is _NULL:
            return None
        return node

    def array(self, node: _Array) -> list[Any]:
        if node.bare is not None:
            return node.bare
        if node.appended is not None:
            return node.appended
        items = node.indexed
        if not items:
            return []
        size = len(items)
        if max(items) != size - 1:
            missing = next(i for i in range(size) if i not in items)
            raise InvalidValue(
                f"Array indices must run from 0 without gaps; [{missing}] is missing",
                location=f"{node.where}[{missing}]",
            )
        value = self.value
        return [value(items[i]) for i in range(size)]

    def mapping(self, node: _Dict) -> dict[str, Any]:
        value = self.value
        out = {k: value(v) for k, v in node.entries.items()}
        for label, pair in node.pairs.items():
            given = pair.get("key")
            if given is None:
                where = f"{node.where}[{label}].Key"
                raise InvalidValue("A dictionary pair needs its .Key", location=where)
            text, key = given
            if text in out:
                raise InvalidValue(f"Key {excerpt(text)} is given more than once", location=key)
            out[text] = value(pair.get("value"))
        return out


def _scalar(ftype: FieldType, text: str, key: str, *, item: bool = False) -> Any:
    if ftype.kind is Kind.STRING:
        return text
    if text == "" and item:
        raise InvalidValue(
            f"Expected {_type_name(ftype).lower()}, got an empty value", location=key
        )
    try:
        return _leaf_parser(ftype)(text)
    except ValueError as exc:
        raise InvalidValue(str(exc), location=key) from None


# -- encoding -------------------------------------------------------------------------------

# WHATWG application/x-www-form-urlencoded byte serializer: alphanumerics and *-._ stay,
# space is '+', everything else is %XX of its UTF-8 bytes.
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._")
_TABLE = {b: ("+" if b == 0x20 else f"%{b:02X}") for b in range(256) if b not in _SAFE}
_SAFE_TEXT = re.compile(r"[A-Za-z0-9*\-._]*")


def _quote(text: str) -> str:
    """Escape one key or value (PERF: C-level translate over the UTF-8 bytes)."""
    if _SAFE_TEXT.fullmatch(text):
        return text
    return text.encode("utf-8").decode("latin-1").translate(_TABLE)


class _Slow(Exception):
    """The writer met a value that is not normalised."""


_SLOW = _Slow()
_Writer = Callable[[list[str], str, Any], None]


class _Writers:
    """One writing function per carrier: ``(out, prefix, value)`` appends ``key=value``."""

    def __init__(self) -> None:
        self.carriers: dict[Schema, _Writer] = {}

    def carrier(self, schema: Schema) -> _Writer:
        found = self.carriers.get(schema)
        if found is not None:
            return found
        plan: list[tuple[str, str, Callable[[list[str], str, Any], None]]] = []
        size = len(schema.fields)

        def write(out: list[str], prefix: str, value: Any) -> None:
            if type(value) is not dict or len(value) != size:
                raise _SLOW
            for name, quoted, put in plan:
                item = value[name]
                if item is not None:
                    put(out, prefix + quoted, item)

        # NOTE: registered before its fields are planned: carriers can be recursive.
        self.carriers[schema] = write
        plan.extend((f.name, _quote(f.name), self.field(f.type)) for f in schema.fields)
        return write

    def field(self, ftype: FieldType) -> Callable[[list[str], str, Any], None]:
        """A function writing a non-null value of ``ftype`` at a (quoted) key."""
        kind = ftype.kind
        if kind is Kind.STRING:

            def put_string(out: list[str], key: str, value: Any) -> None:
                if type(value) is not str:
                    raise _SLOW
                out.append(f"{key}={_quote(value)}")

            return put_string
        if kind is Kind.INT32:

            def put_int(out: list[str], key: str, value: Any) -> None:
                if type(value) is not int or not -2147483648 <= value <= 2147483647:
                    raise _SLOW
                out.append(f"{key}={value}")

            return put_int
        if kind is Kind.BOOL:

            def put_bool(out: list[str], key: str, value: Any) -> None:
                if value is True:
                    out.append(key + "=true")
                elif value is False:
                    out.append(key + "=false")
                else:
                    raise _SLOW

            return put_bool
        if kind is Kind.DOUBLE:

            def put_double(out: list[str], key: str, value: Any) -> None:
                if type(value) is not float:
                    raise _SLOW
                if not math.isfinite(value):
                    raise _SLOW  # the normaliser refuses it, located
                text = "-0" if value == 0.0 and math.copysign(1.0, value) < 0 else None
                out.append(f"{key}={_quote(text or format_double(value))}")

            return put_double
        if kind is Kind.DATETIME:

            def put_datetime(out: list[str], key: str, value: Any) -> None:
                try:
                    check_datetime(value)
                except ValueError:
                    raise _SLOW from None
                out.append(f"{key}={_quote(value)}")

            return put_datetime
        if kind is Kind.ENUM:
            spec = ftype.enum
            assert spec is not None

            def put_enum(out: list[str], key: str, value: Any) -> None:
                if type(value) is not str or (
                    value not in spec.valid and not _enum_normal(spec, value)
                ):
                    raise _SLOW
                out.append(f"{key}={_quote(value)}")

            return put_enum
        if kind is Kind.CARRIER:
            writer = self.carrier(ftype.schema)

            def put_carrier(out: list[str], key: str, value: Any) -> None:
                writer(out, key + ".", value)

            return put_carrier
        assert ftype.item is not None
        item = self.item(ftype.item)
        if kind is Kind.ARRAY:

            def put_array(out: list[str], key: str, value: Any) -> None:
                if type(value) is not list:
                    raise _SLOW
                if not value:
                    out.append(key + "=")
                for index, element in enumerate(value):
                    item(out, f"{key}%5B{index}%5D", element)

            return put_array

        def put_dict(out: list[str], key: str, value: Any) -> None:
            if type(value) is not dict:
                raise _SLOW
            if not value:
                out.append(key + "=")
                return
            if any("]" in k for k in value if type(k) is str):
                for index, (name, element) in enumerate(value.items()):
                    if type(name) is not str:
                        raise _SLOW
                    pair = f"{key}%5B{index}%5D."
                    out.append(f"{pair}Key={_quote(name)}")
                    item(out, pair + "Value", element)
                return
            for name, element in value.items():
                if type(name) is not str:
                    raise _SLOW
                item(out, f"{key}%5B{_quote(name)}%5D", element)

        return put_dict

    def item(self, ftype: FieldType) -> Callable[[list[str], str, Any], None]:
        """Like :meth:`field`, for an array item or dictionary value, which may be null."""
        put = self.field(ftype)
        if ftype.kind in (Kind.STRING, Kind.ARRAY):

            def put_item(out: list[str], key: str, value: Any) -> None:
                if value is None:
                    out.append(key + "=")  # reads back as "" or [] (module docstring)
                else:
                    put(out, key, value)

            return put_item
        if ftype.kind is Kind.CARRIER:

            def put_carrier_item(out: list[str], key: str, value: Any) -> None:
                size = len(out)
                if value is not None:
                    put(out, key, value)
                if len(out) == size:
                    out.append(key + "=")  # null, or every property null: reads as null

            return put_carrier_item

        def put_value_item(out: list[str], key: str, value: Any) -> None:
            if value is None:
                raise EncodeError(f"A null {ftype.spec} item cannot be written in a form")
            put(out, key, value)

        return put_value_item


def _enum_normal(spec: EnumSpec, value: str) -> bool:
    try:
        return spec.normalize(value) == value
    except ValueError:
        return False


_WRITERS = _Writers()


# -- the node budget ------------------------------------------------------------------------

# A form's nodes are its fields (key=value pairs; the empty parts of "a=1&&b=2" are none).
_NODES = "form fields"
_CHUNK = 1 << 16


def _check_fields(body: bytes, limit: int, charset: str) -> None:
    """Refuse a body of more than ``limit`` fields before reading any of them.

    PERF: a body under twice ``limit`` bytes cannot hold that many (each field takes
    a byte and a separator); else the ``&`` count is an upper bound, in C; only a body
    over it is counted exactly, chunk by chunk, runs of ``&`` collapsed in C.

    Raises:
        MalformedBody: over the limit, located by the key of the first field past it.
    """
    if len(body) < 2 * limit or body.count(b"&") < limit:
        return
    count, start, size = 0, 0, len(body)
    while start < size:
        found = body.find(b"&", min(start + _CHUNK, size))
        end = size if found < 0 else found + 1
        chunk = body[start:end]
        fields = _fields_in(chunk)
        if count + fields > limit:
            for part in chunk.split(b"&"):
                if part:
                    count += 1
                    if count > limit:
                        raise too_many_nodes(limit, _NODES, _key_of(part, charset))
        count += fields
        start = end


def _fields_in(chunk: bytes) -> int:
    """How many non-empty ``&``-separated parts ``chunk`` has."""
    while b"&&" in chunk:
        chunk = chunk.replace(b"&&&&", b"&").replace(b"&&", b"&")
    return chunk.count(b"&") + 1 - chunk.startswith(b"&") - chunk.endswith(b"&")


def _key_of(part: bytes, charset: str) -> str:
    raw = part.partition(b"=")[0]
    try:
        return _unquote(raw, charset, None)
    except MalformedBody:
        return raw.decode("latin-1")


# -- the codec ------------------------------------------------------------------------------


class FormCodec(BaseCodec):
    """``application/x-www-form-urlencoded``: read as requests, written for clients."""

    media_types: ClassVar[tuple[str, ...]] = (MEDIA_FORM,)
    offered: ClassVar[bool] = False
    charset: ClassVar[str | None] = None  # NOTE: the type defines no parameters (WHATWG)

    def __init__(self, options: Options = DEFAULT_OPTIONS) -> None:
        super().__init__(options)
        self._paths: dict[tuple[Schema, str], dict[bytes, _Path]] = {}

    def _decode(
        self, body: bytes, schema: Schema | None, media_type: MediaType | None, base: Any
    ) -> Any:
        charset = self._charset(media_type)
        _check_fields(body, self.options.max_nodes, charset)
        if schema is None:
            return self._plain(self.pairs(body, charset))
        memo = self._paths.get((schema, charset))
        if memo is None:
            memo = self._paths[(schema, charset)] = {}
        builder = _Builder(schema, self.options)
        options = self.options
        ignore = options.unknown == "ignore"
        for part in body.split(b"&"):
            if not part:
                continue
            raw_key, _, raw_value = part.partition(b"=")
            path = memo.get(raw_key)
            if path is None:
                if (
                    ignore
                    and _NAME_KEY.fullmatch(raw_key) is not None
                    and schema.field(raw_key.decode("ascii")) is None
                ):
                    # PERF: a plain unknown name needs no parsing (a body of many
                    # distinct ones would otherwise cost a compiled key each).
                    path = _SKIPPED
                else:
                    try:
                        key = _unquote(raw_key, charset, None)
                    except MalformedBody as exc:
                        path = _Path(raw_key.decode("latin-1"), error=exc)
                    else:
                        path = _compile(schema, options, key)
                if len(raw_key) <= 256:
                    if len(memo) >= _MEMO_LIMIT:
                        memo.clear()
                    memo[raw_key] = path
            if path.error is not None:
                raise path.error
            if path.skip:
                continue
            if b"%" in raw_value or b"+" in raw_value:
                text = _unquote(raw_value, charset, path.key)
            else:
                try:
                    text = raw_value.decode(charset)
                except UnicodeDecodeError:
                    text = _unquote(raw_value, charset, path.key)  # raises, naming the key
            builder.apply(path, text)
        value = builder.finish()
        try:
            return schema.normalizer(value, 0, options)
        except NegotiateError as exc:
            exc.location = form_key(schema, exc.location)
            raise

    def pairs(self, body: bytes, charset: str = "utf-8") -> list[tuple[str, str]]:
        """The body's ``(key, value)`` pairs, percent-decoded, in order.

        Raises:
            MalformedBody: a bad ``%`` escape or bytes invalid in ``charset``, naming
                the key.
        """
        out: list[tuple[str, str]] = []
        for part in body.split(b"&"):
            if not part:
                continue
            raw_key, _, raw_value = part.partition(b"=")
            key = _unquote(raw_key, charset, None)
            out.append((key, _unquote(raw_value, charset, key)))
        return out

    def _charset(self, media_type: MediaType | None) -> str:
        label = media_type.charset if media_type is not None else None
        if label is None:
            return "utf-8"
        name = text_codec(label)
        if name is None or name not in _ASCII_COMPATIBLE:
            raise UnsupportedMediaType(
                f"Unsupported charset {excerpt(label)} for a form (it must be ASCII-compatible)",
                supported=["utf-8", "iso-8859-1", "windows-1252"],
            )
        return name

    def _plain(self, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        """Without a schema: ``{key: value}``, a repeated key's values as a list."""
        out: dict[str, Any] = {}
        limit = self.options.max_items
        for key, text in pairs:
            existing = out.get(key)
            if existing is None:
                if len(out) >= limit:
                    raise InvalidValue(f"Too many keys (limit {limit})", location=key, limit=limit)
                out[key] = text
            elif isinstance(existing, list):
                if len(existing) >= limit:
                    raise InvalidValue(
                        f"Too many values (limit {limit})", location=key, limit=limit
                    )
                existing.append(text)
            else:
                out[key] = [existing, text]
        return out

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        """Write ``value`` as a form body (see the module docstring for the rules).

        Without a schema, ``value`` is a flat dict of strings (or lists of strings,
        written as repeated keys), as decoding without a schema gives it.

        Raises:
            EncodeError: the value does not fit the schema (located by JSON pointer),
                or is a NaN or infinite double.
        """
        if schema is None:
            return self._encode_plain(value)
        writer = _WRITERS.carrier(schema)
        out: list[str] = []
        try:
            try:
                writer(out, "", value)
            except (_Slow, KeyError, TypeError, AttributeError, RecursionError):
                value = self._normalized(value, schema)
                out = []
                try:
                    writer(out, "", value)
                except (_Slow, KeyError, TypeError, AttributeError, RecursionError) as exc:
                    raise EncodeError(f"Cannot write {schema.name} as a form: {exc!r}") from None
        except UnicodeEncodeError:
            raise EncodeError(
                "A string holds a lone surrogate, which UTF-8 cannot carry",
                location=_surrogate(value),
            ) from None
        return "&".join(out).encode("ascii")

    def _normalized(self, value: Any, schema: Schema) -> dict[str, Any]:
        try:
            return schema.normalize(value, self.options)
        except NegotiateError as exc:
            raise EncodeError(
                f"Cannot write {schema.name}: {exc.message}", location=exc.location
            ) from None
        except RecursionError:
            raise EncodeError(f"Cannot write {schema.name}: nested too deeply") from None

    @staticmethod
    def _encode_plain(value: Any) -> bytes:
        if not isinstance(value, dict):
            raise EncodeError(
                f"Without a schema, a form is written from a dict, got {describe(value)}"
            )
        out: list[str] = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodeError(f"Expected string keys, got {describe(key)}")
            where = "/" + key.replace("~", "~0").replace("/", "~1")
            for text in item if isinstance(item, list) else [item]:
                try:
                    out.append(f"{_quote(key)}={_quote(_plain_text(text, where))}")
                except UnicodeEncodeError:
                    raise EncodeError(
                        "A string holds a lone surrogate, which UTF-8 cannot carry",
                        location=where,
                    ) from None
        return "&".join(out).encode("ascii")


def _surrogate(value: Any) -> str:
    """The JSON pointer of the first string (or key) holding a lone surrogate."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return where
        elif isinstance(node, dict):
            for key, child in reversed(node.items()):
                here = where + "/" + str(key).replace("~", "~0").replace("/", "~1")
                if isinstance(key, str) and _SURROGATE.search(key):
                    return here
                stack.append((child, here))
        elif isinstance(node, list):
            stack.extend((child, f"{where}/{i}") for i, child in reversed(list(enumerate(node))))
    return ""


_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return format_double(value)
    raise EncodeError(f"Cannot write {describe(value)} as a form value", location=where)


def _unquote(raw: bytes, charset: str, key: str | None) -> str:
    """Percent-decode one key or value; errors name the key (or the raw key itself)."""
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        bad = _BAD_PERCENT.search(raw)
        if bad is not None:
            snippet = raw[bad.start() : bad.start() + 3].decode("latin-1")
            name = key if key is not None else raw.decode("latin-1")
            part = "key" if key is None else "value"
            raise MalformedBody(
                f"Malformed percent escape {snippet!r} in the {part}", location=name
            )
        raw = unquote_to_bytes(raw)
    try:
        return raw.decode(charset)
    except UnicodeDecodeError as exc:
        name = key if key is not None else raw.decode("latin-1")
        part = "key" if key is None else "value"
        raise MalformedBody(
            f"The {part} is not valid {charset}: {exc.reason} at byte {exc.start}", location=name
        ) from None
