"""Running checked JSON Patch steps on a document: :class:`_Run`.

``add``, ``replace``, ``move`` and ``copy`` are applied here, ``remove`` and
``test`` on the ``jsonpatch`` engine. On a shared base (a
:class:`~negotiate.codecs.patch.trusted.NormalizedBase`) the document is
copy-on-write (:meth:`_Run.writable`): each operation copies the containers
on its way that the result does not own yet. A value is typed for its place
only where it may not fit, moves and copies are counted against the work
budget, copies against ``max_body``; an operation the document does not allow
is a :class:`_Conflict`, which :func:`~negotiate.codecs.patch.json_patch.apply_json_patch`
locates in the patch (409).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping, MutableSequence
from typing import Any, Final

import orjson
from jsonpatch import JsonPatchException, JsonPatchTestFailed
from jsonpointer import JsonPointerException

from negotiate.codecs.patch._budget import _UNLIMITED, _Limit, _measure, _size
from negotiate.codecs.patch._json_patch_steps import _shown, _Step
from negotiate.codecs.patch._scalars import _as_is
from negotiate.codecs.patch._values import _dropped, _Target, _typed
from negotiate.codecs.patch.pointer import _index, _join, _kind, _Pointer, resolve_pointer
from negotiate.errors import (
    EXCERPT_LIMIT,
    BodyTooLarge,
    MalformedBody,
    NegotiateError,
    Unprocessable,
    excerpt,
)
from negotiate.options import Options
from negotiate.schema import Schema
from negotiate.schema.copies import copy_containers

__all__ = []

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
            value = copy_containers(value)
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
