"""The generated normalisers: two functions per carrier, written as Python source.

:func:`compile_normalizers` writes, with :class:`negotiate._codegen.Source`, one
normaliser per carrier of a graph (the carriers some roots reach, which refer to
each other) and compiles them together. :mod:`negotiate.schema.compiled` calls
it on first use of a carrier (the built-in catalogue is one graph) and hands each
:class:`~negotiate.schema.compiled.Schema` its function. A carrier reached that
was compiled in an earlier graph is called, not written again. Names are unique
per schema, not per carrier name: two carriers both named ``Address`` (from two
modules) get ``slow_Address`` and ``slow_Address_2``.

Two functions are generated per carrier, and a third that picks:

* ``slow_<Carrier>`` binds property names (exact, then case-insensitive), fills
  in defaults, checks and coerces field by field, and locates every error with
  a JSON pointer. It is the definition of what normalising means.
* ``f_<Carrier>`` (PERF) handles the common case in one straight-line function,
  with every non-recursive nested carrier inlined: dicts holding exactly the
  declared names and values already of the right type. It never raises a
  located error; at the first surprise it raises :class:`SlowPath` (or meets a
  ``KeyError`` or a ``NegotiateError``) and
* ``n_<Carrier>`` runs the slow function over the same value. That is sound
  because normalising is idempotent and in place: what the fast function
  already did is what the slow one would do. Key order is not checked on the
  fast path (a dict with exactly the declared names in another order keeps
  its order; every reader binds by name, and the XML and form writers follow
  the schema's order anyway).

The constants the code uses are named for what they are (``keys_ContactEntity``,
``rebind_ContactEntity``, ``enum_UserType``); the source is kept and registered
with :mod:`linecache`, so a traceback shows the generated line
(:func:`negotiate.schema.compiled.normalizer_source` returns it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from negotiate._codegen import SlowPath, Source
from negotiate.errors import InvalidValue, NegotiateError, escape_pointer
from negotiate.options import Options
from negotiate.schema.kinds import Kind
from negotiate.schema.values import (
    DATETIMES_SEEN,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    EnumSpec,
    check_bytes,
    check_datetime,
    check_decimal,
    check_double,
    check_guid,
    check_int32,
    check_int64,
    datetime_ok,
    describe,
    fit_decimal,
    parse_decimal,
    parse_guid,
)

if TYPE_CHECKING:
    from negotiate.schema.compiled import Field, FieldType, Schema

__all__ = ["compile_normalizers"]

_Function = Callable[[Any, int, Options], dict[str, Any]]


def compile_normalizers(
    roots: Iterable[Schema], title: str = "schema normalizers"
) -> tuple[Source, dict[Schema, tuple[_Function, _Function, _Function]]]:
    """Write and compile the normalisers of the carriers ``roots`` reach.

    Args:
        roots: the carriers to compile; those they reach are compiled with them,
            except those already compiled (``Schema._generated``), which are called.
        title: what the code is (its file name in tracebacks).

    Returns:
        The compiled source (``source`` the text) and, for every carrier written,
        its ``(fast, slow, normalizer)`` functions; the normaliser
        ``(value, depth, options) -> carrier`` works in place, ``slow`` is its
        reference path (``slow_<Carrier>`` in the code).
    """
    return _Generator(list(roots), title).compile()


# -- what the generated code calls -------------------------------------------------


def _enum_ok(spec: EnumSpec, value: str) -> bool:
    try:
        return spec.normalize(value) == value
    except ValueError:
        return False


def _fast(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``check`` for the fast path: :class:`SlowPath` instead of its ``ValueError``."""

    def fast(value: Any) -> Any:
        try:
            return check(value)
        except ValueError:
            raise SlowPath from None

    return fast


def _fast_decimal(value: Any) -> Any:
    if type(value) is int and -(2**96) < value < 2**96:
        return Decimal(value)
    try:
        if type(value) is Decimal:
            return fit_decimal(value)
        if type(value) is str:
            return parse_decimal(value)
    except ValueError:
        raise SlowPath from None
    raise SlowPath


def _fast_guid(value: Any) -> str:
    if type(value) is not str:
        raise SlowPath
    try:
        return parse_guid(value)
    except ValueError:
        raise SlowPath from None


def _checked(check: Callable[[Any], Any], value: Any, key: str) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise InvalidValue(str(exc), location="/" + escape_pointer(key)) from None


def _not_object(value: Any, carrier: str) -> InvalidValue:
    return InvalidValue(f"Expected {carrier} object, got {describe(value)}")


def _not_container(value: Any, expected: str, key: str) -> InvalidValue:
    return InvalidValue(
        f"Expected {expected}, got {describe(value)}", location="/" + escape_pointer(key)
    )


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


_NAMESPACE: dict[str, Any] = {
    "InvalidValue": InvalidValue,
    "NegotiateError": NegotiateError,
    "_checked": _checked,
    "_not_object": _not_object,
    "_not_container": _not_container,
    "_check_size": _check_size,
    "_wrong": _wrong,
    "_check_keys": _check_keys,
    "_too_deep": _too_deep,
    "_enum_ok": _enum_ok,
    "datetime_ok": datetime_ok,
    "datetimes_seen": DATETIMES_SEEN,
    "check_int32": check_int32,
    "check_int64": check_int64,
    "check_double": check_double,
    "check_decimal": check_decimal,
    "check_datetime": check_datetime,
    "check_guid": check_guid,
    "check_bytes": check_bytes,
    "fast_decimal": _fast_decimal,
    "fast_guid": _fast_guid,
    "fast_bytes": _fast(check_bytes),
    "describe": describe,
    "SlowPath": SlowPath,
    "Decimal": Decimal,
}

_SCALAR_CHECKS = {
    Kind.INT32: "check_int32",
    Kind.INT64: "check_int64",
    Kind.DOUBLE: "check_double",
    Kind.DECIMAL: "check_decimal",
    Kind.DATETIME: "check_datetime",
    Kind.GUID: "check_guid",
    Kind.BYTES: "check_bytes",
}
"""The check of each scalar kind's JSON value (``STRING`` and ``BOOL`` are inline)."""

_CONVERTED = {
    Kind.DECIMAL: "fast_decimal",
    Kind.GUID: "fast_guid",
    Kind.BYTES: "fast_bytes",
}
"""PERF: kinds whose JSON value is not yet the normalised one (a base64 string, a Guid
in capitals, an int for a decimal): the fast path converts them in place, with these."""


# -- the generator ---------------------------------------------------------------


class _Generator:
    """Writes the source of every normaliser of one graph of carriers."""

    def __init__(self, roots: list[Schema], title: str) -> None:
        self.source = Source(title, _NAMESPACE)
        self.helpers: dict[tuple[Any, ...], str] = {}
        self.rebinds: dict[Schema, str] = {}
        graph = _graph(roots)
        self.recursive = _recursive_carriers(graph)
        # The carriers written here, and the names of each one's (fast, slow) functions:
        # fixed first, as the functions call each other (recursive carriers too).
        self.written = [schema for schema in graph if schema._generated is None]
        self.names: dict[Schema, tuple[str, str]] = {}
        for schema in self.written:
            self.names[schema] = (
                self.source.name(f"f_{schema.name}"),
                self.source.name(f"slow_{schema.name}"),
            )
        for schema in graph:
            if schema._generated is not None:  # compiled earlier: called by name
                fast, slow = schema._generated
                self.names[schema] = (
                    self.source.constant(fast, f"f_{schema.name}"),
                    self.source.constant(slow, f"slow_{schema.name}"),
                )

    def compile(self) -> tuple[Source, dict[Schema, tuple[_Function, _Function, _Function]]]:
        entries: dict[Schema, str] = {}
        for schema in self.written:
            self.slow_carrier(schema)
            self.fast_carrier(schema)
            fast, slow = self.names[schema]
            entry = entries[schema] = self.source.name(f"n_{schema.name}")
            # NOTE: the slow path runs after the handler, not in it, so that its
            # errors do not chain the fast path's signal (and its frames) as context.
            self.source.add(
                f"def {entry}(d, depth, opts):",
                "    try:",
                f"        return {fast}(d, depth, opts)",
                "    except (SlowPath, KeyError, NegotiateError):",
                "        pass",
                f"    return {slow}(d, depth, opts)",
                "",
            )
        namespace = self.source.compile()
        return self.source, {
            schema: (
                namespace[self.names[schema][0]],
                namespace[self.names[schema][1]],
                namespace[entries[schema]],
            )
            for schema in self.written
        }

    def rebind(self, schema: Schema) -> str:
        """The name of ``schema.rebind`` in the code (one bound method per carrier)."""
        name = self.rebinds.get(schema)
        if name is None:
            name = self.rebinds[schema] = self.source.constant(
                schema.rebind, f"rebind_{schema.name}"
            )
        return name

    def enum(self, spec: EnumSpec) -> str:
        return self.source.constant(spec, f"enum_{spec.name}")

    # -- the slow path: bind, check, coerce, locate

    def slow_carrier(self, schema: Schema) -> None:
        name = schema.name
        keys = self.source.constant(list(schema.names), f"keys_{name}")
        rebind = self.rebind(schema)
        out = [f"def {self.names[schema][1]}(d, depth, opts):"]
        out.append(f"    if type(d) is not dict: raise _not_object(d, {name!r})")
        if schema in self.recursive:
            out.append(f"    if depth > opts.max_depth: raise _too_deep({name!r}, opts)")
        out.append(f"    if list(d) != {keys}: d = {rebind}(d, opts)")
        for field in schema.fields:
            out.extend(self.slow_field(field))
        out.append("    return d")
        self.source.extend([*out, ""])

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
            test = "type(v) is not bool" + (" and v is not None" if field.type.nullable else "")
            return [get, f"    if {test}: raise _not_container(v, 'bool', {key})"]
        if kind in _SCALAR_CHECKS or kind is Kind.ENUM:
            if kind is Kind.ENUM:
                assert field.type.enum is not None
                check = self.enum(field.type.enum) + ".normalize"
            else:
                check = _SCALAR_CHECKS[kind]
            if field.type.may_be_null:  # bytes, and nullable value types: null is a value
                return [get, f"    if v is not None: d[{key}] = _checked({check}, v, {key})"]
            return [f"    d[{key}] = _checked({check}, d[{key}], {key})"]
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
            return self.names[ftype.schema][1]
        key = _type_key(ftype)
        if key in self.helpers:
            return self.helpers[key]
        fname = self.helpers[key] = self.source.name("slow_value_" + ftype.spec)
        if ftype.kind is Kind.ARRAY:
            assert ftype.item is not None
            item = self.slow_item(ftype.item)
            # NOTE: a null item is a value only where the item type may be null (a
            # reference type or a nullable value type); an int[] item is never null.
            guard = "x is not None" if ftype.item.may_be_null else "True"
            body = [
                "    if type(v) is not list: raise _wrong('array', v)",
                "    _check_size(v, opts)",
                "    out = []",
                "    for i, x in enumerate(v):",
                f"        if {guard}:",
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
                f"        if {'x is not None' if ftype.item.may_be_null else 'True'}:",
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
                check = self.enum(ftype.enum) + ".normalize"
            else:
                check = _SCALAR_CHECKS[ftype.kind]
            body = [
                "    try:",
                f"        return {check}(v)",
                "    except ValueError as exc:",
                "        raise InvalidValue(str(exc)) from None",
            ]
        self.source.extend([f"def {fname}(v, depth, opts):", *body, ""])
        return fname

    # -- the fast path: inline, check types, give up on any surprise

    def fast_carrier(self, schema: Schema) -> None:
        out = [f"def {self.names[schema][0]}(d, depth, opts):"]
        if schema in self.recursive:
            out.append("    if depth > opts.max_depth: raise SlowPath")
        out.extend(self.fast_block("d", schema, "d", 1, 0))
        out.append("    return d")
        self.source.extend([*out, ""])

    def fast_block(
        self, var: str, schema: Schema, assign: str, indent: int, level: int
    ) -> list[str]:
        """Lines checking the carrier dict in ``var`` (known not to be None)."""
        pad = "    " * indent
        rebind = self.rebind(schema)
        target = var if assign == var else f"{var} = {assign}"
        out = [
            f"{pad}if type({var}) is not dict: raise SlowPath",
            f"{pad}if len({var}) != {len(schema.fields)}: {target} = {rebind}({var}, opts)",
        ]
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
                f"{pad}if type(v) is not str and v is not None: raise SlowPath",
            ]
        if ftype.is_value_type or ftype.kind is Kind.BYTES:
            target = f"{var}[{key}]"
            if ftype.may_be_null:
                return [
                    f"{pad}v = {target}",
                    f"{pad}if v is not None:",
                    *self.fast_scalar("v", ftype, indent + 1, target),
                ]
            return [f"{pad}v = {target}", *self.fast_scalar("v", ftype, indent, target)]
        cvar = f"c{level}"
        return [
            f"{pad}{cvar} = {var}[{key}]",
            f"{pad}if {cvar} is not None:",
            *self.fast_value(cvar, ftype, f"{var}[{key}]", indent + 1, level + 1),
        ]

    def fast_scalar(self, var: str, ftype: FieldType, indent: int, assign: str) -> list[str]:
        """Lines checking the non-null scalar in ``var`` (converted into ``assign``)."""
        pad = "    " * indent
        kind = ftype.kind
        converted = _CONVERTED.get(kind)
        if converted is not None:
            assert assign, ftype.spec
            if kind is Kind.DECIMAL:
                # PERF: fit_decimal's first test inline: a short plain Decimal fits as it is
                return [
                    f"{pad}if type({var}) is not Decimal or len(tx := str({var})) > 28 "
                    f"or 'E' in tx or not tx[-1].isdigit(): {assign} = {converted}({var})"
                ]
            return [f"{pad}{assign} = {converted}({var})"]
        if kind is Kind.STRING:
            test = f"type({var}) is not str"
        elif kind is Kind.BOOL:
            test = f"type({var}) is not bool"
        elif kind is Kind.INT32:
            # PERF: the bounds as literals (constants of the code object, no name lookup).
            test = f"type({var}) is not int or {var} > {INT32_MAX} or {var} < {INT32_MIN}"
        elif kind is Kind.INT64:
            test = f"type({var}) is not int or {var} > {INT64_MAX} or {var} < {INT64_MIN}"
        elif kind is Kind.DOUBLE:
            test = f"type({var}) is not float or {var} - {var} != 0.0"
        elif kind is Kind.DATETIME:
            # PERF: the memo's lookup inline; only a text not seen yet costs a call.
            test = (
                f"type({var}) is not str or "
                f"({var} not in datetimes_seen and not datetime_ok({var}))"
            )
        else:
            assert ftype.enum is not None
            spec = self.enum(ftype.enum)
            valid = self.source.constant(ftype.enum.valid, f"valid_{ftype.enum.name}")
            test = (
                f"type({var}) is not str or ({var} not in {valid} and not _enum_ok({spec}, {var}))"
            )
        return [f"{pad}if {test}: raise SlowPath"]

    def fast_value(
        self, var: str, ftype: FieldType, assign: str, indent: int, level: int
    ) -> list[str]:
        """Lines checking the non-null value in ``var``."""
        pad = "    " * indent
        if ftype.kind is Kind.CARRIER:
            nested = ftype.schema
            if nested in self.recursive:
                fast = self.names[nested][0]
                return [f"{pad}{assign} = {fast}({var}, depth + {level}, opts)"]
            return self.fast_block(var, nested, assign, indent, level)
        if ftype.kind not in (Kind.ARRAY, Kind.DICT):
            return self.fast_scalar(var, ftype, indent, assign)
        item = ftype.item
        assert item is not None
        xvar, ivar = f"x{level}", f"i{level}"
        too_many = f"len({var}) > opts.max_items"
        if ftype.kind is Kind.ARRAY:
            out = [f"{pad}if type({var}) is not list or {too_many}: raise SlowPath"]
            if item.kind is Kind.CARRIER or item.kind in _CONVERTED:
                out.append(f"{pad}for {ivar}, {xvar} in enumerate({var}):")
                target = f"{var}[{ivar}]"
            else:
                out.append(f"{pad}for {xvar} in {var}:")
                target = ""
        else:
            out = [f"{pad}if type({var}) is not dict or {too_many}: raise SlowPath"]
            out.append(f"{pad}for {ivar}, {xvar} in {var}.items():")
            out.append(f"{pad}    if type({ivar}) is not str: raise SlowPath")
            target = f"{var}[{ivar}]"
        if item.may_be_null:
            out.append(f"{pad}    if {xvar} is not None:")
            out.extend(self.fast_value(xvar, item, target, indent + 2, level + 1))
        else:  # a null item of a value type: the slow path refuses it
            out.extend(self.fast_value(xvar, item, target, indent + 1, level + 1))
        return out


def _type_key(ftype: FieldType) -> tuple[Any, ...]:
    """What makes two field types the same type: kinds, enums and carrier schemas."""
    if ftype.kind is Kind.CARRIER:
        return (ftype.kind, id(ftype.schema))
    if ftype.item is not None:
        return (ftype.kind, _type_key(ftype.item))
    return (ftype.kind, id(ftype.enum), ftype.nullable)


def _targets(ftype: FieldType) -> Iterator[Schema]:
    if ftype.kind is Kind.CARRIER:
        yield ftype.schema
    elif ftype.item is not None:
        yield from _targets(ftype.item)


def _graph(roots: list[Schema]) -> list[Schema]:
    """The roots and every carrier they reach, each once, in the order met."""
    seen = set(roots)
    order = list(roots)
    for schema in order:
        for field in schema.fields:
            for target in _targets(field.type):
                if target not in seen:
                    seen.add(target)
                    order.append(target)
    return order


def _recursive_carriers(graph: list[Schema]) -> set[Schema]:
    """Carriers that can contain themselves (their nesting needs a depth limit)."""
    edges = {schema: {t for f in schema.fields for t in _targets(f.type)} for schema in graph}
    recursive = set()
    for start in edges:
        seen: set[Schema] = set()
        stack = list(edges[start])
        while stack:
            node = stack.pop()
            if node is start:
                recursive.add(start)
                break
            if node not in seen:
                seen.add(node)
                stack.extend(edges[node])
    return recursive
