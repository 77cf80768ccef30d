"""Writing a form body: the WHATWG serializer and one writer per carrier.

A carrier's writer is built once per schema and expects a normalised value; anything
else raises :class:`~negotiate._codegen.SlowPath`, and :meth:`FormCodec.encode`
normalises the value and writes it again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from negotiate._codegen import SlowPath
from negotiate.errors import EncodeError, escape_pointer
from negotiate.schema import FieldType, Kind, Schema
from negotiate.schema.values import (
    INT32_MAX,
    INT32_MIN,
    EnumSpec,
    check_bytes,
    check_datetime,
    check_int64,
    describe,
    fit_decimal,
    format_bytes,
    format_decimal,
    format_double,
    parse_guid,
)

__all__ = []


# WHATWG application/x-www-form-urlencoded byte serializer: alphanumerics and *-._ stay,
# space is '+', everything else is %XX of its UTF-8 bytes.
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._")
_TABLE = {b: ("+" if b == 0x20 else f"%{b:02X}") for b in range(256) if b not in _SAFE}
_SAFE_TEXT = re.compile(r"[A-Za-z0-9*\-._]*")


def _quote(text: str) -> str:
    """Escape one key or value (PERF: C-level translate over the UTF-8 bytes)."""
    if _SAFE_TEXT.fullmatch(text):
        return text
    return text.encode("utf-8").decode("latin-1").translate(_TABLE)


_Writer = Callable[[list[str], str, Any], None]


class _Writers:
    """One writing function per carrier: ``(out, prefix, value)`` appends ``key=value``."""

    def __init__(self) -> None:
        self.carriers: dict[Schema, _Writer] = {}

    def carrier(self, schema: Schema) -> _Writer:
        found = self.carriers.get(schema)
        if found is not None:
            return found
        plan: list[tuple[str, str, Callable[[list[str], str, Any], None]]] = []
        size = len(schema.fields)

        def write(out: list[str], prefix: str, value: Any) -> None:
            if type(value) is not dict or len(value) != size:
                raise SlowPath
            for name, quoted, put in plan:
                item = value[name]
                if item is not None:
                    put(out, prefix + quoted, item)

        # NOTE: registered before its fields are planned: carriers can be recursive.
        self.carriers[schema] = write
        plan.extend((f.name, _quote(f.name), self.field(f.type)) for f in schema.fields)
        return write

    def field(self, ftype: FieldType) -> Callable[[list[str], str, Any], None]:
        """A function writing a non-null value of ``ftype`` at a (quoted) key."""
        kind = ftype.kind
        if kind is Kind.STRING:

            def put_string(out: list[str], key: str, value: Any) -> None:
                if type(value) is not str:
                    raise SlowPath
                out.append(f"{key}={_quote(value)}")

            return put_string
        if kind is Kind.INT32:

            def put_int(out: list[str], key: str, value: Any) -> None:
                if type(value) is not int or not INT32_MIN <= value <= INT32_MAX:
                    raise SlowPath
                out.append(f"{key}={value}")

            return put_int
        if kind is Kind.BOOL:

            def put_bool(out: list[str], key: str, value: Any) -> None:
                if value is True:
                    out.append(key + "=true")
                elif value is False:
                    out.append(key + "=false")
                else:
                    raise SlowPath

            return put_bool
        if kind is Kind.DOUBLE:

            def put_double(out: list[str], key: str, value: Any) -> None:
                if type(value) is not float:
                    raise SlowPath
                if not math.isfinite(value):
                    raise SlowPath  # the normaliser refuses it, located
                text = "-0" if value == 0.0 and math.copysign(1.0, value) < 0 else None
                out.append(f"{key}={_quote(text or format_double(value))}")

            return put_double
        if kind is Kind.DATETIME:

            def put_datetime(out: list[str], key: str, value: Any) -> None:
                try:
                    check_datetime(value)
                except ValueError:
                    raise SlowPath from None
                out.append(f"{key}={_quote(value)}")

            return put_datetime
        plain = _PLAIN.get(kind)
        if plain is not None:

            def put_plain(out: list[str], key: str, value: Any) -> None:
                out.append(f"{key}={_quote(plain(value))}")

            return put_plain
        if kind is Kind.ENUM:
            spec = ftype.enum
            assert spec is not None

            def put_enum(out: list[str], key: str, value: Any) -> None:
                if type(value) is not str or (
                    value not in spec.valid and not _enum_normal(spec, value)
                ):
                    raise SlowPath
                out.append(f"{key}={_quote(value)}")

            return put_enum
        if kind is Kind.CARRIER:
            writer = self.carrier(ftype.schema)

            def put_carrier(out: list[str], key: str, value: Any) -> None:
                writer(out, key + ".", value)

            return put_carrier
        assert ftype.item is not None
        item = self.item(ftype.item)
        if kind is Kind.ARRAY:

            def put_array(out: list[str], key: str, value: Any) -> None:
                if type(value) is not list:
                    raise SlowPath
                if not value:
                    out.append(key + "=")
                for index, element in enumerate(value):
                    item(out, f"{key}%5B{index}%5D", element)

            return put_array

        def put_dict(out: list[str], key: str, value: Any) -> None:
            if type(value) is not dict:
                raise SlowPath
            if not value:
                out.append(key + "=")
                return
            if any("]" in k for k in value if type(k) is str):
                for index, (name, element) in enumerate(value.items()):
                    if type(name) is not str:
                        raise SlowPath
                    pair = f"{key}%5B{index}%5D."
                    out.append(f"{pair}Key={_quote(name)}")
                    item(out, pair + "Value", element)
                return
            for name, element in value.items():
                if type(name) is not str:
                    raise SlowPath
                item(out, f"{key}%5B{_quote(name)}%5D", element)

        return put_dict

    def item(self, ftype: FieldType) -> Callable[[list[str], str, Any], None]:
        """Like :meth:`field`, for an array item or dictionary value, which may be null."""
        put = self.field(ftype)
        if ftype.kind in (Kind.STRING, Kind.ARRAY, Kind.BYTES):

            def put_item(out: list[str], key: str, value: Any) -> None:
                if value is None:
                    out.append(key + "=")  # reads back as "" or [] (package docstring)
                else:
                    put(out, key, value)

            return put_item
        if ftype.kind is Kind.CARRIER:

            def put_carrier_item(out: list[str], key: str, value: Any) -> None:
                size = len(out)
                if value is not None:
                    put(out, key, value)
                if len(out) == size:
                    out.append(key + "=")  # null, or every property null: reads as null

            return put_carrier_item

        def put_value_item(out: list[str], key: str, value: Any) -> None:
            if value is None:
                raise EncodeError(f"A null {ftype.spec} item cannot be written in a form")
            put(out, key, value)

        return put_value_item


def _normal(check: Callable[[Any], Any], value: Any) -> Any:
    """``value`` if ``check`` finds it normalised (the same object back), else SlowPath."""
    try:
        if check(value) is not value:
            raise SlowPath
    except ValueError:
        raise SlowPath from None
    return value


def _text_int64(value: Any) -> str:
    if type(value) is not int:
        raise SlowPath
    return str(_normal(check_int64, value))


def _text_decimal(value: Any) -> str:
    if type(value) is not Decimal:
        raise SlowPath
    return format_decimal(_normal(fit_decimal, value))


def _text_guid(value: Any) -> str:
    if type(value) is not str:
        raise SlowPath
    return str(_normal(parse_guid, value))


def _text_bytes(value: Any) -> str:
    if type(value) is not bytes:
        raise SlowPath
    return format_bytes(_normal(check_bytes, value))


_PLAIN: dict[Kind, Callable[[Any], str]] = {
    Kind.INT64: _text_int64,
    Kind.DECIMAL: _text_decimal,
    Kind.GUID: _text_guid,
    Kind.BYTES: _text_bytes,
}
"""The text of a normalised value of these kinds (SlowPath for any other value)."""


def _enum_normal(spec: EnumSpec, value: str) -> bool:
    try:
        return spec.normalize(value) == value
    except ValueError:
        return False


_WRITERS = _Writers()


def _write_plain(value: Any) -> bytes:
    """A form body from a flat dict, without a schema (:meth:`FormCodec.encode`)."""
    if not isinstance(value, dict):
        raise EncodeError(f"Without a schema, a form is written from a dict, got {describe(value)}")
    out: list[str] = []
    for key, item in value.items():
        if not isinstance(key, str):
            raise EncodeError(f"Expected string keys, got {describe(key)}")
        where = "/" + escape_pointer(key)
        for text in item if isinstance(item, list) else [item]:
            try:
                out.append(f"{_quote(key)}={_quote(_plain_text(text, where))}")
            except UnicodeEncodeError:
                raise EncodeError(
                    "A string holds a lone surrogate, which UTF-8 cannot carry",
                    location=where,
                ) from None
    return "&".join(out).encode("ascii")


def _surrogate(value: Any) -> str:
    """The JSON pointer of the first string (or key) holding a lone surrogate."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return where
        elif isinstance(node, dict):
            for key, child in reversed(node.items()):
                here = where + "/" + escape_pointer(str(key))
                if isinstance(key, str) and _SURROGATE.search(key):
                    return here
                stack.append((child, here))
        elif isinstance(node, list):
            stack.extend((child, f"{where}/{i}") for i, child in reversed(list(enumerate(node))))
    return ""


_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return format_double(value)
    raise EncodeError(f"Cannot write {describe(value)} as a form value", location=where)
