"""What the JSON Schema and XSD exports share: the date-time grammar, the scalar kinds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from negotiate.schema.compiled import FieldType, Kind
from negotiate.schema.values import (
    DECIMAL_MAX,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    EnumSpec,
)

__all__ = []

# -- the date-time grammar ---------------------------------------------------------------
#
# NOTE: one expression in the common subset of XSD regular expressions, ECMA-262
# (JSON Schema's dialect) and Python's re (what the jsonschema package runs): plain
# groups only (XSD has no (?:...)), [0-9] rather than \d (Unicode digits in XSD and
# in Python's str patterns). The calendar is spelled out: months of 30 and 31 days,
# February 29 in the years the proleptic Gregorian calendar makes leap years (as
# Python's calendar module does), and no year 0000.
_YEAR = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP_YEAR = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = (
    "((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])"
    "|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    "|02-(0[1-9]|1[0-9]|2[0-8]))"
)
_TIME = "T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,7})?)?"
_OFFSET = "(Z|[+-](0[0-9]|1[0-4]):?[0-5][0-9])?"
_DATETIME: Final = f"({_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29){_TIME}{_OFFSET}"


# The Guid text the codecs write (lowercase), and base64 as they write it (padded).
_GUID_WRITTEN: Final = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_BASE64: Final = "([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
GUID_PATTERN: Final = "[\\da-fA-F]{8}-[\\da-fA-F]{4}-[\\da-fA-F]{4}-[\\da-fA-F]{4}-[\\da-fA-F]{12}"
"""DataContractSerializer's pattern of ``ser:guid`` (its Serialization schema's)."""


def _anchored(expression: str) -> str:
    """A JSON Schema ``pattern`` (unanchored by definition) that matches the whole string.

    NOTE: ``(?!\\n)`` before ``$``: Python's ``$`` also matches before a final newline,
    ECMA-262's does not; with the lookahead both mean the end of the string.
    """
    return f"^{expression}(?!\\n)$"


# -- the scalar kinds --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scalar:
    """How one scalar kind is exported.

    Attributes:
        json: the JSON Schema of a non-null value.
        xsd: the XML Schema built-in type (local name in the ``xs`` namespace).
        item: the element name of an array item, in the Arrays namespace (.NET's
            primitive contract name: ``string``, ``int``).
        restricted: ``(name, pattern)`` when the XML type is a named restriction of
            ``xsd`` by a pattern, defined in each document that uses it.
    """

    json: Mapping[str, Any]
    xsd: str
    item: str
    restricted: tuple[str, str] | None = None


_SCALARS: Final[Mapping[Kind, _Scalar]] = {
    Kind.INT32: _Scalar(
        {"type": "integer", "format": "int32", "minimum": INT32_MIN, "maximum": INT32_MAX},
        "int",
        "int",
    ),
    # NOTE: JSON cannot carry NaN or infinities and the codecs refuse them: a number.
    Kind.DOUBLE: _Scalar({"type": "number", "format": "double"}, "double", "double"),
    Kind.BOOL: _Scalar({"type": "boolean"}, "boolean", "boolean"),
    Kind.STRING: _Scalar({"type": "string"}, "string", "string"),
    Kind.DATETIME: _Scalar(
        {"type": "string", "pattern": _anchored(_DATETIME)},
        "string",
        "dateTime",
        restricted=("DateTime", _DATETIME),
    ),
    Kind.INT64: _Scalar(
        {"type": "integer", "format": "int64", "minimum": INT64_MIN, "maximum": INT64_MAX},
        "long",
        "long",
    ),
    # NOTE: written as a JSON number with its exact digits (as Json.NET writes one); the
    # readers also take the number's text as a string, which a schema of what the codecs
    # write leaves out. The bounds are the 96-bit coefficient's, at scale 0.
    Kind.DECIMAL: _Scalar(
        {"type": "number", "format": "decimal", "minimum": -DECIMAL_MAX, "maximum": DECIMAL_MAX},
        "decimal",
        "decimal",
    ),
    # NOTE: the XSD type is DataContract's ser:guid (see xmlschema), not a local one.
    Kind.GUID: _Scalar(
        {"type": "string", "format": "uuid", "pattern": _anchored(_GUID_WRITTEN)},
        "string",
        "guid",
    ),
    Kind.BYTES: _Scalar(
        {"type": "string", "contentEncoding": "base64", "pattern": _anchored(_BASE64)},
        "base64Binary",
        "base64Binary",
    ),
}


def _nullable(ftype: FieldType) -> bool:
    """Whether a value of this type may be null (.NET reference types and ``int?``)."""
    return ftype.may_be_null


def _item(ftype: FieldType) -> FieldType:
    assert ftype.item is not None, ftype.spec
    return ftype.item


def _enum(ftype: FieldType) -> EnumSpec:
    assert ftype.enum is not None, ftype.spec
    return ftype.enum


def _enum_signature(spec: EnumSpec) -> tuple[Any, ...]:
    return ("enum", spec.name, spec.flags, tuple(spec.values.items()))
