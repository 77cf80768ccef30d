"""The compiled schema: one :class:`Schema` per carrier, built once.

The TypedDict declarations in :mod:`negotiate.schema.carriers` are read once
(at import) into :class:`FieldType` trees. From those, on first use, one
normalising function per carrier is generated and compiled
(:mod:`negotiate.schema.normalizer`), so that decoding a body walks
straight-line code with no per-field dispatch.

A normaliser takes the dict a parser produced and returns it normalised:
every declared field present, in declaration order, values checked and
coerced, unknown properties handled by :attr:`Options.unknown`. It works in
place where it can (the parser's output is thrown away anyway); the public
:meth:`Schema.normalize` copies first unless told otherwise.
"""

from __future__ import annotations

import enum
import threading
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any

from negotiate._codegen import Source
from negotiate.errors import InvalidValue, NegotiateError, escape_pointer, excerpt
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import carriers as declarations
from negotiate.schema.kinds import VALUE_KINDS, Kind as Kind
from negotiate.schema.limits import check_tree
from negotiate.schema.normalizer import compile_normalizers
from negotiate.schema.values import DATETIME_DEFAULT, EnumSpec

__all__ = [
    "SCHEMAS",
    "Field",
    "FieldType",
    "Kind",
    "Schema",
    "get_schema",
    "normalizer_source",
]


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
    return "/" + escape_pointer(key)


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


# -- compiling the normalisers (lazily: importing the package stays cheap) --------

_COMPILE_LOCK = threading.Lock()
_COMPILED: list[Source] = []


def _compile_all() -> Source:
    """Compile every carrier's normaliser, once, and hand each schema its own."""
    with _COMPILE_LOCK:
        if not _COMPILED:
            source = compile_normalizers(SCHEMAS)
            for name, schema in SCHEMAS.items():
                schema._normalize = source.namespace[f"n_{name}"]
            _COMPILED.append(source)
        return _COMPILED[0]


def normalizer_source() -> str:
    """The generated source of every carrier's normaliser, for inspection.

    A traceback through a normaliser shows these lines (the code is registered
    with :mod:`linecache` under its own file name).
    """
    return _compile_all().source
