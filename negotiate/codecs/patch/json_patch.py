"""Applying a JSON Patch (RFC 6902): :func:`apply_json_patch`.

The patch is checked whole first (every 400 names its operation and member),
then applied operation by operation on a private copy of the base, so every
error carries its index and the first operation that fails gives the answer.
A :class:`~negotiate.codecs.patch.trusted.NormalizedBase` is not copied whole:
each operation copies the containers on its way that the result does not own
yet (copy-on-write, :meth:`_Run.writable`), so the base is never changed and
the result shares what no operation touched.
``remove`` and ``test`` run on the ``jsonpatch`` engine (its operations built
with :class:`~negotiate.codecs.patch.pointer._Pointer`); ``add``,
``replace``, ``move`` and ``copy`` are applied here (:class:`_Run`). NOTE:
the engine deep-copies every value it adds, and a value that came out of
orjson belongs to this request: it goes in as it is. A ``copy`` copies (one
orjson round trip); ``JsonPatch(...).apply()`` is not used (it builds the
operations again on every apply and loses which one failed).

With a schema, every value enters the document normalised for the place it
goes to (a partial carrier is filled in, names bind case-insensitively, ``5``
becomes ``5.0`` in a double). Only what changes is validated: a value from
the body where it lands; a moved or copied value was valid where it was, so
at a place of the same type it is not validated again (unless it lands deeper
and can nest, as a ``SelectableMDOListItem`` copied into its own
``ChildItems``: only the normaliser counts that against ``max_depth``). A
value put at an unknown property (``unknown="ignore"``) is dropped, after
being held to the limits as the normaliser holds what it drops. The result
is exactly what normalising the whole result would give.

An object with a duplicate member name (RFC 6902 A.13) is read as orjson
reads it: the last one wins. The two suite cases for it are disabled upstream.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping, MutableSequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
from jsonpatch import JsonPatch, JsonPatchException, JsonPatchTestFailed, PatchOperation
from jsonpointer import JsonPointerException

from negotiate.codecs.patch._budget import _UNLIMITED, _Limit, _limit_error, _measure, _size
from negotiate.codecs.patch._scalars import _as_is
from negotiate.codecs.patch._values import (
    _conform,
    _dropped,
    _Target,
    _target,
    _typed,
)
from negotiate.codecs.patch.pointer import (
    _index,
    _join,
    _kind,
    _parse,
    _Pointer,
    resolve_pointer,
)
from negotiate.codecs.patch.trusted import _begin
from negotiate.errors import (
    EXCERPT_LIMIT,
    BodyTooLarge,
    MalformedBody,
    NegotiateError,
    PatchConflict,
    Unprocessable,
    escape_pointer,
    excerpt,
)
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import Schema
from negotiate.schema.compiled import _copy as _copy_containers
from negotiate.schema.values import describe

__all__ = ["apply_json_patch"]

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
                where += "/" + escape_pointer(key)
                raise _limit_error(
                    exc, member, where, what, options, options.max_depth - 2
                ) from None
    raise AssertionError("a limit was met but not found again")  # pragma: no cover


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
    doc, shared = _begin(base, schema, options, shared=True)
    run = _Run(schema, options, left, shared)
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

    __slots__ = ("copied", "nodes", "options", "owned", "schema")

    def __init__(self, schema: Schema | None, options: Options, nodes: int, shared: bool) -> None:
        self.schema = schema
        self.options = options
        self.nodes = nodes  # of the work budget, after the patch document
        self.copied = options.max_body  # bytes that copy operations may still copy
        # The containers private to the result, by id (and kept alive, so that no
        # id is reused); None: the whole document is private (a copy of the base).
        self.owned: dict[int, Any] | None = {} if shared else None

    def mine(self, node: Any) -> Any:
        """``node`` if the result owns it, else a shallow copy that it owns."""
        owned = self.owned
        if owned is None or id(node) in owned:
            return node
        if type(node) is dict:
            copied: Any = dict(node)
        elif type(node) is list:
            copied = list(node)
        else:
            return node  # a scalar, the end of a list: nothing to write into
        owned[id(copied)] = copied
        return copied

    def writable(self, doc: Any, parts: tuple[str, ...]) -> tuple[Any, Any]:
        """The document and the container at ``parts``, both now safe to change.

        NOTE: copy-on-write, for a shared base (NormalizedBase): each container on
        the way that the result does not own yet is copied once and put in its
        parent's place; the base is never changed.

        Raises:
            JsonPointerException: the path leads nowhere (as walking it would).
        """
        if self.owned is None:
            parent = doc
            for part in parts:
                parent = _WALKER.walk(parent, part)
            return doc, parent
        owned = self.owned
        doc = parent = self.mine(doc)
        for part in parts:
            child = _WALKER.walk(parent, part)
            if id(child) in owned:  # PERF: mine()'s common case, inline
                parent = child
                continue
            copied = self.mine(child)
            if copied is not child:
                parent[part if type(parent) is dict else _index(part)] = copied
            parent = copied
        return doc, parent

    def prepared(self, doc: Any, parts: tuple[str, ...]) -> Any:
        """:meth:`writable`'s document, or ``doc`` if the path leads nowhere (the
        operation then fails as it would have)."""
        if self.owned is None or not parts:
            return doc
        try:
            return self.writable(doc, parts[:-1])[0]
        except JsonPointerException:
            return doc

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
        if kind == "remove":
            doc = self.prepared(doc, step.parts)
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
        moved: bool = False,
    ) -> Any:
        """Add (or replace) ``value`` at the step's path.

        ``levels``: the container levels of ``value`` (-1: not counted yet);
        ``origin``: where a moved or copied value was; ``moved``: ``value`` was
        moved (so it may still be part of a shared base).
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
            return self.typed(value, step, origin, moved)
        try:
            doc, parent = self.writable(doc, parts[:-1])
            last = parts[-1]
            # PERF: a dict is the common parent: tested first, so that it never
            # reaches the (slow) ABC check.
            if type(parent) is not dict and (
                type(parent) is list or isinstance(parent, MutableSequence)
            ):
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
            # NOTE: dropped, as the normaliser drops what a carrier does not declare,
            # and held to the limits first, as it holds them.
            _dropped(value, options, parts, step.label())
            return doc
        value = self.typed(value, step, origin, moved)
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

    def typed(self, value: Any, step: _Step, origin: _Target | None, moved: bool) -> Any:
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
        ftype = target.ftype
        if value is not None and _as_is(ftype.kind, value):
            return value
        if moved and self.owned is not None:
            # NOTE: normalising works in place, and a moved value may belong to
            # the shared base.
            value = _copy_containers(value)
        try:
            return _typed(value, ftype, target.depth, self.options, target.parts, "")
        except Unprocessable as exc:
            # PERF: the label is made only for an error.
            raise Unprocessable(
                step.label() + exc.message, location=exc.location, **exc.detail
            ) from None

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
            if type(node) is not dict and (type(node) is list or isinstance(node, MutableSequence)):
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
        doc = self.prepared(doc, source)
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
        return self.put(doc, step, value, levels, False, origin, moved=True)

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
