"""Values and their types, for both appliers: a value normalised for where it goes.

With a schema, every value a patch puts into the document is normalised for
its place (:func:`_typed`), so the document stays a normalised carrier from
one operation to the next and is never normalised whole. A JSON Patch path is
bound to the schema once (:func:`_target`, memoised): the canonical path
(property names bind case-insensitively, exact match first; dictionary keys
are data and match exactly) and the type found there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from negotiate.codecs.patch.pointer import _join, _parse
from negotiate.errors import EncodeError, InvalidValue, NegotiateError, Unprocessable
from negotiate.options import Options
from negotiate.schema import Field, FieldType, Kind, Schema
from negotiate.schema.copies import copy_json
from negotiate.schema.limits import check_tree
from negotiate.schema.values import (
    check_bytes,
    check_datetime,
    check_decimal,
    check_double,
    check_guid,
    check_int32,
    check_int64,
    describe,
)

__all__ = []

_CONTAINERS: Final = frozenset({Kind.CARRIER, Kind.ARRAY, Kind.DICT})

_CHECKS: Final[dict[Kind, Callable[[Any], Any]]] = {
    Kind.INT32: check_int32,
    Kind.INT64: check_int64,
    Kind.DOUBLE: check_double,
    Kind.DECIMAL: check_decimal,
    Kind.DATETIME: check_datetime,
    Kind.GUID: check_guid,
    Kind.BYTES: check_bytes,
}
"""The JSON value checks of the scalar kinds (``STRING``, ``BOOL`` and ``ENUM`` inline)."""


def _root(schema: Schema) -> FieldType:
    # NOTE: the schema's own root type (it holds the schema, not only its name: two
    # carriers of one name, a user's and the catalogue's, are two roots).
    return schema.root_type


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
    if value is None and ftype.may_be_null:  # bytes, nullable value types (int?)
        return None
    if kind is Kind.BOOL:
        if type(value) is bool:
            return value
        raise InvalidValue(f"Expected bool, got {describe(value)}")
    check = _CHECKS.get(kind)
    if check is not None:
        return _checked(check, value)
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
        nullable = item.may_be_null  # NOTE: an int[] item is never null
        for index, element in enumerate(value):
            if element is not None or not nullable:
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
        if element is not None or not item.may_be_null:
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


def _dropped(value: Any, options: Options, where: Sequence[str | int], op: str) -> None:
    """Hold a value dropped at an unknown property to the limits, as the normaliser does.

    NOTE: ``unknown="ignore"`` drops the value, but the normaliser holds it to
    ``max_items`` and ``max_depth`` first (``CompiledSchema.rebind``), so a
    patch that drops it must too, or the result would differ from normalising
    the whole result (which refuses it).

    Raises:
        Unprocessable: the value breaks a limit (422), located in the result.
    """
    if type(value) is dict or type(value) is list:
        try:
            check_tree(value, options)
        except NegotiateError as exc:
            raise Unprocessable(
                op + exc.message, location=_join(where) + exc.location, **exc.detail
            ) from None


def _start(base: Any, schema: Schema | None, options: Options) -> Any:
    """A private, normalised copy of ``base`` to patch (the default without one)."""
    if schema is None:
        return None if base is None else copy_json(base)
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


# NOTE: keyed by the Schema object (identity), never its name: two carriers may share one.
_TARGETS: dict[tuple[Schema, str], _Target] = {}
_TARGETS_LIMIT: Final = 4096
_TARGET_LENGTH: Final = 256  # longer paths are bound every time, never kept


def _target(schema: Schema, pointer: str) -> _Target:
    """Bind a path to the schema, case-insensitively for property names (memoised).

    Raises:
        JsonPointerException: not a JSON pointer.
    """
    # PERF: patches reuse a small set of paths; binding one costs more than
    # applying the operation.
    key = (schema, pointer)
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


# Whether a carrier can hold (or is) a carrier that can hold itself, by Schema object.
_NESTING: dict[Schema, bool] = {}


def _nests(ftype: FieldType | None) -> bool:
    """Whether a value of ``ftype`` can hold a carrier that can hold itself.

    Only there does the normaliser count depth, so only there can a value
    valid in one place be too deep in another place of the same type.
    """
    while ftype is not None and ftype.kind is not Kind.CARRIER:
        ftype = ftype.item
    if ftype is None:
        return False
    schema = ftype.schema
    found = _NESTING.get(schema)
    if found is None:
        _NESTING.update(_nesting_carriers(schema))
        found = _NESTING[schema]
    return found


def _nesting_carriers(start: Schema) -> dict[Schema, bool]:
    """For every carrier reachable from ``start``: whether it can hold (or is) a
    carrier that can hold itself."""

    def held(ftype: FieldType) -> Schema | None:
        while ftype.item is not None:
            ftype = ftype.item
        return ftype.schema if ftype.kind is Kind.CARRIER else None

    edges: dict[Schema, set[Schema]] = {}
    stack = [start]
    while stack:
        schema = stack.pop()
        if schema not in edges:
            edges[schema] = {s for f in schema.fields if (s := held(f.type)) is not None}
            stack.extend(edges[schema])

    def reach(origin: Schema) -> set[Schema]:
        seen: set[Schema] = set()
        todo = list(edges[origin])
        while todo:
            schema = todo.pop()
            if schema not in seen:
                seen.add(schema)
                todo.extend(edges[schema])
        return seen

    reached = {schema: reach(schema) for schema in edges}
    recursive = {schema for schema in edges if schema in reached[schema]}
    return {schema: bool(({schema} | reached[schema]) & recursive) for schema in edges}
