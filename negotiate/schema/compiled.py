"""The compiled schema: one :class:`Schema` per carrier, built once.

A carrier is a ``TypedDict``. :func:`schema_of` reads its annotations, and
those of every carrier it reaches, into :class:`FieldType` trees, once per
class. From those, on first use, one normalising function per carrier is
generated and compiled (:mod:`negotiate.schema.normalizer`), so that decoding
a body walks straight-line code with no per-field dispatch. The SuperOffice
carriers of :mod:`negotiate.schema.carriers` are the built-in catalogue,
compiled by the same reader the first time one is asked for
(:func:`get_schema`, :data:`SCHEMAS`).

A normaliser takes the dict a parser produced and returns it normalised:
every declared field present, in declaration order, values checked and
coerced, unknown properties handled by :attr:`Options.unknown`. It works in
place where it can (the parser's output is thrown away anyway); the public
:meth:`Schema.normalize` copies first unless told otherwise.
"""

from __future__ import annotations

import enum
import importlib
import re
import sys
import threading
import typing
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field as dataclass_field
from types import ModuleType, NoneType, UnionType
from typing import Any, TypeVar

from negotiate._codegen import Source
from negotiate.errors import InvalidValue, NegotiateError, escape_pointer, excerpt
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema.kinds import VALUE_KINDS, Kind as Kind
from negotiate.schema.limits import check_tree
from negotiate.schema.normalizer import compile_normalizers
from negotiate.schema.values import DATETIME_DEFAULT, EnumSpec
from negotiate.schema.vocabulary import DATACONTRACT_NAMESPACE, DateTime

__all__ = [
    "SCHEMAS",
    "VOCABULARY",
    "Field",
    "FieldType",
    "Kind",
    "Schema",
    "datacontract",
    "get_schema",
    "normalizer_source",
    "schema_of",
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
    """

    kind: Kind
    item: FieldType | None = None
    enum: EnumSpec | None = None
    carrier: str = ""
    target: Schema | None = dataclass_field(default=None, repr=False)

    @property
    def is_value_type(self) -> bool:
        """True for .NET value types, which are never null."""
        return self.kind in VALUE_KINDS

    @property
    def schema(self) -> Schema:
        """The carrier's schema (``CARRIER`` fields only)."""
        target = self.target
        if target is None:
            target = SCHEMAS[self.carrier]
        return target

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
    def shape(self) -> Any:
        """A hashable value telling types apart: like :attr:`spec`, but a carrier is
        its Schema object and an enum its spec object (two may share one name)."""
        if self.kind is Kind.CARRIER:
            return self.schema
        if self.kind is Kind.ENUM:
            return self.enum
        return (self.kind, None if self.item is None else self.item.shape)

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
    """A compiled carrier: field order, types, lookup, default, normaliser.

    Build one with :func:`schema_of` (from a ``TypedDict``); the constructor is
    for schemas assembled by hand.

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


# -- the vocabulary ------------------------------------------------------------------

_SCALARS: dict[Any, Kind] = {
    int: Kind.INT32,
    float: Kind.DOUBLE,
    bool: Kind.BOOL,
    str: Kind.STRING,
    DateTime: Kind.DATETIME,
}
"""The scalar annotations of the vocabulary and their kinds.

NOTE: a new primitive (``Int64``, ``Decimal``, ``Guid``, ``bytes``) is an entry
here, once its :class:`Kind`, its checks and its codecs exist."""

_NULLABLE: dict[Kind, Kind] = {}
"""Value kinds that may be declared ``X | None``, and the kind that makes.

NOTE: empty: nullable value types (``int | None``, .NET ``int?``) are the next
step; each becomes an entry here."""

VOCABULARY: tuple[str, ...] = (
    "int",
    "float",
    "bool",
    "str",
    "DateTime",
    "Annotated[str, SomeEnum]",
    "list[T]",
    "dict[str, T]",
    "a carrier (a TypedDict)",
    "T | None for str, lists, dicts and carriers",
)
"""The annotations a carrier may use, as :func:`schema_of`'s errors list them."""

_ALLOWED = ", ".join(VOCABULARY)
_QUALIFIERS = (typing.Required, typing.NotRequired)
# A DataContract name is an XML NCName (letters, digits, '_', '-', '.'; no colon).
_NCNAME = re.compile(r"[^\W\d][\w.\-]*")
_C = TypeVar("_C", bound=type)


def _show(annotation: Any) -> str:
    """An annotation as written: ``set[int]``, ``datetime.datetime``, ``int | str``."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        if annotation.__module__ == "builtins":
            return annotation.__qualname__
        return f"{annotation.__module__}.{annotation.__qualname__}"
    if annotation is DateTime:
        return "DateTime"
    if annotation is NoneType or annotation is None:
        return "None"
    return repr(annotation).replace("typing.", "")


class _Reader:
    """Reads carrier classes into schemas: one graph of classes per run, all or none.

    Every carrier met gets its :class:`Schema` at once (fields still empty) and
    is queued, so a field can refer to a carrier being read, itself included;
    the schemas are published (to :data:`_CACHE`) only when the whole graph read
    without error.
    """

    def __init__(self) -> None:
        self.pending: dict[type, Schema] = {}
        self.queue: list[type] = []

    def schema(self, cls: type, name: str | None = None, namespace: str | None = None) -> Schema:
        found = _CACHE.get(cls)
        if found is None:
            found = self.pending.get(cls)
        if found is None:
            xml_name, xml_namespace = _contract(cls, name, namespace)
            found = self.pending[cls] = Schema(
                cls.__name__, (), xml_name=xml_name, xml_namespace=xml_namespace
            )
            found._catalogue = cls.__module__ == _CATALOGUE_MODULE
            self.queue.append(cls)
        return found

    def run(self) -> None:
        while self.queue:
            cls = self.queue.pop()
            hints = _hints(cls)
            fields = tuple(
                Field(name, self.field_type(hints[name], cls, name), index)
                for index, name in enumerate(hints)
            )
            self.pending[cls]._define(fields)

    def field_type(self, annotation: Any, cls: type, name: str) -> FieldType:
        """The type a field's annotation declares, or a TypeError naming the field."""
        try:
            return self.read(annotation)
        except _Refused as refused:
            part, reason = refused.args
            shown = _show(part)
            where = f" in {_show(annotation)}" if part is not annotation else ""
            why = f" ({reason})" if reason else ""
            raise TypeError(
                f"{_where(cls, name)}: {shown}{where} is not in the carrier vocabulary{why}; "
                f"allowed: {_ALLOWED}"
            ) from None

    def read(self, annotation: Any) -> FieldType:
        origin = typing.get_origin(annotation)
        if origin in _QUALIFIERS:
            # NOTE: Required/NotRequired say whether a client may omit the key; a
            # normalised carrier has every key either way.
            return self.read(typing.get_args(annotation)[0])
        if origin is typing.Union or origin is UnionType:
            args = typing.get_args(annotation)
            present = [a for a in args if a is not NoneType]
            if len(present) != 1:
                raise _Refused(annotation, "a union other than X | None")
            inner = self.read(present[0])
            if inner.is_value_type:
                nullable = _NULLABLE.get(inner.kind)
                if nullable is None:
                    raise _Refused(annotation, "value types are never null")
                inner = FieldType(nullable, enum=inner.enum)
            return inner
        if origin is typing.Annotated:
            base, *extras = typing.get_args(annotation)
            enums = [e for e in extras if isinstance(e, type) and issubclass(e, enum.Enum)]
            if base is not str or len(enums) != 1 or len(extras) != 1:
                raise _Refused(annotation, "Annotated is for enums: Annotated[str, SomeEnum]")
            return FieldType(Kind.ENUM, enum=_enum_spec(enums[0], annotation))
        if origin is list:
            args = typing.get_args(annotation)
            return FieldType(Kind.ARRAY, item=self.read(args[0]))
        if origin is dict:
            key, item = typing.get_args(annotation)
            if key is not str:
                raise _Refused(annotation, "dictionary keys are str")
            return FieldType(Kind.DICT, item=self.read(item))
        if origin is None and isinstance(annotation, type) and typing.is_typeddict(annotation):
            if getattr(annotation, "__parameters__", ()):
                raise _Refused(annotation, "a generic carrier")
            target = self.schema(annotation)
            return FieldType(Kind.CARRIER, carrier=target.name, target=target)
        try:
            kind = _SCALARS.get(annotation)
        except TypeError:  # an unhashable annotation: not ours
            kind = None
        if kind is not None:
            return FieldType(kind)
        if annotation is list or annotation is dict:
            raise _Refused(annotation, "say what it holds: list[T], dict[str, T]")
        if origin is not None and typing.is_typeddict(origin):
            raise _Refused(annotation, "a generic carrier")
        raise _Refused(annotation, "")


class _Refused(Exception):
    """Raised inside the reader: (the annotation refused, why)."""


def _where(cls: type, name: str = "") -> str:
    field = f".{name}" if name else ""
    return f"carrier {cls.__qualname__}{field} (module {cls.__module__})"


def _hints(cls: type) -> dict[str, Any]:
    """The class's annotations, evaluated in the module that declares it."""
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except NameError as exc:
        missing = getattr(exc, "name", None) or ""
        fields = [
            n
            for n, raw in cls.__annotations__.items()
            if missing and re.search(rf"\b{re.escape(missing)}\b", _raw(raw))
        ]
        field = fields[0] if fields else ""
        raise TypeError(
            f"{_where(cls, field)}: cannot resolve {missing or 'an annotation'!r}: {exc}; "
            f"annotations are resolved in the module that declares the carrier, so a "
            f"class they name must be defined there (at module level) before schema_of"
        ) from None
    except TypeError as exc:
        raise TypeError(f"{_where(cls)}: an invalid annotation: {exc}") from None


def _raw(annotation: Any) -> str:
    if isinstance(annotation, typing.ForwardRef):
        return annotation.__forward_arg__
    return annotation if isinstance(annotation, str) else repr(annotation)


_ENUM_SPECS: dict[type[enum.Enum], EnumSpec] = {}


def _enum_spec(enum_type: type[enum.Enum], annotation: Any) -> EnumSpec:
    found = _ENUM_SPECS.get(enum_type)
    if found is None:
        members = enum_type.__members__.values()
        if not members:
            raise _Refused(annotation, "an enum with no members")
        if not all(type(m.value) is int or isinstance(m, int) for m in members):
            raise _Refused(annotation, "enum values are integers, as in .NET")
        found = _ENUM_SPECS[enum_type] = EnumSpec(enum_type)
    return found


def _contract(cls: type, name: str | None, namespace: str | None) -> tuple[str, str]:
    """The DataContract name and namespace of a carrier class."""
    own = cls.__dict__
    if name is None:
        name = own.get("__datacontract_name__", cls.__name__)
    if not isinstance(name, str) or _NCNAME.fullmatch(name) is None:
        raise ValueError(f"{_where(cls)}: the DataContract name {name!r} is not an XML name")
    if namespace is None:
        namespace = own.get("__datacontract_namespace__")
    if namespace is None:
        module = sys.modules.get(cls.__module__)
        namespace = getattr(module, "__datacontract_namespace__", None)
    if namespace is None:
        # DataContract's rule: the prefix, then the CLR namespace (the module's path).
        namespace = DATACONTRACT_NAMESPACE + cls.__module__
    if not isinstance(namespace, str):
        raise TypeError(f"{_where(cls)}: the DataContract namespace {namespace!r} is not a str")
    return name, namespace


# Compiled schemas by class. NOTE: weak keys: a class made at run time (a test's)
# takes its schema with it; a schema holds no reference to its class.
_CACHE: weakref.WeakKeyDictionary[type, Schema] = weakref.WeakKeyDictionary()
# One lock for reading declarations and compiling normalisers: either may start the
# other (a normaliser compile reads the catalogue), so it is re-entrant.
_LOCK = threading.RLock()


def schema_of(cls: type, *, name: str | None = None, namespace: str | None = None) -> Schema:
    """The compiled schema of a carrier class, compiled on first use and cached.

    A carrier is a ``TypedDict`` whose annotations are in the vocabulary
    (:data:`VOCABULARY`); the carriers it names are compiled with it (they may
    refer to each other and to themselves). Annotations are evaluated in the
    declaring module, so a string annotation may name a class defined later in
    it. Thread-safe: two threads asking at once get one compile and one object.

    Args:
        cls: the ``TypedDict`` class.
        name: its DataContract (XML) name; default: the class's
            ``__datacontract_name__``, else its name.
        namespace: its DataContract namespace; default: the class's
            ``__datacontract_namespace__``, else the module's, else
            ``http://schemas.datacontract.org/2004/07/`` + the module's path.
            Carriers reached from ``cls`` take their own declarations, never
            these arguments.

    Returns:
        The schema; the same object on every call for the same class.

    Raises:
        TypeError: ``cls`` is not a ``TypedDict``, or an annotation (in it or
            a carrier it reaches) is outside the vocabulary; the message names
            the carrier, the field and the allowed types.
        ValueError: ``name`` is not an XML name, or ``name``/``namespace``
            differ from those the carrier was already compiled with.
    """
    found = _CACHE.get(cls) if isinstance(cls, type) else None
    if found is None:
        if not (isinstance(cls, type) and typing.is_typeddict(cls)):
            raise TypeError(
                f"{_show(cls)} is not a TypedDict; a carrier is declared as "
                f"class Name(TypedDict) with annotations in the vocabulary: {_ALLOWED}"
            )
        with _LOCK:
            found = _CACHE.get(cls)  # another thread may have compiled it meanwhile
            if found is None:
                return _read(cls, name, namespace)
    if (name is not None and name != found.xml_name) or (
        namespace is not None and namespace != found.xml_namespace
    ):
        raise ValueError(
            f"{_where(cls)} is already compiled as {found.xml_name!r} in "
            f"{found.xml_namespace!r}; declare __datacontract_name__ / "
            f"__datacontract_namespace__ on the class to name it wherever it is used"
        )
    return found


def _read(cls: type, name: str | None, namespace: str | None) -> Schema:
    """Read ``cls`` and the carriers it reaches; publish them all (under the lock)."""
    reader = _Reader()
    found = reader.schema(cls, name, namespace)
    reader.run()
    for declared, schema in reader.pending.items():
        _CACHE[declared] = schema
    return found


def datacontract(*, name: str | None = None, namespace: str | None = None) -> Callable[[_C], _C]:
    """A class decorator declaring a carrier's DataContract name and namespace.

    The same as ``__datacontract_name__`` / ``__datacontract_namespace__`` in
    the class body, which type checkers refuse in a ``TypedDict``.

    Raises:
        ValueError: the class is already compiled (the names would not apply).
    """

    def declare(cls: _C) -> _C:
        if cls in _CACHE:
            raise ValueError(f"{_where(cls)} is already compiled; declare its names first")
        if name is not None:
            cls.__datacontract_name__ = name  # type: ignore[attr-defined]
        if namespace is not None:
            cls.__datacontract_namespace__ = namespace  # type: ignore[attr-defined]
        return cls

    return declare


# -- the built-in catalogue ------------------------------------------------------------

_CATALOGUE_MODULE = "negotiate.schema.carriers"


class _Catalogue(Mapping[str, Schema]):
    """The SuperOffice carriers by name: read-only, each compiled on first use.

    PERF: the declarations module is imported on first use too, so importing the
    package reads no carrier at all.
    """

    def __init__(self) -> None:
        self._classes: dict[str, type] | None = None
        self._folded: dict[str, str] = {}

    @property
    def classes(self) -> dict[str, type]:
        found = self._classes
        if found is None:
            module: ModuleType = importlib.import_module(_CATALOGUE_MODULE)
            declared: tuple[type, ...] = module.CARRIERS
            self._folded = {c.__name__.casefold(): c.__name__ for c in declared}
            found = self._classes = {c.__name__: c for c in declared}
        return found

    def __getitem__(self, name: str) -> Schema:
        return schema_of(self.classes[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self.classes)

    def __len__(self) -> int:
        return len(self.classes)

    def __contains__(self, name: object) -> bool:
        return name in self.classes

    def __repr__(self) -> str:
        return f"<the built-in carriers: {', '.join(self.classes)}>"

    def find(self, name: str) -> str | None:
        """The declared name ``name`` folds to, or ``None``."""
        classes = self.classes
        return name if name in classes else self._folded.get(name.casefold())


SCHEMAS: Mapping[str, Schema] = _Catalogue()
"""The built-in (SuperOffice) carriers' schemas by name, read-only, compiled on first use."""


def get_schema(name: str) -> Schema:
    """The compiled schema of a built-in carrier, by name (case-insensitive).

    Raises:
        KeyError: no such carrier; the message lists the known ones.
    """
    catalogue = typing.cast(_Catalogue, SCHEMAS)
    found = catalogue.find(name)
    if found is None:
        raise KeyError(f"unknown carrier {name!r}; known: {', '.join(catalogue)}")
    return catalogue[found]


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
                roots = [SCHEMAS[name] for name in SCHEMAS]
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


def normalizer_source(schema: Schema | None = None) -> str:
    """The generated source ``schema``'s normaliser was compiled in, for inspection.

    Args:
        schema: a carrier's schema; ``None`` for the built-in catalogue (every
            SuperOffice carrier's normaliser, one text).

    A traceback through a normaliser shows these lines (the code is registered
    with :mod:`linecache` under its own file name).
    """
    if schema is None:
        schema = get_schema("ContactEntity")
    schema.normalizer  # noqa: B018 (compiles it)
    assert schema._source is not None
    return schema._source.source
