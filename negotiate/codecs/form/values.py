"""A form field's text as a value: int32, bool, double, date-time, enum.

The shared parsers of :mod:`negotiate.schema.values` with a form's leniencies on top:
an HTML checkbox's ``on``, surrounding whitespace, and flags separated by commas or
spaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from negotiate.errors import InvalidValue
from negotiate.schema import FieldType, Kind
from negotiate.schema.values import (
    EnumSpec,
    check_datetime,
    parse_bool,
    parse_double,
    parse_int32,
)

__all__ = []


def _type_name(ftype: FieldType) -> str:
    """How messages name a type: ``Person``, ``An int32``, ``an array of Person``."""
    if ftype.kind is Kind.CARRIER:
        return ftype.carrier
    if ftype.kind is Kind.ENUM:
        assert ftype.enum is not None
        return ftype.enum.name
    if ftype.item is not None:
        return f"{'an array' if ftype.kind is Kind.ARRAY else 'a dictionary'} of " + _type_name(
            ftype.item
        )
    return "A " + ftype.kind.value if ftype.kind is not Kind.INT32 else "An int32"


def _leaf_parser(ftype: FieldType) -> Callable[[str], Any]:
    kind = ftype.kind
    if kind is Kind.INT32:
        return _parse_int32
    if kind is Kind.DOUBLE:
        return parse_double
    if kind is Kind.BOOL:
        return _parse_bool
    if kind is Kind.DATETIME:
        return _parse_datetime
    assert ftype.enum is not None
    return _enum_parser(ftype.enum)


def _parse_int32(text: str) -> int:
    if len(text) < 10 and text.isdigit() and text.isascii():
        return int(text)
    return parse_int32(text)


def _parse_bool(text: str) -> bool:
    if text.strip().lower() == "on":
        return True
    return parse_bool(text)


def _parse_datetime(text: str) -> str:
    return check_datetime(text.strip())


_FLAG_SPLIT = re.compile(r"[\s,]+")


def _enum_parser(spec: EnumSpec) -> Callable[[str], str]:
    def parse(text: str) -> str:
        text = text.strip()
        digits = text.lstrip("-")
        if digits.isdigit() and text.isascii():
            significant = len(digits.lstrip("0"))
            if significant > 10:  # NOTE: before int(), which may refuse it
                raise ValueError(
                    f"Expected {spec.name} value, got a number of {significant} digits "
                    "(not defined)"
                )
            return spec.normalize(int(text))
        if spec.flags:
            return spec.normalize(", ".join(n for n in _FLAG_SPLIT.split(text) if n))
        return spec.normalize(text)

    return parse


def _scalar(ftype: FieldType, text: str, key: str, *, item: bool = False) -> Any:
    if ftype.kind is Kind.STRING:
        return text
    if text == "" and item:
        raise InvalidValue(
            f"Expected {_type_name(ftype).lower()}, got an empty value", location=key
        )
    try:
        return _leaf_parser(ftype)(text)
    except ValueError as exc:
        raise InvalidValue(str(exc), location=key) from None
