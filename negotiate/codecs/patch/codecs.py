"""JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7396), both directions.

Decoding applies the patch in the body to a *base* and returns the result:
the ``base`` the caller passes (a stored entity), else ``schema.default()``;
without a schema, ``base=None`` is the JSON value ``null`` (there is no
default to fall back on, and RFC 7396 merges into a null target as into
``{}``). The caller's base is never changed: the patch works on a copy (one
orjson round trip, normalised by the schema), so a patch that fails half-way
leaves nothing behind. An empty body is an empty patch: the result is that
copy.

JSON Patch is checked whole first (every 400 names its operation and
member), then applied operation by operation on the private copy, so every
error carries its index and the first operation that fails gives the answer.
``remove`` and ``test`` run on the ``jsonpatch`` engine (its operations built
with the pointer class below); ``add``, ``replace``, ``move`` and ``copy`` are
applied here. NOTE: the engine deep-copies every value it adds, and a value
that came out of orjson belongs to this request: it goes in as it is. A
``copy`` copies (one orjson round trip); ``JsonPatch(...).apply()`` is not
used (it builds the operations again on every apply and loses which one
failed).

With a schema, every value enters the document normalised for the place it
goes to (a partial carrier is filled in, names bind case-insensitively, ``5``
becomes ``5.0`` in a double), so the document stays a normalised carrier from
one operation to the next and is never normalised whole. Only what changes is
validated: a value from the body where it lands; a moved or copied value was
valid where it was, so at a place of the same type it is not validated again
(unless it lands deeper and can nest, as a ``SelectableMDOListItem`` copied
into its own ``ChildItems``: only the normaliser counts that against
``max_depth``). The result is exactly what normalising the whole result
would give.

Work budget: one per body, ``Options.max_nodes``, counted in nodes (every
value and every member name). The patch document counts first, on its text
before it is parsed, so a body over the budget is refused without building
it; then every ``copy`` and ``move`` counts the nodes of the value it copies
or moves (three hundred moves of a large array are three hundred times its
size). ``max_items`` and ``max_depth`` hold for the patch document as for any
JSON body (with a schema the schema holds values to ``max_items``, where they
land).

An object with a duplicate member name (RFC 6902 A.13) is read as orjson
reads it: the last one wins. The two suite cases for it are disabled upstream.

Merge patch is RFC 7396's algorithm, written here (it is short), with the same
typed insertion when there is a schema, the same budget (its document) and
limits (an object a merge grows past ``max_items`` is a 422).

With a schema, SuperOffice's leniencies (``superoffice/WIRE.md``) apply:

* path segments and merge keys bind to property names case-insensitively
  (exact match first); dictionary keys (``UserDefinedFields``) are data and
  match exactly; the leading ``/`` of a path is optional;
* a carrier always has every property, so removing one (``remove``, a
  ``move`` away from it, a merge ``null``) resets it to its default: ``null``
  for reference types, ``0``/``false``/the zero date/the zero enum name for
  value types;
* in a merge patch an object given for an array property appends one element;
  an array replaces the whole array;
* a ``test`` value is normalised for its location before comparing, so
  ``{"value": "x"}`` tests an ``EntityElement`` the way .NET would bind it;
* unknown properties follow :attr:`Options.unknown`: dropped (an ``add``, or
  the end of a ``move`` or ``copy``, there does nothing), or a 422 at once.

Without a schema the behaviour is strict RFC 6902 / 7396 (the conformance
suites in ``tests/conformance`` pass).

Errors (``location`` is a JSON pointer):

* 400 :class:`MalformedBody`: not JSON, not an array of operations, an
  unknown ``op``, a missing or mistyped member, a pointer that is not a JSON
  pointer, too many operations, too deep, an array or object of more than
  ``max_items`` (without a schema); located in the *patch* (``/3/path``,
  ``/3/value/Emails``). Over the work budget (``limit`` in the detail): a body
  that alone is over it, unlocated (it is not parsed); a ``copy`` or ``move``
  that takes the patch over it, at ``/3/from``; a decoded patch handed to
  :func:`apply_json_patch`, at the operation where the count ran out.
* 409 :class:`PatchConflict`: a failed ``test``, or an operation the document
  does not allow (a missing member or index, ``-`` where an element must
  exist, moving a value into itself); located in the patch (``/3/path``, or
  ``/3/from`` for a missing source), the message names the operation and its
  path but never quotes the document's values.
* 413 :class:`BodyTooLarge`: ``copy`` operations would copy more than
  ``Options.max_body`` bytes of JSON in total (a patch of a few ``copy``
  operations can otherwise double the document each time).
* 422 :class:`Unprocessable`: the result does not fit the schema (a null
  document included), or breaks ``Options.max_items`` / ``max_depth`` (adds,
  moves and copies can grow and nest); located in the *result*
  (``/Emails/-/Value``), the message names the operation.
* 500 :class:`EncodeError`: the base the application passed does not fit the
  schema.

Encoding writes the diff from ``base`` (what the client sent, normalised) to
the value: applying it to ``base`` gives exactly the value.

* JSON Patch: ``add``, ``remove`` and ``replace`` only; objects member by
  member; arrays trimmed of their common head and tail, then element by
  element, with the surplus added or removed at the end of the changed run.
* Merge patch: members that differ; a member gone from the value is ``null``.
  RFC 7396 takes arrays literally and can neither reach into an array nor
  write a ``null`` (``null`` deletes), so a change inside an array replaces
  the whole array, the smallest enclosing value that can express it. With a
  schema a ``null`` property is written as ``null`` (it resets the property,
  whose default is ``null``). A ``null`` that no enclosing value can carry (an
  object member set to ``null`` outside any array without a schema, or a
  dictionary entry set to ``null``) cannot be written at all: that raises
  :class:`EncodeError` naming the location, rather than send a diff that
  does not reproduce the value. Diffs use only RFC 7396 constructs (never the
  append-an-object leniency), so generic merge-patch clients can apply them.
"""

from __future__ import annotations

import copy
import math
import re
import sys
from collections.abc import Callable, Mapping, MutableMapping, MutableSequence, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import orjson
from jsonpatch import JsonPatch, JsonPatchException, JsonPatchTestFailed, PatchOperation
from jsonpointer import EndOfList, JsonPointer, JsonPointerException

from negotiate.codecs.base import BaseCodec
from negotiate.codecs.json import JsonCodec, check_depth, json_text, loads
from negotiate.errors import (
    EXCERPT_LIMIT,
    BodyTooLarge,
    EncodeError,
    InvalidValue,
    MalformedBody,
    NegotiateError,
    PatchConflict,
    Unprocessable,
    excerpt,
)
from negotiate.media import MEDIA_JSON_PATCH, MEDIA_MERGE_PATCH, MediaType
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import SCHEMAS, Field, FieldType, Kind, Schema
from negotiate.schema.values import (
    check_datetime,
    check_double,
    check_int32,
    describe,
)

__all__ = [
    "JsonPatchCodec",
    "MergePatchCodec",
    "apply_json_patch",
    "apply_merge_patch",
    "make_json_patch",
    "make_merge_patch",
    "resolve_pointer",
]

_CONTAINERS: Final = frozenset({Kind.CARRIER, Kind.ARRAY, Kind.DICT})
_OPERATIONS: Final = ("add", "remove", "replace", "move", "copy", "test")
_ENGINE: Final = JsonPatch.operations

# Everything the engine (or an odd document under it) is known to raise while
# applying an operation; each becomes a located NegotiateError.
_ENGINE_ERRORS: Final = (
    JsonPatchException,
    JsonPointerException,
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
)


# -- JSON pointers (RFC 6901) ----------------------------------------------------


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


def _escape(key: str) -> str:
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


def _join(parts: Sequence[str | int]) -> str:
    return "".join("/" + _escape(str(p)) for p in parts)


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


# -- values and their types ------------------------------------------------------


def _copy(value: Any) -> Any:
    # PERF: an orjson round trip copies a JSON document ~10x faster than deepcopy.
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:
        return copy.deepcopy(value)


def _size(value: Any) -> int:
    """Roughly how many bytes of JSON ``value`` is (for the ``copy`` budget)."""
    try:
        return len(orjson.dumps(value))
    except TypeError:
        count, stack = 0, [value]
        while stack:
            node = stack.pop()
            count += 2
            if isinstance(node, dict):
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        return count


_ROOTS: dict[str, FieldType] = {}


def _root(schema: Schema) -> FieldType:
    found = _ROOTS.get(schema.name)
    if found is None:
        found = _ROOTS[schema.name] = FieldType(Kind.CARRIER, carrier=schema.name)
    return found


def _checked(check: Callable[[Any], Any], value: Any) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise InvalidValue(str(exc)) from None


def _conform(value: Any, ftype: FieldType, depth: int, options: Options) -> Any:
    """``value`` normalised as a value of ``ftype`` (containers in place).

    Mirrors the compiled normaliser, which it calls for carriers: ``depth``
    counts carrier nesting the way it does, and nulls are allowed for
    reference types and for the items of arrays and dictionaries.
    """
    kind = ftype.kind
    if kind is Kind.CARRIER:
        return None if value is None else ftype.schema.normalizer(value, depth, options)
    if kind is Kind.STRING:
        if value is None or type(value) is str:
            return value
        raise InvalidValue(f"Expected string, got {describe(value)}")
    if kind is Kind.BOOL:
        if type(value) is bool:
            return value
        raise InvalidValue(f"Expected bool, got {describe(value)}")
    if kind is Kind.INT32:
        return _checked(check_int32, value)
    if kind is Kind.DOUBLE:
        return _checked(check_double, value)
    if kind is Kind.DATETIME:
        return _checked(check_datetime, value)
    if kind is Kind.ENUM:
        assert ftype.enum is not None
        return _checked(ftype.enum.normalize, value)
    if value is None:
        return None
    item = ftype.item
    assert item is not None
    if kind is Kind.ARRAY:
        if type(value) is not list:
            raise InvalidValue(f"Expected array, got {describe(value)}")
        _check_items(value, options)
        for index, element in enumerate(value):
            if element is not None:
                try:
                    value[index] = _conform(element, item, depth, options)
                except NegotiateError as exc:
                    raise exc.at(index) from None
        return value
    if type(value) is not dict:
        raise InvalidValue(f"Expected object, got {describe(value)}")
    _check_items(value, options)
    for key, element in value.items():
        if type(key) is not str:
            raise InvalidValue(f"Expected string keys, got {describe(key)}")
        if element is not None:
            try:
                value[key] = _conform(element, item, depth, options)
            except NegotiateError as exc:
                raise exc.at(key) from None
    return value


def _check_items(value: list[Any] | dict[Any, Any], options: Options) -> None:
    if len(value) > options.max_items:
        raise InvalidValue(f"Too many items: {len(value)} (limit {options.max_items})")


def _typed(
    value: Any, ftype: FieldType, depth: int, options: Options, where: Sequence[str | int], op: str
) -> Any:
    """:func:`_conform`, with a failure turned into a 422 located in the result."""
    try:
        return _conform(value, ftype, depth, options)
    except NegotiateError as exc:
        raise Unprocessable(op + exc.message, location=_join(where) + exc.location) from None


def _start(base: Any, schema: Schema | None, options: Options) -> Any:
    """A private, normalised copy of ``base`` to patch (the default without one)."""
    if schema is None:
        return None if base is None else _copy(base)
    if base is None:
        return schema.default()
    try:
        return schema.normalize(base, options)
    except NegotiateError as exc:
        # NOTE: the base comes from the application, not the client: a 500.
        raise EncodeError(
            f"The base value does not fit {schema.name}: {exc.message}", location=exc.location
        ) from None


# -- the work budget (see the module docstring) ----------------------------------
#
# NOTE: values added, replaced or merged come from the patch document and are
# counted with it; copied and moved values come from the document being
# patched and are counted when their operation runs: that is work the body
# does not show.


_NODE_MARKS: Final = (b",", b":", b"[", b"{")
_STRINGS: Final = re.compile(rb'"[^"]*+"')
_BLANKS: Final = b" \t\n\r"
_UNLIMITED: Final = sys.maxsize


def _text_nodes(text: bytes | str, limit: int) -> int | None:
    """The nodes of a JSON text if there are more than ``limit``, else ``None``.

    Counted on the text itself (exactly, for valid JSON), so that a body over
    the budget is refused before the parser builds it.
    """
    # PERF: every node has a character of its own (a value its first, a member
    # name its opening quote), so a text no longer than the limit is within it.
    if len(text) <= limit:
        return None
    data = text.encode() if isinstance(text, str) else text  # str: transcoded bodies only
    # PERF: four C-level counts bound the nodes from above (a comma, colon or
    # bracket inside a string counts too), and most bodies stop here.
    if 1 + sum(map(data.count, _NODE_MARKS)) <= limit:
        return None
    # Exact: once the escape pairs are gone every quote opens or closes a
    # string; each string becomes a one-byte value and blanks go. Then a
    # container with n > 0 items has n - 1 commas, and every member one colon.
    bare = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    bare = _STRINGS.sub(b"0", bare).translate(None, _BLANKS)
    nodes = 1 + sum(map(bare.count, _NODE_MARKS)) - bare.count(b"[]") - bare.count(b"{}")
    return nodes if nodes > limit else None


class _Limit(Exception):
    """A limit met while measuring a value: ``nodes``, ``items`` or ``depth``."""

    def __init__(self, kind: str, size: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.size = size


def _measure(value: Any, left: int, max_items: int, max_levels: int) -> tuple[int, int]:
    """The nodes and the container levels of ``value`` (a scalar: 1 and 0).

    Raises:
        _Limit: more than ``left`` nodes, a container of more than
            ``max_items`` items, or more than ``max_levels`` levels; found
            early, level by level (a container is counted before its children).
    """
    if type(value) is not dict and type(value) is not list:
        if left < 1:
            raise _Limit("nodes")
        return 1, 0
    nodes, levels, level = 1, 0, [value]
    while level:
        levels += 1
        if levels > max_levels:
            raise _Limit("depth")
        below = []
        for node in level:
            size = len(node)
            if type(node) is dict:
                nodes += size + size
                children: Any = node.values()
            else:
                nodes += size
                children = node
            if size > max_items:
                raise _Limit("items", size)
            if nodes > left:  # counted by len(), before any of its children is visited
                raise _Limit("nodes")
            for child in children:
                if type(child) is dict or type(child) is list:
                    below.append(child)
        level = below
    return nodes, levels


def _long_container(value: Any, max_items: int) -> str:
    """The pointer (relative to ``value``) of a container with too many items."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, where = stack.pop()
        if type(node) is dict:
            items: Any = node.items()
        elif type(node) is list:
            items = enumerate(node)
        else:
            continue
        if len(node) > max_items:
            return where
        for key, child in items:
            if type(child) is dict or type(child) is list:
                stack.append((child, f"{where}/{_escape(str(key))}"))
    return ""


def _limit_error(
    exc: _Limit, value: Any, where: str, what: str, options: Options, max_levels: int
) -> MalformedBody:
    """The 400 for a limit the patch document itself breaks, located in the patch.

    ``what`` names the operation (``"Operation 3 (add /Name): "``) or is empty.
    """
    if exc.kind == "depth":
        try:
            check_depth(value, max_levels)
        except InvalidValue as found:
            where += found.location
        return InvalidValue(f"Nested deeper than the limit of {options.max_depth}", location=where)
    if exc.kind == "nodes":
        text, limit = (
            f"the patch is over the work budget of {options.max_nodes} nodes (Options.max_nodes)",
            options.max_nodes,
        )
    else:
        text, limit = f"too many items: {exc.size} (limit {options.max_items})", options.max_items
        where += _long_container(value, options.max_items)
    message = what + text if what else text[0].upper() + text[1:]
    return MalformedBody(message, location=where, limit=limit)


def _measure_patch(patch: list[Any], options: Options, max_items: int) -> int:
    """Count a JSON Patch against the budget and hold it to the limits; its nodes.

    Raises:
        MalformedBody: over the budget, too many items or too deep (400),
            located in the patch (at the operation and member where it happened).
    """
    try:
        # The array of operations is level 1, so max_depth levels are allowed.
        return _measure(patch, options.max_nodes, max_items, options.max_depth)[0]
    except _Limit:
        pass
    # PERF: one walk over the whole patch on the way in; only a patch over a
    # limit is walked again, operation by operation, to say where.
    left = options.max_nodes - 1
    for index, op in enumerate(patch):
        what, where = _title(index, op), f"/{index}"
        if type(op) is not dict:
            try:
                left -= _measure(op, left, max_items, options.max_depth - 1)[0]
            except _Limit as exc:
                raise _limit_error(exc, op, where, what, options, options.max_depth - 1) from None
            continue
        if left < 1 or len(op) > max_items:
            limit = _Limit("nodes" if left < 1 else "items", len(op))
            raise _limit_error(limit, op, where, what, options, 0)
        left -= 1
        for key, member in op.items():
            left -= 1
            try:
                left -= _measure(member, left, max_items, options.max_depth - 2)[0]
            except _Limit as exc:
                where += "/" + _escape(str(key))
                raise _limit_error(
                    exc, member, where, what, options, options.max_depth - 2
                ) from None
    raise AssertionError("a limit was met but not found again")  # pragma: no cover


def _measure_merge(patch: Any, options: Options, max_items: int) -> None:
    """Count a merge patch against the budget and hold it to the limits.

    Raises:
        MalformedBody: over the budget, too many items or too deep (400),
            located in the patch (at the top-level member where it happened).
    """
    try:
        # The patch is level 1: max_depth levels are allowed.
        _measure(patch, options.max_nodes, max_items, options.max_depth)
        return
    except _Limit as exc:
        if type(patch) is not dict:
            raise _limit_error(exc, patch, "", "", options, options.max_depth) from None
    if len(patch) > max_items:
        raise _limit_error(_Limit("items", len(patch)), patch, "", "", options, 0)
    left = options.max_nodes - 1
    for key, member in patch.items():
        left -= 1
        where = "/" + _escape(str(key))
        try:
            left -= _measure(member, left, max_items, options.max_depth - 1)[0]
        except _Limit as exc:
            raise _limit_error(exc, member, where, "", options, options.max_depth - 1) from None
    raise AssertionError("a limit was met but not found again")  # pragma: no cover


def _load(body: bytes, media_type: MediaType | None, options: Options) -> Any:
    """The patch document, refused unparsed when it alone is over the work budget."""
    # NOTE: charset rules are JSON's (a +json type is JSON); see JsonCodec.
    text = json_text(body, media_type)
    nodes = _text_nodes(text, options.max_nodes)
    if nodes is not None:
        raise MalformedBody(
            f"The patch is {nodes} nodes, over the work budget of {options.max_nodes} "
            "(Options.max_nodes)",
            limit=options.max_nodes,
        )
    return loads(text)


# -- JSON Patch: applying --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a path leads in a carrier: the canonical path and the type found there."""

    path: str
    parts: tuple[str, ...]
    ftype: FieldType | None  # None: outside the schema (unknown name, inside a scalar)
    depth: int  # carrier nesting, counted as the compiled normaliser counts it
    field: Field | None  # the property, when the path ends at one
    unknown: str  # the carrier in which a name did not bind ("" if every name did)
    spec: str  # ftype.spec ("" without a type): two places of one type share it
    nests: bool  # its values can hold a carrier that holds itself (depth matters)


_TARGETS: dict[tuple[str, str], _Target] = {}
_TARGETS_LIMIT: Final = 4096
_TARGET_LENGTH: Final = 256  # longer paths are bound every time, never kept


def _target(schema: Schema, pointer: str) -> _Target:
    """Bind a path to the schema, case-insensitively for property names (memoised).

    Raises:
        JsonPointerException: not a JSON pointer.
    """
    # PERF: patches reuse a small set of paths; binding one costs more than
    # applying the operation.
    key = (schema.name, pointer)
    found = _TARGETS.get(key)
    if found is None:
        found = _bind(schema, _parse(pointer))
        if len(pointer) <= _TARGET_LENGTH:
            if len(_TARGETS) >= _TARGETS_LIMIT:
                _TARGETS.clear()
            _TARGETS[key] = found
    return found


def _bind(schema: Schema, parts: list[str]) -> _Target:
    ftype: FieldType | None = _root(schema)
    depth = 0
    canonical: list[str] = []
    unknown = ""
    field: Field | None = None
    for part in parts:
        field = None
        if ftype is None:
            canonical.append(part)
            continue
        kind = ftype.kind
        if kind is Kind.CARRIER:
            field = ftype.schema.field(part)
            if field is None:
                canonical.append(part)
                unknown, ftype = ftype.schema.name, None
                continue
            canonical.append(field.name)
            ftype = field.type
            if ftype.kind in _CONTAINERS:
                depth += 1
        elif kind is Kind.ARRAY or kind is Kind.DICT:
            canonical.append(part)
            ftype = ftype.item
        else:
            canonical.append(part)
            ftype = None
    spec = "" if ftype is None else ftype.spec
    return _Target(
        _join(canonical), tuple(canonical), ftype, depth, field, unknown, spec, _nests(ftype)
    )


_NESTING: dict[str, bool] = {}


def _nests(ftype: FieldType | None) -> bool:
    """Whether a value of ``ftype`` can hold a carrier that can hold itself.

    Only there does the normaliser count depth, so only there can a value
    valid in one place be too deep in another place of the same type.
    """
    while ftype is not None and ftype.kind is not Kind.CARRIER:
        ftype = ftype.item
    if ftype is None:
        return False
    if not _NESTING:
        _NESTING.update(_nesting_carriers())
    return _NESTING[ftype.carrier]


def _nesting_carriers() -> dict[str, bool]:
    """For every carrier: whether it can hold (or is) a carrier that can hold itself."""

    def named(ftype: FieldType) -> str:
        while ftype.item is not None:
            ftype = ftype.item
        return ftype.carrier if ftype.kind is Kind.CARRIER else ""

    edges = {
        name: {named(f.type) for f in schema.fields} - {""} for name, schema in SCHEMAS.items()
    }

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        stack = list(edges[start])
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(edges[name])
        return seen

    reached = {name: reach(name) for name in edges}
    recursive = {name for name in edges if name in reached[name]}
    return {name: bool(({name} | reached[name]) & recursive) for name in edges}


@dataclass(slots=True)
class _Step:
    """One checked operation, built once, with what the codec does around it."""

    index: int
    name: str  # the operation as sent
    kind: str  # what runs: a property's remove is a replace with its default
    path: str
    parts: tuple[str, ...]
    source: str | None  # the "from" of a move or copy
    source_parts: tuple[str, ...]
    value: Any
    target: _Target | None
    origin: _Target | None  # where the "from" leads in the schema
    engine: PatchOperation | None  # remove and test run on jsonpatch
    typed: bool  # the value is already typed for its place (a property's default)

    def label(self) -> str:
        return _label(self.index, self.name, self.path, self.source)


def _shown(path: str) -> str:
    if not path:
        return "(root)"
    return path if len(path) <= EXCERPT_LIMIT else excerpt(path)


def _label(index: int, name: str, path: str, source: str | None) -> str:
    where = _shown(path) if source is None else f"{_shown(source)} to {_shown(path)}"
    return f"Operation {index} ({name} {where}): "


def _title(index: int, op: Any) -> str:
    """The label of an operation not checked yet (for limits met while counting it)."""
    if type(op) is dict and op.get("op") in _OPERATIONS and type(op.get("path")) is str:
        source = op.get("from")
        return _label(index, op["op"], op["path"], source if type(source) is str else None)
    return f"Operation {index}: "


def _member(op: dict[str, Any], name: str, index: int) -> str:
    if name not in op:
        raise MalformedBody(
            f"Operation {index} ({op['op']}) has no {name!r} member", location=f"/{index}"
        )
    value = op[name]
    if type(value) is not str:
        raise MalformedBody(
            f"Operation {index}: {name!r} must be a string, got {describe(value)}",
            location=f"/{index}/{name}",
        )
    return value


def _path(
    op: dict[str, Any], name: str, index: int, schema: Schema | None
) -> tuple[str, tuple[str, ...], _Target | None]:
    """A checked ``path`` or ``from``, its tokens, and where it leads in the schema."""
    text = _member(op, name, index)
    try:
        if schema is None:
            return text, tuple(_parse(text)), None
        if text and text[0] != "/":
            text = "/" + text  # SuperOffice: the leading '/' is optional
        target = _target(schema, text)
        return target.path, target.parts, target
    except JsonPointerException as exc:
        raise MalformedBody(f"Operation {index}: {exc}", location=f"/{index}/{name}") from None


def _prepare(index: int, op: Any, schema: Schema | None, options: Options) -> _Step:
    """Check one operation and build it (every check a 400)."""
    if type(op) is not dict:
        raise MalformedBody(
            f"Operation {index}: expected an object, got {describe(op)}", location=f"/{index}"
        )
    if "op" not in op:
        raise MalformedBody(f"Operation {index} has no 'op' member", location=f"/{index}")
    name = op["op"]
    if name not in _OPERATIONS:
        raise MalformedBody(
            f"Operation {index}: unknown op {excerpt(name)}; expected one of "
            + ", ".join(_OPERATIONS),
            location=f"/{index}/op",
        )
    path, parts, target = _path(op, "path", index, schema)
    source: str | None = None
    source_parts: tuple[str, ...] = ()
    origin: _Target | None = None
    if name == "move" or name == "copy":
        source, source_parts, origin = _path(op, "from", index, schema)
    value = None
    if name == "add" or name == "replace" or name == "test":
        if "value" not in op:
            raise MalformedBody(
                f"Operation {index} ({name}) has no 'value' member", location=f"/{index}"
            )
        value = op["value"]
    kind, typed = name, False
    if target is not None and target.ftype is not None:
        if name == "test":
            try:
                value = _conform(value, target.ftype, target.depth, options)
            except NegotiateError:
                pass  # not a value of that type, so not equal: the test fails
        elif name == "remove" and target.field is not None:
            # A carrier always has every property: removing one resets it.
            kind, value, typed = "replace", target.ftype.default(), True
    engine = None
    if kind == "remove" or kind == "test":
        spec: dict[str, Any] = {"op": kind, "path": path}
        if kind == "test":
            spec["value"] = value
        try:
            engine = _ENGINE[kind](spec, pointer_cls=_Pointer)
        except (JsonPatchException, JsonPointerException, TypeError) as exc:
            raise MalformedBody(f"Operation {index}: {exc}", location=f"/{index}") from None
    return _Step(
        index,
        name,
        kind,
        path,
        parts,
        source,
        source_parts,
        value,
        target,
        origin,
        engine,
        typed,
    )


def apply_json_patch(
    base: Any, patch: Any, schema: Schema | None = None, options: Options = DEFAULT_OPTIONS
) -> Any:
    """Apply a decoded JSON Patch to a copy of ``base``, atomically.

    Args:
        base: the document to patch (not changed); ``None`` means
            ``schema.default()``, or JSON ``null`` without a schema.
        patch: the patch as decoded JSON (a list of operation objects, a tree
            that shares no containers); its values become part of the result
            as they are (not copied) and, with a schema, are normalised in place.
        schema: the carrier (with SuperOffice's leniencies), or ``None``
            for strict RFC 6902.
        options: unknown-property policy and limits.

    Returns:
        The patched document (normalised, with a schema).

    Raises:
        MalformedBody: the patch is malformed, or over the work budget or
            the limits (400), located in the patch.
        PatchConflict: a ``test`` failed or an operation does not fit the
            document (409), located in the patch.
        BodyTooLarge: ``copy`` operations copy too much (413).
        Unprocessable: the result violates the schema or the limits (422),
            located in the result.
        EncodeError: ``base`` does not fit the schema (500).
    """
    if type(patch) is not list:
        raise MalformedBody(f"Expected a JSON Patch array of operations, got {describe(patch)}")
    if len(patch) > options.max_items:
        raise MalformedBody(
            f"Too many operations: {len(patch)} (limit {options.max_items})",
            limit=options.max_items,
        )
    # NOTE: with a schema, the schema holds values to max_items (a 422 where
    # they land; carriers are objects of any size); without one, the patch
    # document is held to it like any JSON body (a 400).
    left = options.max_nodes - _measure_patch(
        patch, options, options.max_items if schema is None else _UNLIMITED
    )
    steps = [_prepare(index, op, schema, options) for index, op in enumerate(patch)]
    doc = _start(base, schema, options)
    run = _Run(schema, options, left)
    for step in steps:
        try:
            doc = run.apply(doc, step)
        except _Conflict as exc:
            raise PatchConflict(
                step.label() + exc.reason, location=f"/{step.index}/{exc.member}"
            ) from None
        except RecursionError:
            raise Unprocessable(step.label() + "the document is nested too deeply") from None
    return doc


class _Conflict(Exception):
    """An operation the document does not allow; ``member`` is where (path or from)."""

    def __init__(self, reason: str, member: str = "path") -> None:
        super().__init__(reason)
        self.reason = reason
        self.member = member


_WALKER: Final = _Pointer("")


class _Run:
    """One application: the schema, the limits and what is left of the budgets.

    NOTE: ``add``, ``replace``, ``move`` and ``copy`` are applied here rather
    than by the engine, which deep-copies every value it adds (values that
    came out of orjson belong to this request) and cannot type or count what
    it moves; ``remove`` and ``test`` run on the engine.
    """

    __slots__ = ("copied", "nodes", "options", "schema")

    def __init__(self, schema: Schema | None, options: Options, nodes: int) -> None:
        self.schema = schema
        self.options = options
        self.nodes = nodes  # of the work budget, after the patch document
        self.copied = options.max_body  # bytes that copy operations may still copy

    def apply(self, doc: Any, step: _Step) -> Any:
        kind = step.kind
        if kind == "add" or kind == "replace":
            return self.put(doc, step, step.value, -1, kind == "replace", None)
        if kind == "move":
            return self.move(doc, step)
        if kind == "copy":
            return self.copy(doc, step)
        engine = step.engine
        assert engine is not None
        try:
            return engine.apply(doc)
        except JsonPatchTestFailed:
            raise _Conflict(_test_failure(doc, step)) from None
        except _ENGINE_ERRORS as exc:
            raise _Conflict(_reason(exc)) from None

    def put(
        self,
        doc: Any,
        step: _Step,
        value: Any,
        levels: int,
        replace: bool,
        origin: _Target | None,
    ) -> Any:
        """Add (or replace) ``value`` at the step's path.

        ``levels``: the container levels of ``value`` (-1: not counted yet);
        ``origin``: where a moved or copied value was.
        """
        parts, options = step.parts, self.options
        # A value of the patch document nests at most max_depth - 2 levels, so
        # without a schema only a path of three or more tokens can take it past.
        if levels < 0 and self.schema is None and len(parts) > 2:
            levels = _measure(value, _UNLIMITED, _UNLIMITED, _UNLIMITED)[1]
        if self.schema is None and len(parts) + levels > options.max_depth:
            raise Unprocessable(
                step.label() + f"nested deeper than the limit of {options.max_depth}",
                location=step.path,
            )
        if not parts:
            if value is None and self.schema is not None:
                # NOTE: a carrier may be null inside another, but the document is one.
                raise Unprocessable(step.label() + f"Expected {self.schema.name} object, got null")
            return self.typed(value, step, origin)
        parent = doc
        try:
            for part in parts[:-1]:
                parent = _WALKER.walk(parent, part)
            last = parts[-1]
            if type(parent) is list or isinstance(parent, MutableSequence):
                size = len(parent)
                if last == "-":
                    if replace:
                        raise _Conflict("'-' refers to the element after the last")
                    key: Any = size
                else:
                    key = _index(last)
                    if key > size or (replace and key == size):
                        raise _Conflict(f"index {key} is out of bounds (length {size})")
                grows = not replace
            elif type(parent) is dict or isinstance(parent, MutableMapping):
                if replace and last not in parent:
                    raise _Conflict(f"member {excerpt(last)} not found")
                key, grows = last, last not in parent
            else:
                raise _Conflict(f"cannot set {excerpt(last)} in {_kind(parent)}")
        except JsonPointerException as exc:
            raise _Conflict(str(exc)) from None
        target = step.target
        if target is not None and target.unknown:
            # The path resolved, so only its last name is unknown.
            if options.unknown == "error":
                raise Unprocessable(
                    step.label() + f"unknown property {excerpt(last)} for {target.unknown}",
                    location=step.path,
                )
            return doc  # NOTE: dropped, as the normaliser drops what a carrier does not declare
        value = self.typed(value, step, origin)
        if grows and len(parent) >= options.max_items:
            raise Unprocessable(
                step.label() + f"too many items: {len(parent) + 1} (limit {options.max_items})",
                location=_join(parts[:-1]),
            )
        if grows and type(key) is int:
            parent.insert(key, value)
        else:
            parent[key] = value
        return doc

    def typed(self, value: Any, step: _Step, origin: _Target | None) -> Any:
        """``value`` typed for the step's target: validated there only if it may not fit."""
        target = step.target
        if target is None or target.ftype is None or step.typed:
            return value
        # NOTE: a moved or copied value was valid where it was, so at a place of
        # the same type it still is, unless it lands deeper and can nest (a
        # SelectableMDOListItem copied into its own ChildItems): only the
        # normaliser counts that against max_depth.
        if (
            origin is not None
            and origin.spec == target.spec
            and (origin.depth >= target.depth or not target.nests)
        ):
            return value
        return _typed(value, target.ftype, target.depth, self.options, target.parts, step.label())

    def found(self, doc: Any, step: _Step) -> tuple[Any, Any, Any]:
        """The container, key and value at the step's ``from`` (which must exist)."""
        parts = step.source_parts
        if not parts:
            return None, None, doc
        node = doc
        try:
            for part in parts[:-1]:
                node = _WALKER.walk(node, part)
            last = parts[-1]
            if type(node) is list or isinstance(node, MutableSequence):
                if last == "-":
                    raise JsonPointerException("'-' refers to the element after the last")
                key: Any = _index(last)
                if key >= len(node):
                    raise JsonPointerException(f"index {key} is out of bounds (length {len(node)})")
            elif type(node) is dict or isinstance(node, Mapping):
                if last not in node:
                    raise JsonPointerException(f"member {excerpt(last)} not found")
                key = last
            else:
                raise JsonPointerException(f"cannot look up {excerpt(last)} in {_kind(node)}")
            return node, key, node[key]
        except JsonPointerException as exc:
            raise _Conflict(f"no source: {exc}", "from") from None

    def spend(self, value: Any, step: _Step) -> int:
        """Count a moved or copied value against the budget; its container levels."""
        try:
            nodes, levels = _measure(value, self.nodes, _UNLIMITED, _UNLIMITED)
        except _Limit:
            limit = self.options.max_nodes
            raise MalformedBody(
                step.label() + f"the patch is over the work budget of {limit} nodes "
                f"(Options.max_nodes; a {step.name} counts the nodes of its value)",
                location=f"/{step.index}/from",
                limit=limit,
            ) from None
        self.nodes -= nodes
        return levels

    def move(self, doc: Any, step: _Step) -> Any:
        source, parts = step.source_parts, step.parts
        if len(parts) > len(source) and parts[: len(source)] == source:
            raise _Conflict("cannot move a value into itself")
        parent, key, value = self.found(doc, step)
        if parts == source:
            return doc
        levels = self.spend(value, step)
        origin = step.origin
        try:
            if origin is not None and origin.field is not None:
                parent[key] = origin.field.type.default()  # a carrier keeps every property
            else:
                del parent[key]
        except (TypeError, LookupError) as exc:  # a read-only container in an odd base
            raise _Conflict(_reason(exc), "from") from None
        return self.put(doc, step, value, levels, False, origin)

    def copy(self, doc: Any, step: _Step) -> Any:
        _, _, value = self.found(doc, step)
        levels = self.spend(value, step)
        # PERF: an orjson round trip copies a JSON value ~10x faster than
        # deepcopy, and its length is what the copy adds to the response.
        try:
            text = orjson.dumps(value)
        except TypeError:
            size, value = _size(value), copy.deepcopy(value)
        else:
            size, value = len(text), orjson.loads(text)
        self.copied -= size
        if self.copied < 0:
            limit = self.options.max_body
            raise BodyTooLarge(
                step.label() + f"copy operations would copy more than {limit} bytes of JSON",
                location=f"/{step.index}",
                limit=limit,
            )
        return self.put(doc, step, value, levels, False, step.origin)


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


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, KeyError):
        text = f"member {excerpt(exc.args[0])} not found" if exc.args else "member not found"
    elif isinstance(exc, IndexError):
        text = f"index out of range ({text})"
    if len(text) > EXCERPT_LIMIT:
        text = text[:EXCERPT_LIMIT] + "…"
    return text


def _test_failure(doc: Any, step: _Step) -> str:
    # NOTE: jsonpatch's message quotes both values; an error body must not.
    try:
        resolve_pointer(doc, step.path)
    except NegotiateError as exc:
        return f"test failed: {exc.message}"
    return f"test failed: the value at {_shown(step.path)} is not equal to the tested value"


# -- merge patch: applying -------------------------------------------------------


def apply_merge_patch(
    base: Any, patch: Any, schema: Schema | None = None, options: Options = DEFAULT_OPTIONS
) -> Any:
    """Merge a decoded merge patch into a copy of ``base`` (RFC 7396).

    Args:
        base: the document to patch (not changed); ``None`` means
            ``schema.default()``, or JSON ``null`` without a schema.
        patch: the merge patch as decoded JSON (a tree that shares no
            containers); its values may end up in the result (not copied)
            and be normalised in place.
        schema: the carrier (with SuperOffice's leniencies), or ``None``
            for strict RFC 7396.
        options: unknown-property policy and limits.

    Returns:
        The merged document (normalised, with a schema).

    Raises:
        MalformedBody: two keys bind to the same property, or the patch is
            over the work budget or the limits (400), located in the patch.
        Unprocessable: the result violates the schema or the limits (422),
            located in it.
        EncodeError: ``base`` does not fit the schema (500).
    """
    _measure_merge(patch, options, options.max_items if schema is None else _UNLIMITED)
    if schema is None:
        if type(patch) is not dict:
            return patch
        return _merge_plain(_start(base, None, options), patch, options.max_items)
    if type(patch) is not dict:
        raise Unprocessable(
            f"Expected a {schema.name} object as the merge patch, got {describe(patch)}"
        )
    doc = _start(base, schema, options)
    _merge_carrier(doc, patch, schema, 0, options, ())
    return doc


def _merge_plain(target: Any, patch: dict[str, Any], max_items: int) -> Any:
    if type(target) is not dict:
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif type(value) is dict:
            try:
                target[key] = _merge_plain(target.get(key), value, max_items)
            except Unprocessable as exc:
                raise exc.at(key) from None
        else:
            target[key] = value
    if len(target) > max_items:
        # The patch is within the limit, but the object it merged into grew.
        raise Unprocessable(f"Too many items: {len(target)} (limit {max_items})")
    return target


def _merge_carrier(
    target: dict[str, Any],
    patch: dict[str, Any],
    schema: Schema,
    depth: int,
    options: Options,
    where: tuple[str | int, ...],
) -> None:
    bound: dict[str, str] = {}
    for key, value in patch.items():
        field = schema.field(key)
        if field is None:
            if options.unknown == "error":
                raise Unprocessable(
                    f"Unknown property {excerpt(key)} for {schema.name}",
                    location=_join((*where, key)),
                )
            continue
        name = field.name
        if name in bound:
            raise MalformedBody(
                f"Properties {excerpt(bound[name])} and {excerpt(key)} both bind to "
                f"{schema.name}.{name}",
                location=_join((*where, key)),
            )
        bound[name] = key
        ftype = field.type
        if value is None:
            target[name] = ftype.default()
            continue
        inner = depth + 1 if ftype.kind in _CONTAINERS else depth
        target[name] = _merge_value(target.get(name), value, ftype, inner, options, (*where, name))


def _merge_value(
    current: Any,
    value: Any,
    ftype: FieldType,
    depth: int,
    options: Options,
    where: tuple[str | int, ...],
) -> Any:
    kind = ftype.kind
    if type(value) is not dict or kind not in _CONTAINERS:
        return _typed(value, ftype, depth, options, where, "")
    if kind is Kind.CARRIER:
        if type(current) is dict:
            _merge_carrier(current, value, ftype.schema, depth, options, where)
            return current
        fresh: dict[str, Any] = {}
        _merge_carrier(fresh, value, ftype.schema, depth, options, where)
        return _typed(fresh, ftype, depth, options, where, "")
    item = ftype.item
    assert item is not None
    items: list[Any] | dict[str, Any]
    if kind is Kind.ARRAY:
        # SuperOffice: an object given for an array appends one element.
        elements: list[Any] = current if type(current) is list else []
        elements.append(_typed(value, item, depth, options, (*where, len(elements)), ""))
        items = elements
    else:
        members: dict[str, Any] = current if type(current) is dict else {}
        for key, element in value.items():
            if element is None:
                members.pop(key, None)
            else:
                members[key] = _merge_value(
                    members.get(key), element, item, depth, options, (*where, key)
                )
        items = members
    if len(items) > options.max_items:
        raise Unprocessable(
            f"Too many items: {len(items)} (limit {options.max_items})", location=_join(where)
        )
    return items


# -- diffs -----------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    """Equality of JSON texts: ``true`` is not ``1``, ``1`` not ``1.0``, ``0.0`` not ``-0.0``."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return len(a) == len(b) and all(k in b and _same(v, b[k]) for k, v in a.items())
    if kind is list:
        return len(a) == len(b) and all(map(_same, a, b))
    if kind is float and a == 0.0:
        return b == 0.0 and math.copysign(1.0, a) == math.copysign(1.0, b)
    return bool(a == b)


def _typed_equal(a: Any, b: Any) -> bool:
    # NOTE: in normalised carriers every field has one Python type (an int32 is
    # always int, a double always float), so == cannot confuse true with 1.
    return bool(a == b)


def make_json_patch(base: Any, value: Any, *, typed: bool = False) -> list[dict[str, Any]]:
    """The JSON Patch that turns ``base`` into ``value``.

    Args:
        base: the document the patch applies to.
        value: the document it must produce.
        typed: both are normalised carriers of one schema (equal subtrees are
            then skipped with one ``==``).

    Returns:
        ``add``, ``remove`` and ``replace`` operations; applying them to
        ``base`` gives a document equal to ``value``. Values are shared
        with ``value``, not copied.

    Raises:
        EncodeError: an object key is not a string.
    """
    ops: list[dict[str, Any]] = []
    _diff(base, value, "", ops, _typed_equal if typed else _same, typed)
    return ops


def _diff(
    a: Any,
    b: Any,
    path: str,
    ops: list[dict[str, Any]],
    same: Callable[[Any, Any], bool],
    typed: bool,
) -> None:
    if a is b:
        return
    kind = type(a)
    if kind is dict and type(b) is dict:
        if typed and a == b:
            return
        for key, old in a.items():
            if type(key) is not str:
                raise EncodeError(
                    f"Object keys must be strings, got {describe(key)}", location=path
                )
            where = path + "/" + _escape(key)
            if key in b:
                _diff(old, b[key], where, ops, same, typed)
            else:
                ops.append({"op": "remove", "path": where})
        for key, new in b.items():
            if key not in a:
                if type(key) is not str:
                    raise EncodeError(
                        f"Object keys must be strings, got {describe(key)}", location=path
                    )
                ops.append({"op": "add", "path": path + "/" + _escape(key), "value": new})
        return
    if kind is list and type(b) is list:
        if typed and a == b:
            return
        _diff_list(a, b, path, ops, same, typed)
        return
    if kind is type(b) and kind is not dict and kind is not list and same(a, b):
        return
    ops.append({"op": "replace", "path": path, "value": b})


def _diff_list(
    a: list[Any],
    b: list[Any],
    path: str,
    ops: list[dict[str, Any]],
    same: Callable[[Any, Any], bool],
    typed: bool,
) -> None:
    start, end_a, end_b = 0, len(a), len(b)
    while start < end_a and start < end_b and same(a[start], b[start]):
        start += 1
    while end_a > start and end_b > start and same(a[end_a - 1], b[end_b - 1]):
        end_a -= 1
        end_b -= 1
    paired = min(end_a, end_b) - start
    for index in range(start, start + paired):
        _diff(a[index], b[index], f"{path}/{index}", ops, same, typed)
    for index in range(start + paired, end_b):
        ops.append({"op": "add", "path": f"{path}/{index}", "value": b[index]})
    if end_a > start + paired:
        where = f"{path}/{start + paired}"
        ops.extend({"op": "remove", "path": where} for _ in range(end_a - start - paired))


class _Unchanged:
    """Marks a merge-patch member that needs no entry."""


_UNCHANGED: Final = _Unchanged()


def make_merge_patch(base: Any, value: Any, schema: Schema | None = None) -> Any:
    """The merge patch (RFC 7396) that turns ``base`` into ``value``.

    Args:
        base: the document the patch applies to (with a schema, a normalised
            carrier; ``None`` means ``schema.default()``).
        value: the document it must produce (normalised, with a schema).
        schema: the carrier, or ``None`` for plain JSON.

    Returns:
        The merge patch (see the module docstring for what replaces what).

    Raises:
        EncodeError: the change needs a ``null`` that no merge patch can
            carry (located in ``value``), or ``value`` is not a carrier.
    """
    if schema is None:
        patch = _mdiff_plain(base, value, ())
        if patch is _UNCHANGED:
            return {} if type(value) is dict else value
        return patch
    if base is None:
        base = schema.default()
    if type(value) is not dict or type(base) is not dict:
        raise EncodeError(f"Expected {schema.name} objects to diff, got {describe(value)}")
    return _mdiff_carrier(base, value, schema, ())


def _no_null(where: tuple[str | int, ...]) -> EncodeError:
    pointer = _join(where)
    return EncodeError(
        f"A merge patch cannot set {pointer} to null (null deletes a member in RFC 7396); "
        "use application/json-patch+json",
        location=pointer,
    )


def _mdiff_plain(a: Any, b: Any, where: tuple[str | int, ...]) -> Any:
    if type(b) is not dict:
        return _UNCHANGED if _same(a, b) else b
    if type(a) is not dict:
        return _plain_literal(b, where)
    patch: dict[str, Any] = {}
    for key in a:
        if key not in b:
            patch[key] = None
    for key, new in b.items():
        if key in a:
            old = a[key]
            if new is None:
                if old is None:
                    continue
                raise _no_null((*where, key))
            sub = _mdiff_plain(old, new, (*where, key))
            if sub is not _UNCHANGED:
                patch[key] = sub
        elif new is None:
            raise _no_null((*where, key))
        else:
            patch[key] = _plain_literal(new, (*where, key))
    return patch if patch else _UNCHANGED


def _plain_literal(value: Any, where: tuple[str | int, ...]) -> Any:
    """``value`` as a merge-patch member that recreates it (objects have no nulls)."""
    if type(value) is dict:
        for key, member in value.items():
            if member is None:
                raise _no_null((*where, key))
            _plain_literal(member, (*where, key))
    return value


def _mdiff_carrier(
    a: dict[str, Any], b: dict[str, Any], schema: Schema, where: tuple[str | int, ...]
) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for field in schema.fields:
        name = field.name
        old, new = a.get(name), b.get(name)
        if old == new:  # typed values: see _typed_equal
            continue
        if new is None:
            patch[name] = None  # resets the property: null for reference types
            continue
        sub = _mdiff_typed(old, new, field.type, (*where, name))
        if sub is not _UNCHANGED:
            patch[name] = sub
    return patch


def _mdiff_typed(old: Any, new: Any, ftype: FieldType, where: tuple[str | int, ...]) -> Any:
    kind = ftype.kind
    if kind is Kind.CARRIER and type(new) is dict:
        if type(old) is dict:
            return _mdiff_carrier(old, new, ftype.schema, where) or _UNCHANGED
        return _carrier_literal(new, ftype.schema, where)
    if kind is Kind.DICT and type(new) is dict:
        item = ftype.item
        assert item is not None
        if type(old) is not dict:
            return _dict_literal(new, item, where)
        patch: dict[str, Any] = {}
        for key in old:
            if key not in new:
                patch[key] = None
        for key, element in new.items():
            previous = old.get(key, _UNCHANGED)
            if previous == element:
                continue
            if element is None:
                raise _no_null((*where, key))
            if previous is _UNCHANGED or previous is None:
                patch[key] = _item_literal(element, item, (*where, key))
            else:
                sub = _mdiff_typed(previous, element, item, (*where, key))
                if sub is not _UNCHANGED:
                    patch[key] = sub
        return patch or _UNCHANGED
    # Arrays and scalars are taken literally; a change inside an array
    # replaces the whole array.
    return new


def _carrier_literal(
    value: dict[str, Any], schema: Schema, where: tuple[str | int, ...]
) -> dict[str, Any]:
    """A carrier as merged into nothing: its null properties left out (they default)."""
    out: dict[str, Any] = {}
    for field in schema.fields:
        member = value.get(field.name)
        if member is not None:
            out[field.name] = _item_literal(member, field.type, (*where, field.name))
    return out


def _dict_literal(
    value: dict[str, Any], item: FieldType, where: tuple[str | int, ...]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, element in value.items():
        if element is None:
            raise _no_null((*where, key))
        out[key] = _item_literal(element, item, (*where, key))
    return out


def _item_literal(value: Any, ftype: FieldType, where: tuple[str | int, ...]) -> Any:
    if ftype.kind is Kind.CARRIER and type(value) is dict:
        return _carrier_literal(value, ftype.schema, where)
    if ftype.kind is Kind.DICT and type(value) is dict:
        assert ftype.item is not None
        return _dict_literal(value, ftype.item, where)
    return value


# -- the codecs ------------------------------------------------------------------


class _PatchCodec(BaseCodec):
    """Shared: the base, the empty body, JSON charset rules, errors, writing.

    A subclass gives its two operations, ``_apply`` and ``_diff``.
    """

    def _apply(self, base: Any, patch: Any, schema: Schema | None) -> Any:
        raise NotImplementedError

    def _diff(self, base: Any, value: Any, schema: Schema | None) -> Any:
        raise NotImplementedError

    def empty(self, schema: Schema | None, base: Any) -> Any:
        """An empty body is an empty patch: a normalised copy of the base."""
        return _start(base, schema, self.options)

    def _decode(
        self, body: bytes, schema: Schema | None, media_type: MediaType | None, base: Any
    ) -> Any:
        patch = _load(body, media_type, self.options)
        try:
            return self._apply(base, patch, schema)
        except RecursionError:
            # NOTE: only with a max_depth near Python's recursion limit.
            raise MalformedBody("The patch is nested too deeply") from None

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        """The patch from ``base`` (``schema.default()`` if ``None``) to ``value``.

        Raises:
            EncodeError: the change cannot be expressed in this format (a merge
                patch cannot carry some ``null``s), or a value cannot be written
                as JSON.
        """
        try:
            patch = self._diff(base, value, schema)
        except RecursionError:
            raise EncodeError("The value is nested too deeply to diff") from None
        return _JSON.encode(patch, None)


_JSON = JsonCodec()


class JsonPatchCodec(_PatchCodec):
    """``application/json-patch+json``: a JSON Patch applied to, or diffed from, a base."""

    media_types: ClassVar[tuple[str, ...]] = (MEDIA_JSON_PATCH,)
    offered: ClassVar[bool] = True

    def _apply(self, base: Any, patch: Any, schema: Schema | None) -> Any:
        return apply_json_patch(base, patch, schema, self.options)

    def _diff(self, base: Any, value: Any, schema: Schema | None) -> Any:
        if base is None and schema is not None:
            base = schema.default()
        return make_json_patch(base, value, typed=schema is not None)


class MergePatchCodec(_PatchCodec):
    """``application/merge-patch+json``: a merge patch applied to, or diffed from, a base."""

    media_types: ClassVar[tuple[str, ...]] = (MEDIA_MERGE_PATCH,)
    offered: ClassVar[bool] = True

    def _apply(self, base: Any, patch: Any, schema: Schema | None) -> Any:
        return apply_merge_patch(base, patch, schema, self.options)

    def _diff(self, base: Any, value: Any, schema: Schema | None) -> Any:
        return make_merge_patch(base, value, schema)
