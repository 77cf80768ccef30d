"""A JSON Patch checked whole before it runs: each operation a :class:`_Step`.

:func:`_measure_patch` holds the patch document to the work budget and the
limits (walking it again, operation by operation, only to say where one was
met); :func:`_prepare` checks one operation and builds it, once: its paths
bound to the schema, a property's ``remove`` made a ``replace`` with its
default, a ``test`` value normalised for its place, ``remove`` and ``test``
built on the ``jsonpatch`` engine. Every failure is a 400 located in the
patch; the labels that name an operation in a message are made only for an
error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from jsonpatch import JsonPatch, JsonPatchException, PatchOperation
from jsonpointer import JsonPointerException

from negotiate.codecs.patch._budget import _Limit, _limit_error, _measure
from negotiate.codecs.patch._values import _conform, _Target, _target
from negotiate.codecs.patch.pointer import _parse, _Pointer
from negotiate.errors import EXCERPT_LIMIT, MalformedBody, NegotiateError, escape_pointer, excerpt
from negotiate.options import Options
from negotiate.schema import Schema
from negotiate.schema.values import describe

__all__ = []

_OPERATIONS: Final = ("add", "remove", "replace", "move", "copy", "test")
_ENGINE: Final = JsonPatch.operations


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
