"""JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7396), both directions.

Decoding applies the patch in the body to a *base* and returns the result:
the ``base`` the caller passes (a stored entity), else ``schema.default()``;
without a schema, ``base=None`` is the JSON value ``null`` (there is no
default to fall back on, and RFC 7396 merges into a null target as into
``{}``). The caller's base is never changed: the patch works on a copy (one
orjson round trip, normalised by the schema), so a patch that fails half-way
leaves nothing behind. An empty body is an empty patch: the result is that
copy.

JSON Patch runs on the ``jsonpatch`` engine, fed the list orjson decoded and
the pointer class below. Each operation is checked here first (so every 400
names its operation and member), built once from ``JsonPatch.operations``,
and applied in turn on the private copy, so every error carries its index.
NOTE: ``JsonPatch(...).apply()`` is not used: it builds the operations again
on every apply and loses which one failed. With a schema, every value enters
the document normalised for the place it goes to (a partial carrier is filled
in, names bind case-insensitively, ``5`` becomes ``5.0`` in a double), so the
document stays a normalised carrier from one operation to the next and no
pass over the whole result is needed at the end.

An object with a duplicate member name (RFC 6902 A.13) is read as orjson
reads it: the last one wins. The two suite cases for it are disabled upstream.

Merge patch is RFC 7396's algorithm, written here (it is short), with the same
typed insertion when there is a schema.

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
* unknown properties follow :attr:`Options.unknown` (dropped, or a 422).

Without a schema the behaviour is strict RFC 6902 / 7396 (the conformance
suites in ``tests/conformance`` pass).

Errors (``location`` is a JSON pointer):

* 400 :class:`MalformedBody`: not JSON, not an array of operations, an
  unknown ``op``, a missing or mistyped member, a pointer that is not a JSON
  pointer, too many operations or too deep; located in the *patch*
  (``/3/path``).
* 409 :class:`PatchConflict`: a failed ``test``, or an operation the document
  does not allow (a missing member or index, ``-`` where an element must
  exist, moving a value into itself); located in the patch (``/3/path``, or
  ``/3/from`` for a missing source), the message names the operation and its
  path but never quotes the document's values.
* 413 :class:`BodyTooLarge`: ``copy`` operations would copy more than
  ``Options.max_body`` bytes of JSON in total (a patch of a few ``copy``
  operations can otherwise double the document each time).
* 422 :class:`Unprocessable`: the result does not fit the schema, or breaks
  ``Options.max_items`` / ``max_depth`` (adds, moves and copies can grow and
  nest); located in the *result* (``/Emails/-/Value``), the message names the
  operation.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import orjson
from jsonpatch import JsonPatch, JsonPatchException, JsonPatchTestFailed, PatchOperation
from jsonpointer import EndOfList, JsonPointer, JsonPointerException

from negotiate.codecs.base import BaseCodec
from negotiate.codecs.json import JsonCodec, check_depth, json_text, loads
from negotiate.errors import (
    BodyTooLarge,
    EncodeError,
    InvalidValue,
    MalformedBody,
    NegotiateError,
    PatchConflict,
    Unprocessable,
)
from negotiate.media import MEDIA_JSON_PATCH, MEDIA_MERGE_PATCH, MediaType
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import Field, FieldType, Kind, Schema
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
_MESSAGE_LIMIT: Final = 200

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


def _quote(text: object) -> str:
    """``repr`` cut to a length fit for an error message."""
    quoted = repr(text)
    return quoted if len(quoted) <= 60 else quoted[:57] + "..."


def _parse(pointer: str) -> list[str]:
    """The unescaped reference tokens of a pointer, or ``JsonPointerException``."""
    if not pointer:
        return []
    if pointer[0] != "/":
        raise JsonPointerException(
            f"{_quote(pointer)} is not a JSON pointer: it must start with '/'"
        )
    if "~" not in pointer:
        return pointer[1:].split("/")
    if _BAD_ESCAPE.search(pointer):
        raise JsonPointerException(
            f"{_quote(pointer)} is not a JSON pointer: '~' must be followed by 0 or 1"
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
        return int(part)
    raise JsonPointerException(f"{_quote(part)} is not an array index")


def _step(doc: Any, part: str | int) -> Any:
    """One step down a document, with messages that never quote the document."""
    if type(doc) is dict:
        try:
            return doc[part]
        except KeyError:
            raise JsonPointerException(f"member {_quote(part)} not found") from None
    if type(doc) is list:
        if part == "-":
            return EndOfList(doc)
        index = _index(part)
        if index >= len(doc):
            raise JsonPointerException(f"index {index} is out of bounds (length {len(doc)})")
        return doc[index]
    raise JsonPointerException(f"cannot look up {_quote(str(part))} in {describe(doc)}")


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
            raise JsonPointerException(f"cannot look up {_quote(str(part))} in {describe(doc)}")
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
                f"Nothing at {_quote(pointer)}: {exc}", location=_join(parts[: depth + 1])
            ) from None
        if type(value) is EndOfList:
            raise PatchConflict(
                f"Nothing at {_quote(pointer)}: '-' refers to the element after the last",
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


def _check_depth(value: Any, limit: int) -> None:
    """:func:`check_depth`, which locates the error, run only when there is one."""
    # PERF: a level-by-level scan with no bookkeeping is ~5x faster than
    # check_depth, which carries a pointer for every container.
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        if depth >= limit:
            check_depth(value, limit)
            return
        below: list[Any] = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    below.append(child)
        level = below
        depth += 1


def _levels(value: Any) -> int:
    """How many levels of containers ``value`` nests (0 for a scalar)."""
    level = [value] if type(value) is dict or type(value) is list else []
    count = 0
    while level:
        count += 1
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if type(child) is dict or type(child) is list
        ]
    return count


def _load(body: bytes, media_type: MediaType | None) -> Any:
    # NOTE: charset rules are JSON's (a +json type is JSON); see JsonCodec.
    return loads(json_text(body, media_type))


# -- JSON Patch: applying --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a path leads in a carrier: the canonical path and the type found there."""

    path: str
    parts: tuple[str, ...]
    ftype: FieldType | None  # None: outside the schema (unknown name, inside a scalar)
    depth: int  # carrier nesting, counted as the compiled normaliser counts it
    field: Field | None  # the property, when the path ends at one
    known: bool  # every carrier segment bound to a declared property


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
    known = True
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
                ftype, known = None, False
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
    return _Target(_join(canonical), tuple(canonical), ftype, depth, field, known)


@dataclass(slots=True)
class _Step:
    """One checked operation, built once, with what the codec does around it."""

    index: int
    name: str
    operation: PatchOperation
    target: _Target | None
    source: _Target | None
    # the whole result needs the normaliser: a name outside the schema, or a
    # property moved away (it needs its default back)
    renormalize: bool

    def label(self) -> str:
        return _label(self.index, self.name, self.operation.operation)


def _label(index: int, name: str, spec: dict[str, Any]) -> str:
    path = spec["path"] or "(root)"
    if "from" in spec:
        path = f"{spec['from'] or '(root)'} to {path}"
    if len(path) > _MESSAGE_LIMIT:
        path = path[: _MESSAGE_LIMIT - 3] + "..."
    return f"Operation {index} ({name} {path}): "


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
) -> tuple[str, Sequence[str], _Target | None]:
    """A checked ``path`` or ``from``, its tokens, and where it leads in the schema."""
    text = _member(op, name, index)
    try:
        if schema is None:
            return text, _parse(text), None
        if text and text[0] != "/":
            text = "/" + text  # SuperOffice: the leading '/' is optional
        target = _target(schema, text)
        return target.path, target.parts, target
    except JsonPointerException as exc:
        raise MalformedBody(f"Operation {index}: {exc}", location=f"/{index}/{name}") from None


def _prepare(index: int, op: Any, schema: Schema | None, options: Options) -> _Step:
    """Check one operation and build it for the engine (every check a 400)."""
    if type(op) is not dict:
        raise MalformedBody(
            f"Operation {index}: expected an object, got {describe(op)}", location=f"/{index}"
        )
    if "op" not in op:
        raise MalformedBody(f"Operation {index} has no 'op' member", location=f"/{index}")
    name = op["op"]
    if name not in _OPERATIONS:
        raise MalformedBody(
            f"Operation {index}: unknown op {_quote(name)}; expected one of "
            + ", ".join(_OPERATIONS),
            location=f"/{index}/op",
        )
    path, parts, target = _path(op, "path", index, schema)
    spec: dict[str, Any] = {"op": name, "path": path}
    source = None
    if name == "move" or name == "copy":
        spec["from"], _, source = _path(op, "from", index, schema)
    if name == "add" or name == "replace" or name == "test":
        if "value" not in op:
            raise MalformedBody(
                f"Operation {index} ({name}) has no 'value' member", location=f"/{index}"
            )
        spec["value"] = op["value"]
    if schema is None and (name == "add" or name == "replace"):
        # The value lands len(parts) levels down: the result must stay within the limit.
        if len(parts) + _levels(spec["value"]) > options.max_depth:
            raise Unprocessable(
                _label(index, name, spec) + f"nested deeper than the limit of {options.max_depth}",
                location=path,
            )
    if target is not None and target.ftype is not None:
        if name == "add" or name == "replace":
            try:
                spec["value"] = _conform(spec["value"], target.ftype, target.depth, options)
            except NegotiateError as exc:
                raise Unprocessable(
                    _label(index, name, spec) + exc.message, location=target.path + exc.location
                ) from None
        elif name == "test":
            try:
                spec["value"] = _conform(spec["value"], target.ftype, target.depth, options)
            except NegotiateError:
                pass  # not a value of that type, so not equal: the test fails
        elif name == "remove" and target.field is not None:
            # A carrier always has every property: removing one resets it.
            spec = {"op": "replace", "path": path, "value": target.ftype.default()}
    try:
        operation = _ENGINE[spec["op"]](spec, pointer_cls=_Pointer)
    except (JsonPatchException, JsonPointerException, TypeError) as exc:
        raise MalformedBody(f"Operation {index}: {exc}", location=f"/{index}") from None
    renormalize = (target is not None and not target.known) or (
        source is not None and (not source.known or (name == "move" and source.field is not None))
    )
    return _Step(index, name, operation, target, source, renormalize)


def apply_json_patch(
    base: Any, patch: Any, schema: Schema | None = None, options: Options = DEFAULT_OPTIONS
) -> Any:
    """Apply a decoded JSON Patch to a copy of ``base``, atomically.

    Args:
        base: the document to patch (not changed); ``None`` means
            ``schema.default()``, or JSON ``null`` without a schema.
        patch: the patch as decoded JSON (a list of operation objects); with
            a schema its values are normalised in place.
        schema: the carrier (with SuperOffice's leniencies), or ``None``
            for strict RFC 6902.
        options: unknown-property policy and limits.

    Returns:
        The patched document (normalised, with a schema).

    Raises:
        MalformedBody: the patch is malformed (400), located in the patch.
        PatchConflict: a ``test`` failed or an operation does not fit the
            document (409), located in the patch.
        BodyTooLarge: ``copy`` operations copy too much (413).
        Unprocessable: the result violates the schema or the limits (422),
            located in the result.
        EncodeError: ``base`` does not fit the schema (500).
    """
    if type(patch) is not list:
        raise MalformedBody(f"Expected a JSON Patch array of operations, got {describe(patch)}")
    _check_depth(patch, options.max_depth)
    if len(patch) > options.max_items:
        raise MalformedBody(f"Too many operations: {len(patch)} (limit {options.max_items})")
    steps = [_prepare(index, op, schema, options) for index, op in enumerate(patch)]
    doc = _start(base, schema, options)
    budget = options.max_body
    renormalize = False
    for step in steps:
        if step.name == "move" or step.name == "copy":
            source = step.operation.operation["from"]
            try:
                value = resolve_pointer(doc, source)
            except NegotiateError as exc:
                raise PatchConflict(
                    step.label() + f"no source: {exc.message}", location=f"/{step.index}/from"
                ) from None
            if schema is None and len(step.operation.pointer.parts) + _levels(value) > (
                options.max_depth
            ):
                raise Unprocessable(
                    step.label() + f"nested deeper than the limit of {options.max_depth}",
                    location=step.operation.location,
                )
            if step.name == "copy":
                budget -= _size(value)
                if budget < 0:
                    raise BodyTooLarge(
                        step.label() + "copy operations would copy more than "
                        f"{options.max_body} bytes of JSON",
                        location=f"/{step.index}",
                        limit=options.max_body,
                    )
        try:
            doc = step.operation.apply(doc)
        except JsonPatchTestFailed:
            raise PatchConflict(
                step.label() + _test_failure(doc, step), location=f"/{step.index}/path"
            ) from None
        except _ENGINE_ERRORS as exc:
            raise PatchConflict(
                step.label() + _reason(exc), location=f"/{step.index}/path"
            ) from None
        except RecursionError:
            raise Unprocessable(step.label() + "the document is nested too deeply") from None
        if step.name == "add" or step.name == "copy" or step.name == "move":
            doc = _after_insert(doc, step, schema, options)
        renormalize = renormalize or step.renormalize
    if schema is not None and renormalize:
        try:
            doc = schema.normalizer(doc, 0, options)
        except NegotiateError as exc:
            raise Unprocessable(
                f"The patched value does not fit {schema.name}: {exc.message}",
                location=exc.location,
            ) from None
    return doc


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, KeyError):
        text = f"member {exc.args[0]!r} not found" if exc.args else "member not found"
    elif isinstance(exc, IndexError):
        text = f"index out of range ({text})"
    if len(text) > _MESSAGE_LIMIT:
        text = text[: _MESSAGE_LIMIT - 3] + "..."
    return text


def _test_failure(doc: Any, step: _Step) -> str:
    # NOTE: jsonpatch's message quotes both values; an error body must not.
    path = step.operation.location
    try:
        resolve_pointer(doc, path)
    except NegotiateError as exc:
        return f"test failed: {exc.message}"
    return f"test failed: the value at {path or '(root)'} is not equal to the tested value"


def _after_insert(doc: Any, step: _Step, schema: Schema | None, options: Options) -> Any:
    """Check the container that grew; with a schema, type a copied or moved value."""
    parts = step.operation.pointer.parts
    if not parts:
        if schema is not None and step.name != "add":
            doc = _typed(doc, _root(schema), 0, options, (), step.label())
        return doc
    parent = doc
    try:
        for part in parts[:-1]:
            parent = _step(parent, part)
    except JsonPointerException:
        return doc  # not plain dicts and lists (a base the application built): no limits
    if type(parent) is not dict and type(parent) is not list:
        return doc
    if len(parent) > options.max_items:
        raise Unprocessable(
            step.label() + f"too many items: {len(parent)} (limit {options.max_items})",
            location=_join(parts[:-1]),
        )
    target = step.target
    # NOTE: a moved or copied value is typed again even from a property of the
    # same type: copying a SelectableMDOListItem into its own ChildItems nests
    # it deeper, and only the normaliser counts that against max_depth.
    if step.name != "add" and target is not None and target.ftype is not None:
        last = parts[-1]
        key: str | int = last
        if type(parent) is list:
            key = len(parent) - 1 if last == "-" else _index(last)
        parent[key] = _typed(parent[key], target.ftype, target.depth, options, parts, step.label())
    return doc


# -- merge patch: applying -------------------------------------------------------


def apply_merge_patch(
    base: Any, patch: Any, schema: Schema | None = None, options: Options = DEFAULT_OPTIONS
) -> Any:
    """Merge a decoded merge patch into a copy of ``base`` (RFC 7396).

    Args:
        base: the document to patch (not changed); ``None`` means
            ``schema.default()``, or JSON ``null`` without a schema.
        patch: the merge patch as decoded JSON; its values may end up in
            the result (not copied) and be normalised in place.
        schema: the carrier (with SuperOffice's leniencies), or ``None``
            for strict RFC 7396.
        options: unknown-property policy and limits.

    Returns:
        The merged document (normalised, with a schema).

    Raises:
        MalformedBody: two keys bind to the same property (400).
        Unprocessable: the result violates the schema (422), located in it.
        EncodeError: ``base`` does not fit the schema (500).
    """
    _check_depth(patch, options.max_depth)
    if schema is None:
        if type(patch) is not dict:
            return patch
        return _merge_plain(_start(base, None, options), patch)
    if type(patch) is not dict:
        raise Unprocessable(
            f"Expected a {schema.name} object as the merge patch, got {describe(patch)}"
        )
    doc = _start(base, schema, options)
    _merge_carrier(doc, patch, schema, 0, options, ())
    return doc


def _merge_plain(target: Any, patch: dict[str, Any]) -> Any:
    if type(target) is not dict:
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif type(value) is dict:
            target[key] = _merge_plain(target.get(key), value)
        else:
            target[key] = value
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
                    f"Unknown property {_quote(key)} for {schema.name}",
                    location=_join((*where, key)),
                )
            continue
        name = field.name
        if name in bound:
            raise MalformedBody(
                f"Properties {_quote(bound[name])} and {_quote(key)} both bind to "
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

    is_patch: ClassVar[bool] = True

    def encode_error(self, error: dict[str, Any]) -> bytes | None:
        """``None``: an error is not a change to anything; it is written as JSON."""
        return None

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
        patch = _load(body, media_type)
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
