"""The compiled schema: one :class:`Schema` per carrier, built once.

A carrier is a ``TypedDict``; :func:`~negotiate.schema.declare.schema_of`
reads its annotations, and those of every carrier it reaches, into the
:class:`FieldType` trees of this module's model. From those, on first use, one
normalising function per carrier is generated and compiled
(:mod:`negotiate.schema.normalizer`), so that decoding a body walks
straight-line code with no per-field dispatch. The built-in (SuperOffice)
catalogue is compiled as one unit.

A normaliser takes the dict a parser produced and returns it normalised:
every declared field present, in declaration order, values checked and
coerced, unknown properties handled by :attr:`Options.unknown`. It works in
place where it can (the parser's output is thrown away anyway); the public
:meth:`Schema.normalize` copies first unless told otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field as dataclass_field
from typing import Any

from negotiate._codegen import Source
from negotiate.errors import InvalidValue, NegotiateError, escape_pointer, excerpt
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema.copies import copy_containers
from negotiate.schema.kinds import VALUE_KINDS, Kind as Kind
from negotiate.schema.limits import check_tree
from negotiate.schema.normalizer import compile_normalizers
from negotiate.schema.values import DATETIME_DEFAULT, DECIMAL_DEFAULT, GUID_DEFAULT, EnumSpec
from negotiate.schema.vocabulary import DATACONTRACT_NAMESPACE

__all__ = [
    "Field",
    "FieldType",
    "Kind",
    "Schema",
    "normalizer_source",
]

_Normalize = Callable[[Any, int, Options], dict[str, Any]]


@dataclass(eq=False, slots=True)
class FieldType:
    """The type of a field, an array item or a dictionary value.

    Attributes:
        kind: what the value is.
        item: the item type of an array or dictionary.
        enum: the enum of an ``ENUM``.
        carrier: the carrier's name (``CARRIER``), as its schema has it.
        target: the carrier's schema; ``None`` in a type built by hand with
            only ``carrier`` (then the built-in catalogue's of that name).
        nullable: a value type declared ``X | None`` (.NET ``int?``): null is one
            of its values, and its default. Reference types are null-able anyway
            and never set it.
    """

    kind: Kind
    item: FieldType | None = None
    enum: EnumSpec | None = None
    carrier: str = ""
    target: Schema | None = dataclass_field(default=None, repr=False)
    nullable: bool = False

    @property
    def is_value_type(self) -> bool:
        """True for .NET value types (nullable ones included: ``int?`` is ``int``'s kind)."""
        return self.kind in VALUE_KINDS

    @property
    def may_be_null(self) -> bool:
        """Whether null is a value of this type: reference types and nullable value types."""
        return self.nullable or self.kind not in VALUE_KINDS

    @property
    def schema(self) -> Schema:
        """The carrier's schema (``CARRIER`` fields only)."""
        target = self.target
        if target is None:
            target = _CATALOGUE[self.carrier]
        return target

    def default(self) -> Any:
        """The .NET default: ``0``, ``0.0``, ``Decimal(0)``, ``False``, the zero date,
        the zero Guid, the enum's zero name, or ``None`` for reference types and
        nullable value types."""
        if self.nullable:
            return None
        if self.kind is Kind.ENUM:
            assert self.enum is not None
            return self.enum.default
        return _DEFAULTS.get(self.kind)

    @property
    def shape(self) -> Any:
        """A hashable value telling types apart: like :attr:`spec`, but a carrier is
        its Schema object and an enum its spec object (two may share one name)."""
        if self.kind is Kind.CARRIER:
            return self.schema
        if self.kind is Kind.ENUM:
            return (self.enum, True) if self.nullable else self.enum
        return (self.kind, None if self.item is None else self.item.shape, self.nullable)

    @property
    def spec(self) -> str:
        """The type in ``carriers.json`` vocabulary (``array:Carrier:Person``); a
        nullable value type ends in ``?`` (``int32?``)."""
        if self.nullable:
            return FieldType(self.kind, enum=self.enum).spec + "?"
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


_DEFAULTS: dict[Kind, Any] = {
    Kind.INT32: 0,
    Kind.INT64: 0,
    Kind.DOUBLE: 0.0,
    Kind.DECIMAL: DECIMAL_DEFAULT,
    Kind.BOOL: False,
    Kind.DATETIME: DATETIME_DEFAULT,
    Kind.GUID: GUID_DEFAULT,
}
"""The .NET default of each value kind but ``ENUM`` (its zero name); reference types: None."""


@dataclass(frozen=True, slots=True)
class Field:
    """One declared property of a carrier."""

    name: str
    type: FieldType
    index: int


class Schema:
    """A compiled carrier: field order, types, lookup, default, normaliser.

    Build one with :func:`~negotiate.schema.declare.schema_of` (from a
    ``TypedDict``); the constructor is for schemas assembled by hand.

    Args:
        name: the carrier's name (its class name), used in messages.
        fields: the properties, in declaration order.
        xml_name: its DataContract name (default: ``name``).
        xml_namespace: its DataContract namespace (default: DataContract's
            for a type outside any CLR namespace).
    """

    def __init__(
        self,
        name: str,
        fields: tuple[Field, ...],
        *,
        xml_name: str | None = None,
        xml_namespace: str | None = None,
    ) -> None:
        self.name = name
        self.xml_name: str = name if xml_name is None else xml_name
        """The DataContract name: the root element and array item element name in XML."""
        self.xml_namespace: str = DATACONTRACT_NAMESPACE if xml_namespace is None else xml_namespace
        """The DataContract namespace of the carrier's elements."""
        self._normalize: _Normalize | None = None
        # (fast, slow) functions of the generated code, for later graphs that reach this one.
        self._generated: tuple[_Normalize, _Normalize] | None = None
        self._source: Source | None = None
        self._catalogue = False  # compiled with the built-in catalogue, as one unit
        self._root_type: FieldType | None = None
        self._decimals: bool | None = None
        self._define(fields)

    def _define(self, fields: tuple[Field, ...]) -> None:
        # NOTE: separate from __init__ so that the reader can hand out a schema
        # before its fields are read (a carrier that contains itself).
        self.fields = fields
        self.names: tuple[str, ...] = tuple(f.name for f in fields)
        self._exact: dict[str, Field] = {f.name: f for f in fields}
        self._folded: dict[str, Field] = {f.name.casefold(): f for f in fields}
        self._default: dict[str, Any] = {f.name: f.type.default() for f in fields}

    def __repr__(self) -> str:
        return f"Schema({self.name}, {len(self.fields)} fields)"

    @property
    def root_type(self) -> FieldType:
        """The ``CARRIER`` type of this schema (the type of a document of it), made once.

        It holds this schema (``target``), so code walking a graph from the root
        never looks a carrier up by name: two carriers may share one.
        """
        found = self._root_type
        if found is None:
            found = self._root_type = FieldType(Kind.CARRIER, carrier=self.name, target=self)
        return found

    @property
    def decimals(self) -> bool:
        """Whether this carrier, or any it reaches, has a ``Decimal`` value anywhere.

        The JSON codecs read the documents of such a schema with a parser that keeps
        every number's digits (see :func:`negotiate.codecs._text.loads`).
        """
        found = self._decimals
        if found is None:
            found = self._decimals = any(
                _holds(f.type, Kind.DECIMAL) for s in _reachable(self) for f in s.fields
            )
        return found

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
            value = copy_containers(value)
        return self.normalizer(value, 0, options)

    @property
    def normalizer(self) -> _Normalize:
        """The compiled ``(value, depth, options) -> carrier`` function (in place)."""
        found = self._normalize
        if found is None:
            found = _compile_normalizers(self)
        return found

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


# One lock for reading declarations (negotiate.schema.declare) and compiling
# normalisers: either may start the other (a normaliser compile reads the
# catalogue), so it is re-entrant.
_LOCK = threading.RLock()

# The built-in catalogue (negotiate.schema.declare's SCHEMAS), handed down by
# _install_catalogue when that module loads. NOTE: the declaration reader builds this
# module's Schema objects, so it imports this one; a hand-built CARRIER type and the
# catalogue's one-unit compile look carriers up in it all the same, and importing it
# from here would close an import cycle.
_CATALOGUE: Mapping[str, Schema] = {}


def _install_catalogue(schemas: Mapping[str, Schema]) -> None:
    """Give the model the built-in catalogue (called once, by ``negotiate.schema.declare``)."""
    global _CATALOGUE
    _CATALOGUE = schemas


# -- compiling the normalisers (lazily: importing the package stays cheap) --------


def _compile_normalizers(schema: Schema) -> _Normalize:
    """Compile the normalisers of ``schema``'s graph, once, and hand each its own.

    The graph is the carriers ``schema`` reaches that have none yet (those that
    do are called, not written again); a built-in carrier's is the whole
    catalogue, compiled as one text, as :func:`normalizer_source` shows it.
    """
    with _LOCK:
        if schema._normalize is None:
            if schema._catalogue:
                roots = [_CATALOGUE[name] for name in _CATALOGUE]
                title = "schema normalizers"
            else:
                _compile_catalogue_reached(schema)
                roots = [schema]
                title = f"schema normalizers: {schema.name}"
            source, functions = compile_normalizers(roots, title)
            for compiled, (fast, slow, entry) in functions.items():
                compiled._generated = (fast, slow)
                compiled._source = source
                compiled._normalize = entry
        assert schema._normalize is not None
        return schema._normalize


def _compile_catalogue_reached(schema: Schema) -> None:
    """Compile the catalogue first when ``schema`` reaches one of its carriers."""
    for reached in _reachable(schema):
        if reached._catalogue and reached._normalize is None:
            _compile_normalizers(reached)
            return


def _reachable(schema: Schema) -> list[Schema]:
    """``schema`` and every carrier it reaches, each once."""
    seen = {schema}
    order = [schema]
    for current in order:
        for f in current.fields:
            ftype: FieldType | None = f.type
            while ftype is not None:
                if ftype.kind is Kind.CARRIER:
                    target = ftype.schema
                    if target not in seen:
                        seen.add(target)
                        order.append(target)
                ftype = ftype.item
    return order


def _holds(ftype: FieldType | None, kind: Kind) -> bool:
    """Whether ``ftype`` is ``kind``, or an array or dictionary of it (at any depth)."""
    while ftype is not None:
        if ftype.kind is kind:
            return True
        ftype = ftype.item
    return False


def normalizer_source(schema: Schema | None = None) -> str:
    """The generated source ``schema``'s normaliser was compiled in, for inspection.

    Args:
        schema: a carrier's schema; ``None`` for the built-in catalogue (every
            SuperOffice carrier's normaliser, one text).

    A traceback through a normaliser shows these lines (the code is registered
    with :mod:`linecache` under its own file name).
    """
    if schema is None:
        schema = _CATALOGUE["ContactEntity"]
    schema.normalizer  # noqa: B018 (compiles it)
    assert schema._source is not None
    return schema._source.source
