"""Reading carrier declarations: :func:`schema_of` and the built-in catalogue.

A carrier is a ``TypedDict``. :func:`schema_of` reads its annotations, and
those of every carrier it reaches, into :class:`~negotiate.schema.compiled.FieldType`
trees, once per class (cached by class, under one lock), naming each after its
DataContract (:func:`datacontract`). The SuperOffice carriers of
:mod:`negotiate.schema.carriers` are the built-in catalogue, read by the same
reader the first time one is asked for (:func:`get_schema`, :data:`SCHEMAS`).
The model it builds, and the normalisers compiled from it, are
:mod:`negotiate.schema.compiled`'s.
"""

from __future__ import annotations

import decimal
import enum
import importlib
import re
import sys
import typing
import weakref
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType, NoneType, UnionType
from typing import Any, TypeVar

from negotiate.schema.compiled import _LOCK, Field, FieldType, Schema, _install_catalogue
from negotiate.schema.kinds import Kind
from negotiate.schema.values import EnumSpec
from negotiate.schema.vocabulary import DATACONTRACT_NAMESPACE, DateTime, Guid, Int64

__all__ = [
    "SCHEMAS",
    "VOCABULARY",
    "datacontract",
    "get_schema",
    "schema_of",
]

# -- the vocabulary ------------------------------------------------------------------

_SCALARS: dict[Any, Kind] = {
    int: Kind.INT32,
    float: Kind.DOUBLE,
    bool: Kind.BOOL,
    str: Kind.STRING,
    DateTime: Kind.DATETIME,
    Int64: Kind.INT64,
    decimal.Decimal: Kind.DECIMAL,
    Guid: Kind.GUID,
    bytes: Kind.BYTES,
}
"""The scalar annotations of the vocabulary and their kinds.

NOTE: a new primitive is an entry here, once its :class:`Kind`, its checks and its
codecs exist. Nullable value types (``int | None``, .NET ``int?``) need no entry:
they keep their kind and set :attr:`FieldType.nullable`."""

_SHOWN: dict[Any, str] = {DateTime: "DateTime", Int64: "Int64", Guid: "Guid"}

VOCABULARY: tuple[str, ...] = (
    "int",
    "Int64",
    "float",
    "decimal.Decimal",
    "bool",
    "str",
    "bytes",
    "DateTime",
    "Guid",
    "Annotated[str, SomeEnum]",
    "list[T]",
    "dict[str, T]",
    "a carrier (a TypedDict)",
    "T | None (null is a value of every type: the default of a value type declared so)",
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
    shown = _SHOWN.get(annotation) if isinstance(annotation, typing.NewType) else None
    if shown is not None:
        return shown
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
            if inner.is_value_type and not inner.nullable:
                # .NET Nullable<T>: the value type's kind, with null a value (and the default)
                inner = FieldType(inner.kind, enum=inner.enum, nullable=True)
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


_install_catalogue(SCHEMAS)
