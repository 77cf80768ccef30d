"""The generated normalisers: two functions per carrier, written as Python source.

:func:`compile_normalizers` writes, with :class:`negotiate._codegen.Source`, one
normaliser per carrier of a catalogue and compiles them together (carriers
refer to each other). :mod:`negotiate.schema.compiled` calls it once, on first
use, and hands each :class:`~negotiate.schema.compiled.Schema` its function.

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

import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from negotiate._codegen import Source
from negotiate.errors import InvalidValue, NegotiateError, escape_pointer
from negotiate.options import Options
from negotiate.schema.kinds import Kind
from negotiate.schema.values import (
    DATETIMES_SEEN,
    INT32_MAX,
    INT32_MIN,
    EnumSpec,
    check_datetime,
    check_double,
    check_int32,
    datetime_ok,
    describe,
)

if TYPE_CHECKING:
    from negotiate.schema.compiled import Field, FieldType, Schema

__all__ = ["compile_normalizers"]

_NOT_NAME = re.compile(r"\W")


def compile_normalizers(schemas: Mapping[str, Schema]) -> Source:
    """Write and compile the normalisers of every carrier in ``schemas``.

    Args:
        schemas: the catalogue, by carrier name; every carrier a field refers to
            must be in it.

    Returns:
        The compiled source: ``namespace[f"n_{name}"]`` is the normaliser
        ``(value, depth, options) -> carrier`` of carrier ``name`` (in place),
        ``namespace[f"slow_{name}"]`` its reference path; ``source`` the text.
    """
    return _Generator(schemas).compile()


# -- what the generated code calls -------------------------------------------------


def _enum_ok(spec: EnumSpec, value: str) -> bool:
    try:
        return spec.normalize(value) == value
    except ValueError:
        return False


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
    "check_double": check_double,
    "check_datetime": check_datetime,
    "describe": describe,
}

_SCALAR_CHECKS = {
    Kind.INT32: "check_int32",
    Kind.DOUBLE: "check_double",
    Kind.DATETIME: "check_datetime",
}


# -- the generator ---------------------------------------------------------------


class _Generator:
    """Writes the source of every normaliser of one catalogue."""

    def __init__(self, schemas: Mapping[str, Schema]) -> None:
        self.schemas = schemas
        self.source = Source("schema normalizers", _NAMESPACE)
        self.helpers: dict[str, str] = {}
        self.rebinds: dict[str, str] = {}
        self.recursive = _recursive_carriers(schemas)

    def compile(self) -> Source:
        for schema in self.schemas.values():
            self.slow_carrier(schema)
            self.fast_carrier(schema)
            name = schema.name
            # NOTE: the slow path runs after the handler, not in it, so that its
            # errors do not chain the fast path's signal (and its frames) as context.
            self.source.add(
                f"def n_{name}(d, depth, opts):",
                "    try:",
                f"        return f_{name}(d, depth, opts)",
                "    except (SlowPath, KeyError, NegotiateError):",
                "        pass",
                f"    return slow_{name}(d, depth, opts)",
                "",
            )
        self.source.compile()
        return self.source

    def rebind(self, schema: Schema) -> str:
        """The name of ``schema.rebind`` in the code (one bound method per carrier)."""
        name = self.rebinds.get(schema.name)
        if name is None:
            name = self.rebinds[schema.name] = self.source.constant(
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
        out = [f"def slow_{name}(d, depth, opts):"]
        out.append(f"    if type(d) is not dict: raise _not_object(d, {name!r})")
        if name in self.recursive:
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
            return [get, f"    if type(v) is not bool: raise _not_container(v, 'bool', {key})"]
        if kind in _SCALAR_CHECKS:
            return [f"    d[{key}] = _checked({_SCALAR_CHECKS[kind]}, d[{key}], {key})"]
        if kind is Kind.ENUM:
            assert field.type.enum is not None
            spec = self.enum(field.type.enum)
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
        fname = base = "slow_value_" + _NOT_NAME.sub("_", ftype.spec)
        while fname in self.helpers.values():
            fname = f"{base}_{len(self.helpers)}"
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
        name = schema.name
        out = [f"def f_{name}(d, depth, opts):"]
        if name in self.recursive:
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
            # PERF: the bounds as literals (constants of the code object, no name lookup).
            test = f"type({var}) is not int or {var} > {INT32_MAX} or {var} < {INT32_MIN}"
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
            if ftype.carrier in self.recursive:
                return [f"{pad}{assign} = f_{ftype.carrier}({var}, depth + {level}, opts)"]
            return self.fast_block(var, self.schemas[ftype.carrier], assign, indent, level)
        if ftype.kind not in (Kind.ARRAY, Kind.DICT):
            return self.fast_scalar(var, ftype, indent)
        item = ftype.item
        assert item is not None
        xvar, ivar = f"x{level}", f"i{level}"
        too_many = f"len({var}) > opts.max_items"
        if ftype.kind is Kind.ARRAY:
            out = [f"{pad}if type({var}) is not list or {too_many}: raise SlowPath"]
            if item.kind is Kind.CARRIER:
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
        out.append(f"{pad}    if {xvar} is not None:")
        out.extend(self.fast_value(xvar, item, target, indent + 2, level + 1))
        return out


def _recursive_carriers(schemas: Mapping[str, Schema]) -> set[str]:
    """Carriers that can contain themselves (their nesting needs a depth limit)."""

    def reachable(ftype: FieldType) -> Iterator[str]:
        if ftype.kind is Kind.CARRIER:
            yield ftype.carrier
        elif ftype.item is not None:
            yield from reachable(ftype.item)

    edges = {
        name: {c for f in schema.fields for c in reachable(f.type)}
        for name, schema in schemas.items()
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
