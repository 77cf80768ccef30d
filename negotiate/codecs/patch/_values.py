"""Values and their types, for both appliers: a value normalised for where it goes.

With a schema, every value a patch puts into the document is normalised for
its place (:func:`_typed`), so the document stays a normalised carrier from
one operation to the next and is never normalised whole. A JSON Patch path is
bound to the schema once (:func:`_target`, memoised): the canonical path
(property names bind case-insensitively, exact match first; dictionary keys
are data and match exactly) and the type found there.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from negotiate.codecs.patch.pointer import _join, _parse
from negotiate.errors import EncodeError, InvalidValue, NegotiateError, Unprocessable
from negotiate.options import Options
from negotiate.schema import SCHEMAS, Field, FieldType, Kind, Schema
from negotiate.schema.values import (
    check_datetime,
    check_double,
    check_int32,
    describe,
)

__all__ = []

_CONTAINERS: Final = frozenset({Kind.CARRIER, Kind.ARRAY, Kind.DICT})


def _copy(value: Any) -> Any:
    # PERF: an orjson round trip copies a JSON document ~10x faster than deepcopy.
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:
        return copy.deepcopy(value)


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


# -- where a path leads in a carrier ---------------------------------------------


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
