"""A form field's text as a value: the shared scalar parsers with a form's rules.

The parsers are :mod:`negotiate.codecs._text`'s (:func:`scalar_parser`), read with
:data:`FORM_SCALARS`: an HTML checkbox's ``on``, enums by number, and what every
format shares (surrounding whitespace, flags separated by commas or spaces). Bytes
are base64 text; an empty value is empty bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from negotiate.codecs._text import FORM_SCALARS, scalar_parser
from negotiate.errors import InvalidValue
from negotiate.schema import FieldType, Kind

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
    name = str(ftype.kind.value)
    return ("An " if name[0] in "aeiou" else "A ") + name


def _leaf_parser(ftype: FieldType) -> Callable[[str], Any]:
    """The parser of a scalar field's text (:func:`scalar_parser` with the form's rules)."""
    return scalar_parser(ftype, FORM_SCALARS)


def _scalar(ftype: FieldType, text: str, key: str, *, item: bool = False) -> Any:
    if ftype.kind is Kind.STRING:
        return text
    if text == "" and item and ftype.kind is not Kind.BYTES:
        raise InvalidValue(
            f"Expected {_type_name(ftype).lower()}, got an empty value", location=key
        )
    try:
        return _leaf_parser(ftype)(text)
    except ValueError as exc:
        raise InvalidValue(str(exc), location=key) from None
