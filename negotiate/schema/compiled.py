"""The compiled schema: one :class:`Schema` per carrier, built once.

The TypedDict declarations in :mod:`negotiate.schema.carriers` are read once
(at import) into :class:`FieldType` trees. From those, one normalising
function per carrier is generated as Python source and compiled, so that
decoding a body walks straight-line code with no per-field dispatch.

A normaliser takes the dict a parser produced and returns it normalised:
every declared field present, in declaration order, values checked and
coerced, unknown properties handled by :attr:`Options.unknown`. It works in
place where it can (the parser's output is thrown away anyway); the public
:meth:`Schema.normalize` copies first unless told otherwise.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any

from negotiate.errors import InvalidValue, NegotiateError, excerpt
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import carriers as declarations
from negotiate.schema.limits import check_tree
from negotiate.schema.values import (
    DATETIME_DEFAULT,
    EnumSpec,
    check_datetime,
    check_double,
    check_int32,
    describe,
)

__all__ = ["SCHEMAS", "Field", "FieldType", "Kind", "Schema", "get_schema"]


class Kind(enum.Enum):
    """The type vocabulary of SuperOffice carriers."""

    INT32 = "int32"
    DOUBLE = "double"
    BOOL = "bool"
    STRING = "string"
    DATETIME = "date-time"
    ENUM = "enum"
    CARRIER = "carrier"
    ARRAY = "array"
    DICT = "dict"


VALUE_KINDS = frozenset({Kind.INT32, Kind.DOUBLE, Kind.BOOL, Kind.DATETIME, Kind.ENUM})


@dataclass(eq=False, slots=True)
class FieldType:
    """The type of a field, an array item or a dictionary value."""

    kind: Kind
    item: FieldType | None = None
    enum: EnumSpec | None = None
    carrier: str = ""

    @property
    def is_value_type(self) -> bool:
        """True for .NET value types, which are never null."""
        return self.kind in VALUE_KINDS

    @property
    def schema(self) -> Schema:
        """The carrier's schema (``CARRIER`` fields only)."""
        return SCHEMAS[self.carrier]

    def default(self) -> Any:
        """The .NET default: ``0``, ``0.0``, ``False``, the zero date, the
        enum's zero name, or ``None`` for reference types."""
        if self.kind is Kind.INT32:
            return 0
        if self.kind is Kind.DOUBLE:
            return 0.0
        if self.kind is Kind.BOOL:
            return False
        if self.kind is Kind.DATETIME:
            return DATETIME_DEFAULT
        if self.kind is Kind.ENUM:
            assert self.enum is not None
            return self.enum.default
        return None

    @property
    def spec(self) -> str:
        """The type in ``carriers.json`` vocabulary (``array:Carrier:Person``)."""
        if self.kind is Kind.ENUM:
            assert self.enum is not None
            return f"enum:{self.enum.name}"
        if self.kind is Kind.CARRIER:
            return f"Carrier:{self.carrier}"
        if self.kind is Kind.ARRAY:
            assert self.item is not None
            return f"array:{self.item.spec}"
        if self.kind is Kind.DICT:
            assert self.item is not None
            return f"dict:{self.item.spec}"
        return str(self.kind.value)


@dataclass(frozen=True, slots=True)
class Field:
    """One declared property of a carrier."""

    name: str
    type: FieldType
    index: int


class Schema:
    """A compiled carrier: field order, types, lookup, default, normaliser."""

    def __init__(self, name: str, fields: tuple[Field, ...]) -> None:
        self.name = name
        self.fields = fields
        self.names: tuple[str, ...] = tuple(f.name for f in fields)
        self._exact: dict[str, Field] = {f.name: f for f in fields}
        self._folded: dict[str, Field] = {f.name.casefold(): f for f in fields}
        self._default: dict[str, Any] = {f.name: f.type.default() for f in fields}
        self._normalize: Callable[[Any, int, Options], dict[str, Any]] | None = None

    def __repr__(self) -> str:
        return f"Schema({self.name}, {len(self.fields)} fields)"

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def field(self, name: str) -> Field | None:
        """The field a property name binds to: exact match, then case-insensitive."""
        found = self._exact.get(name)
        if found is None:
            found = self._folded.get(name.casefold())
        return found

    def default(self) -> dict[str, Any]:
        """A new .NET default instance: value types at their defaults, the rest null."""
        return dict(self._default)

    def normalize(
        self, value: Any, options: Options = DEFAULT_OPTIONS, *, in_place: bool = False
    ) -> dict[str, Any]:
        """Validate and normalise a carrier given as plain data.

        Args:
            value: a dict (as JSON would give it) with any subset of the
                carrier's properties, names in any case.
            options: unknown-property policy and limits.
            in_place: reuse the dicts of ``value`` instead of copying them
                first (faster; ``value`` must not be used afterwards).

        Returns:
            The normalised carrier: every field, in declaration order (a dict
            that has exactly the declared names keeps its own order; see the
            fast path below).

        Raises:
            InvalidValue: a value does not fit; ``location`` is a JSON pointer.
        """
        if not in_place:
            value = _copy(value)
        return self.normalizer(value, 0, options)

    @property
    def normalizer(self) -> Callable[[Any, int, Options], dict[str, Any]]:
        """The compiled ``(value, depth, options) -> carrier`` function (in place)."""
        if self._normalize is None:
            _compile_all()
            assert self._normalize is not None
        return self._normalize

    def rebind(self, data: dict[str, Any], options: Options) -> dict[str, Any]:
        """Bind property names to fields and fill in defaults (the slow path).

        Unknown properties (``unknown="ignore"``) are dropped, but held to the limits
        first, as a schemaless decoder would hold them: at most ``max_items`` of them,
        each value passing :func:`check_tree`.
        """
        bound: dict[str, Any] = {}
        source: dict[str, str] = {}
        unknown = 0
        for key, value in data.items():
            field = self._exact.get(key) if type(key) is str else None
            if field is None and type(key) is str:
                field = self._folded.get(key.casefold())
            if field is None:
                if options.unknown == "error":
                    raise InvalidValue(
                        f"Unknown property {excerpt(key)} for {self.name}",
                        location=_pointer(str(key)),
                    )
                unknown += 1
                if unknown > options.max_items:
                    raise InvalidValue(
                        f"Too many unknown properties for {self.name} (limit {options.max_items})",
                        location=_pointer(str(key)),
                        limit=options.max_items,
                    )
                if type(value) is dict or type(value) is list:
                    try:
                        check_tree(value, options)
                    except NegotiateError as exc:
                        raise exc.at(str(key)) from None
                continue
            if field.name in bound:
                raise InvalidValue(
                    f"Properties {excerpt(source[field.name])} and {excerpt(key)} both bind to "
                    f"{self.name}.{field.name}",
                    location=_pointer(key),
                )
            bound[field.name] = value
            source[field.name] = key
        default = self._default
        return {name: bound[name] if name in bound else default[name] for name in self.names}


def _pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _copy(value: Any) -> Any:
    """A copy of the containers (dicts and lists); leaves are immutable and shared.

    Iterative, so that no nesting depth reaches the interpreter's recursion limit
    (the normaliser refuses what is too deep, with its location).
    """
    if type(value) is dict:
        root: Any = dict(value)
    elif type(value) is list:
        root = list(value)
    else:
        return value
    stack = [root]
    while stack:
        node = stack.pop()
        for key, item in node.items() if type(node) is dict else enumerate(node):
            if type(item) is dict or type(item) is list:
                copied: Any = type(item)(item)
                node[key] = copied
                stack.append(copied)
    return root


# -- reading the declarations ------------------------------------------------


def _field_type(annotation: Any) -> FieldType:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is UnionType:
        args = [a for a in typing.get_args(annotation) if a is not NoneType]
        if len(args) != 1:
            raise TypeError(f"unsupported union {annotation!r}")
        return _field_type(args[0])
    if origin is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        enums = [e for e in extras if isinstance(e, type) and issubclass(e, enum.Enum)]
        if base is not str or len(enums) != 1:
            raise TypeError(f"unsupported annotation {annotation!r}")
        return FieldType(Kind.ENUM, enum=_enum_spec(enums[0]))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return FieldType(Kind.ARRAY, item=_field_type(item))
    if origin is dict:
        key, item = typing.get_args(annotation)
        if key is not str:
            raise TypeError(f"dictionary keys must be str: {annotation!r}")
        return FieldType(Kind.DICT, item=_field_type(item))
    if annotation is declarations.DateTime:
        return FieldType(Kind.DATETIME)
    simple = {int: Kind.INT32, float: Kind.DOUBLE, bool: Kind.BOOL, str: Kind.STRING}
    if annotation in simple:
        return FieldType(simple[annotation])
    if typing.is_typeddict(annotation):
        return FieldType(Kind.CARRIER, carrier=annotation.__name__)
    raise TypeError(f"unsupported annotation {annotation!r}")


_ENUM_SPECS: dict[type[enum.Enum], EnumSpec] = {}


def _enum_spec(enum_type: type[enum.Enum]) -> EnumSpec:
    if enum_type not in _ENUM_SPECS:
        _ENUM_SPECS[enum_type] = EnumSpec(enum_type)
    return _ENUM_SPECS[enum_type]


def _build(carrier: type) -> Schema:
    hints = typing.get_type_hints(carrier, include_extras=True)
    fields = tuple(
        Field(name, _field_type(hints[name]), index)
        for index, name in enumerate(carrier.__annotations__)
    )
    return Schema(carrier.__name__, fields)


SCHEMAS: Mapping[str, Schema] = {c.__name__: _build(c) for c in declarations.CARRIERS}
_FOLDED_NAMES = {name.casefold(): name for name in SCHEMAS}


def get_schema(name: str) -> Schema:
    """The compiled schema of a carrier, by name (case-insensitive).

    Raises:
        KeyError: no such carrier; the message lists the known ones.
    """
    found = _FOLDED_NAMES.get(name.casefold())
    if found is None:
        raise KeyError(f"unknown carrier {name!r}; known: {', '.join(SCHEMAS)}")
    return SCHEMAS[found]


# -- generating the normalisers ----------------------------------------------
#
# Two functions are generated per carrier.
#
# The slow one binds property names (exact, then case-insensitive), fills in
# defaults, checks and coerces field by field, and locates every error with a
# JSON pointer. It is the definition of what normalising means.
#
# PERF: the fast one handles the common case in one straight-line function
# per carrier, with every non-recursive nested carrier inlined: dicts holding
# exactly the declared names and values already of the right type. It never
# raises a located error; at the first surprise it gives up (``_Slow``), and
# the slow function runs over the same value. That is sound because
# normalising is idempotent and in place: what the fast function already did
# is what the slow one would do. Key order is not checked on the fast path
# (a dict with exactly the declared names in another order keeps its order;
# every reader binds by name, and the XML and form writers follow the
# schema's order anyway).


class _Slow(Exception):
    """The fast path met something only the slow path handles."""


_SLOW = _Slow()
_DATETIMES_SEEN: set[str] = set()


def _datetime_ok(value: str) -> bool:
    try:
        check_datetime(value)
    except ValueError:
        return False
    if len(_DATETIMES_SEEN) >= 8192:
        _DATETIMES_SEEN.clear()
    _DATETIMES_SEEN.add(value)
    return True


def _enum_ok(spec: EnumSpec, value: str) -> bool:
    try:
        return spec.normalize(value) == value
    except ValueError:
        return False


def _checked(check: Callable[[Any], Any], value: Any, key: str) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise InvalidValue(str(exc), location=_pointer(key)) from None


def _not_object(value: Any, carrier: str) -> InvalidValue:
    return InvalidValue(f"Expected {carrier} object, got {describe(value)}")


def _not_container(value: Any, expected: str, key: str) -> InvalidValue:
    return InvalidValue(f"Expected {expected}, got {describe(value)}", location=_pointer(key))


def _wrong(expected: str, value: Any) -> InvalidValue:
    return InvalidValue(f"Expected {expected}, got {describe(value)}")


def _check_size(value: list[Any] | dict[Any, Any], options: Options) -> None:
    if len(value) > options.max_items:
        raise InvalidValue(
            f"Too many items: {len(value)} (limit {options.max_items})", limit=options.max_items
        )


def _check_keys(value: dict[Any, Any]) -> None:
    for key in value:
        if type(key) is not str:
            raise InvalidValue(f"Expected string keys, got {describe(key)}")


def _too_deep(carrier: str, options: Options) -> InvalidValue:
    return InvalidValue(
        f"{carrier} nested deeper than the limit of {options.max_depth}", limit=options.max_depth
    )


_SCALAR_CHECKS = {
    Kind.INT32: "check_int32",
    Kind.DOUBLE: "check_double",
    Kind.DATETIME: "check_datetime",
}


class _Generator:
    """Writes and compiles the source of every normaliser."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "InvalidValue": InvalidValue,
            "NegotiateError": NegotiateError,
            "_Slow": _Slow,
            "_SLOW": _SLOW,
            "_checked": _checked,
            "_not_object": _not_object,
            "_not_container": _not_container,
            "_check_size": _check_size,
            "_wrong": _wrong,
            "_check_keys": _check_keys,
            "_too_deep": _too_deep,
            "_datetime_ok": _datetime_ok,
            "_enum_ok": _enum_ok,
            "_DATETIMES_SEEN": _DATETIMES_SEEN,
            "check_int32": check_int32,
            "check_double": check_double,
            "check_datetime": check_datetime,
            "describe": describe,
        }
        self.helpers: dict[str, str] = {}
        self.recursive = _recursive_carriers()

    def constant(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def compile(self) -> dict[str, Any]:
        for schema in SCHEMAS.values():
            self.slow_carrier(schema)
            self.fast_carrier(schema)
            name = schema.name
            self.lines += [
                f"def n_{name}(d, depth, opts):",
                "    try:",
                f"        return f_{name}(d, depth, opts)",
                "    except (_Slow, KeyError, NegotiateError):",
                f"        return slow_{name}(d, depth, opts)",
                "",
            ]
        source = "\n".join(self.lines)
        exec(compile(source, "<negotiate.schema normalizers>", "exec"), self.namespace)
        return self.namespace

    # -- the slow path: bind, check, coerce, locate

    def slow_carrier(self, schema: Schema) -> None:
        name = schema.name
        keys = self.constant("K", list(schema.names))
        rebind = self.constant("R", schema.rebind)
        out = [f"def slow_{name}(d, depth, opts):"]
        out.append(f"    if type(d) is not dict: raise _not_object(d, {name!r})")
        if name in self.recursive:
            out.append(f"    if depth > opts.max_depth: raise _too_deep({name!r}, opts)")
        out.append(f"    if list(d) != {keys}: d = {rebind}(d, opts)")
        for field in schema.fields:
            out.extend(self.slow_field(field))
        out.append("    return d")
        self.lines.extend([*out, ""])

    def slow_field(self, field: Field) -> list[str]:
        key = repr(field.name)
        kind = field.type.kind
        get = f"    v = d[{key}]"
        if kind is Kind.STRING:
            return [
                get,
                "    if type(v) is not str and v is not None:",
                f"        raise _not_container(v, 'string', {key})",
            ]
        if kind is Kind.BOOL:
            return [get, f"    if type(v) is not bool: raise _not_container(v, 'bool', {key})"]
        if kind in _SCALAR_CHECKS:
            return [f"    d[{key}] = _checked({_SCALAR_CHECKS[kind]}, d[{key}], {key})"]
        if kind is Kind.ENUM:
            assert field.type.enum is not None
            spec = self.constant("E", field.type.enum)
            return [f"    d[{key}] = _checked({spec}.normalize, d[{key}], {key})"]
        call = self.slow_item(field.type)
        return [
            get,
            "    if v is not None:",
            "        try:",
            f"            d[{key}] = {call}(v, depth + 1, opts)",
            "        except NegotiateError as e:",
            f"            raise e.at({key}) from None",
        ]

    def slow_item(self, ftype: FieldType) -> str:
        """A function ``(value, depth, opts) -> value`` for a non-null value."""
        if ftype.kind is Kind.CARRIER:
            return f"slow_{ftype.carrier}"
        if ftype.spec in self.helpers:
            return self.helpers[ftype.spec]
        fname = f"h{len(self.helpers)}"
        self.helpers[ftype.spec] = fname
        if ftype.kind is Kind.ARRAY:
            assert ftype.item is not None
            item = self.slow_item(ftype.item)
            body = [
                "    if type(v) is not list: raise _wrong('array', v)",
                "    _check_size(v, opts)",
                "    out = []",
                "    for i, x in enumerate(v):",
                "        if x is not None:",
                "            try:",
                f"                x = {item}(x, depth, opts)",
                "            except NegotiateError as e:",
                "                raise e.at(i) from None",
                "        out.append(x)",
                "    return out",
            ]
        elif ftype.kind is Kind.DICT:
            assert ftype.item is not None
            item = self.slow_item(ftype.item)
            body = [
                "    if type(v) is not dict: raise _wrong('object', v)",
                "    _check_size(v, opts)",
                "    _check_keys(v)",
                "    for k, x in v.items():",
                "        if x is not None:",
                "            try:",
                f"                v[k] = {item}(x, depth, opts)",
                "            except NegotiateError as e:",
                "                raise e.at(k) from None",
                "    return v",
            ]
        elif ftype.kind in (Kind.STRING, Kind.BOOL):
            expected = "string" if ftype.kind is Kind.STRING else "bool"
            pytype = "str" if ftype.kind is Kind.STRING else "bool"
            body = [
                f"    if type(v) is not {pytype}:",
                f"        raise InvalidValue('Expected {expected}, got ' + describe(v))",
                "    return v",
            ]
        else:
            if ftype.kind is Kind.ENUM:
                assert ftype.enum is not None
                check = self.constant("E", ftype.enum) + ".normalize"
            else:
                check = _SCALAR_CHECKS[ftype.kind]
            body = [
                "    try:",
                f"        return {check}(v)",
                "    except ValueError as exc:",
                "        raise InvalidValue(str(exc)) from None",
            ]
        self.lines.extend([f"def {fname}(v, depth, opts):", *body, ""])
        return fname

    # -- the fast path: inline, check types, give up on any surprise

    def fast_carrier(self, schema: Schema) -> None:
        name = schema.name
        out = [f"def f_{name}(d, depth, opts):"]
        if name in self.recursive:
            out.append("    if depth > opts.max_depth: raise _SLOW")
        out.extend(self.fast_block("d", schema, "d", 1, 0))
        out.append("    return d")
        self.lines.extend([*out, ""])

    def fast_block(
        self, var: str, schema: Schema, assign: str, indent: int, level: int
    ) -> list[str]:
        """Lines checking the carrier dict in ``var`` (known not to be None)."""
        pad = "    " * indent
        rebind = self.constant("R", schema.rebind)
        out = [
            f"{pad}if type({var}) is not dict: raise _SLOW",
            f"{pad}if len({var}) != {len(schema.fields)}: {var} = {assign} = {rebind}({var}, opts)",
        ]
        if assign == var:
            out[-1] = f"{pad}if len({var}) != {len(schema.fields)}: {var} = {rebind}({var}, opts)"
        for field in schema.fields:
            out.extend(self.fast_field(var, field, indent, level))
        return out

    def fast_field(self, var: str, field: Field, indent: int, level: int) -> list[str]:
        pad = "    " * indent
        key = repr(field.name)
        ftype = field.type
        if ftype.kind is Kind.STRING:
            return [
                f"{pad}v = {var}[{key}]",
                f"{pad}if type(v) is not str and v is not None: raise _SLOW",
            ]
        if ftype.is_value_type:
            return [f"{pad}v = {var}[{key}]", *self.fast_scalar("v", ftype, indent)]
        cvar = f"c{level}"
        return [
            f"{pad}{cvar} = {var}[{key}]",
            f"{pad}if {cvar} is not None:",
            *self.fast_value(cvar, ftype, f"{var}[{key}]", indent + 1, level + 1),
        ]

    def fast_scalar(self, var: str, ftype: FieldType, indent: int) -> list[str]:
        pad = "    " * indent
        kind = ftype.kind
        if kind is Kind.STRING:
            test = f"type({var}) is not str"
        elif kind is Kind.BOOL:
            test = f"type({var}) is not bool"
        elif kind is Kind.INT32:
            test = f"type({var}) is not int or {var} > 2147483647 or {var} < -2147483648"
        elif kind is Kind.DOUBLE:
            test = f"type({var}) is not float or {var} - {var} != 0.0"
        elif kind is Kind.DATETIME:
            test = (
                f"type({var}) is not str or "
                f"({var} not in _DATETIMES_SEEN and not _datetime_ok({var}))"
            )
        else:
            assert ftype.enum is not None
            spec = self.constant("E", ftype.enum)
            valid = self.constant("V", ftype.enum.valid)
            test = (
                f"type({var}) is not str or ({var} not in {valid} and not _enum_ok({spec}, {var}))"
            )
        return [f"{pad}if {test}: raise _SLOW"]

    def fast_value(
        self, var: str, ftype: FieldType, assign: str, indent: int, level: int
    ) -> list[str]:
        """Lines checking the non-null value in ``var``."""
        pad = "    " * indent
        if ftype.kind is Kind.CARRIER:
            if ftype.carrier in self.recursive:
                return [f"{pad}{assign} = f_{ftype.carrier}({var}, depth + {level}, opts)"]
            return self.fast_block(var, ftype.schema, assign, indent, level)
        if ftype.kind not in (Kind.ARRAY, Kind.DICT):
            return self.fast_scalar(var, ftype, indent)
        item = ftype.item
        assert item is not None
        xvar, ivar = f"x{level}", f"i{level}"
        if ftype.kind is Kind.ARRAY:
            out = [f"{pad}if type({var}) is not list or len({var}) > opts.max_items: raise _SLOW"]
            if item.kind is Kind.CARRIER:
                out.append(f"{pad}for {ivar}, {xvar} in enumerate({var}):")
                target = f"{var}[{ivar}]"
            else:
                out.append(f"{pad}for {xvar} in {var}:")
                target = ""
        else:
            out = [f"{pad}if type({var}) is not dict or len({var}) > opts.max_items: raise _SLOW"]
            out.append(f"{pad}for {ivar}, {xvar} in {var}.items():")
            out.append(f"{pad}    if type({ivar}) is not str: raise _SLOW")
            target = f"{var}[{ivar}]"
        out.append(f"{pad}    if {xvar} is not None:")
        out.extend(self.fast_value(xvar, item, target, indent + 2, level + 1))
        return out


def _recursive_carriers() -> set[str]:
    """Carriers that can contain themselves (their nesting needs a depth limit)."""

    def reachable(ftype: FieldType) -> Iterator[str]:
        if ftype.kind is Kind.CARRIER:
            yield ftype.carrier
        elif ftype.item is not None:
            yield from reachable(ftype.item)

    edges = {
        name: {c for f in schema.fields for c in reachable(f.type)}
        for name, schema in SCHEMAS.items()
    }
    recursive = set()
    for start in edges:
        seen: set[str] = set()
        stack = list(edges[start])
        while stack:
            node = stack.pop()
            if node == start:
                recursive.add(start)
                break
            if node not in seen:
                seen.add(node)
                stack.extend(edges[node])
    return recursive


def _compile_all() -> None:
    namespace = _Generator().compile()
    for name, schema in SCHEMAS.items():
        schema._normalize = namespace[f"n_{name}"]
