"""Scalar values: checks for decoded JSON values and parsers for text.

Checks (``check_*``) take what a JSON parser produced; parsers (``parse_*``)
take the text of an XML element or a form field. Both return the normalised
value or raise :class:`ValueError` with a message saying what was expected
and what came; the schema adds the location.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Set as AbstractSet
from enum import Enum, Flag
from typing import Any

from negotiate.errors import excerpt

__all__ = [
    "DATETIMES_SEEN",
    "DATETIME_DEFAULT",
    "INT32_MAX",
    "INT32_MIN",
    "INT64_MAX",
    "INT64_MIN",
    "EnumSpec",
    "check_datetime",
    "check_double",
    "check_int32",
    "datetime_ok",
    "describe",
    "format_double",
    "parse_bool",
    "parse_double",
    "parse_int32",
    "show_int",
]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
DATETIME_DEFAULT = "0001-01-01T00:00:00"

# NOTE: date-times stay text: Python's datetime keeps 6 fractional digits and
# .NET writes 7, so any round trip through datetime would lose data.
_DATETIME = re.compile(
    r"(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,7})?)?"
    r"(?:Z|[+-](?:0\d|1[0-4]):?[0-5]\d)?",
    re.ASCII,
)
_INT_TEXT = re.compile(r"[+-]?\d+", re.ASCII)
_DOUBLE_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def describe(value: Any) -> str:
    """A short description of a value for error messages: ``str 'abc'``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool " + ("true" if value else "false")
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if type(value) is int:
        return f"int {show_int(value)}"
    return f"{type(value).__name__} {excerpt(value, 40)}"


def show_int(value: int) -> str:
    """An integer for a message: its digits, or its size when it has very many.

    NOTE: ``str()`` of an integer past ``sys.get_int_max_str_digits()`` raises;
    an application can hand over one (a JSON parser cannot: orjson stops at 64 bits).
    """
    if value.bit_length() <= 128:
        return str(value)
    return f"an integer of {value.bit_length()} bits"


def check_int32(value: Any) -> int:
    """An int32 from a JSON number; integral floats (``5.0``) are accepted."""
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int:
        raise ValueError(f"Expected int32, got {describe(value)}")
    if not INT32_MIN <= value <= INT32_MAX:
        raise ValueError(f"Expected int32, got {show_int(value)} (out of range)")
    return value


def check_double(value: Any) -> float:
    """A double from a JSON number (integers widen to float)."""
    if type(value) is int:
        return float(value)
    if type(value) is not float or not math.isfinite(value):
        raise ValueError(f"Expected double, got {describe(value)}")
    return value


def check_datetime(value: Any) -> str:
    """A date-time as ISO 8601 text, validated and returned unchanged."""
    if type(value) is not str:
        raise ValueError(f"Expected date-time, got {describe(value)}")
    match = _DATETIME.fullmatch(value)
    if match is None:
        raise ValueError(f"Expected an ISO 8601 date-time, got {excerpt(value)}")
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if year == 0 or (day > 28 and day > calendar.monthrange(year, month)[1]):
        raise ValueError(f"Expected a valid date, got {excerpt(value)}")
    return value


# PERF: date-time texts already found valid, so that a value seen before (most are:
# the same few timestamps recur across requests) costs one set lookup, not a regex.
# Bounded: cleared when full (in place, never rebound), so hostile input cannot grow it.
_DATETIMES_SEEN: set[str] = set()
_DATETIMES_SEEN_LIMIT = 8192

DATETIMES_SEEN: AbstractSet[str] = _DATETIMES_SEEN
"""The memo of :func:`datetime_ok`, read-only: a generated fast path may test
``value in DATETIMES_SEEN`` inline before calling it (PERF: saves a call, ~15 ns,
per date-time on the common path). Only :func:`datetime_ok` adds to it."""


def datetime_ok(value: Any) -> bool:
    """Whether ``value`` is date-time text that :func:`check_datetime` accepts, memoised.

    Every codec that validates date-times on a fast path asks this, and they share
    one bounded memo.

    Args:
        value: anything; only a ``str`` can be a date-time.

    Returns:
        True for valid date-time text (returned unchanged by :func:`check_datetime`).
    """
    if type(value) is not str:
        return False
    if value in _DATETIMES_SEEN:
        return True
    try:
        check_datetime(value)
    except ValueError:
        return False
    if len(_DATETIMES_SEEN) >= _DATETIMES_SEEN_LIMIT:
        _DATETIMES_SEEN.clear()
    _DATETIMES_SEEN.add(value)
    return True


def parse_int32(text: str) -> int:
    """An int32 from text (``"42"``, ``"-7"``, ``"007"``).

    The digits are counted before ``int()`` sees them: a number too long for an
    int32 gets this module's message, never Python's ``int_max_str_digits`` one.
    """
    text = text.strip()
    if _INT_TEXT.fullmatch(text) is None:
        raise ValueError(f"Expected int32, got {excerpt(text)}")
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > 10:
        raise ValueError(f"Expected int32, got a number of {len(digits)} digits (out of range)")
    value = int(digits) if digits else 0
    return check_int32(-value if text[0] == "-" else value)


def parse_bool(text: str) -> bool:
    """A bool from text: ``true``/``false`` in any case, ``1``/``0``."""
    low = text.strip().lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise ValueError(f"Expected bool, got {excerpt(text)}")


def parse_double(text: str) -> float:
    """A finite double from text (``"59.91"``, ``"1E-05"``)."""
    text = text.strip()
    if _DOUBLE_TEXT.fullmatch(text) is None:
        raise ValueError(f"Expected double, got {excerpt(text)}")
    return check_double(float(text))


def format_double(value: float) -> str:
    """Text that parses back to exactly ``value`` (``0`` for zero, as .NET)."""
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


class EnumSpec:
    """An enum as the wire sees it: names, values, case-insensitive lookup.

    Plain enums take one name (or its integer value); flag enums take names
    joined by commas (JSON ``"Read, Write"``) and are normalised to the
    declared spelling of each name, in the order given, joined by ``", "``.
    Names are kept rather than canonicalised to one alias so that a value
    survives every round trip exactly.
    """

    def __init__(self, enum: type[Enum]) -> None:
        self.name = enum.__name__
        self.flags = issubclass(enum, Flag)
        self.values: dict[str, int] = {n: int(m.value) for n, m in enum.__members__.items()}
        self._lower = {n.lower(): n for n in reversed(self.values)}
        self._by_value: dict[int, str] = {}
        for name, value in self.values.items():
            self._by_value.setdefault(value, name)
        self.default = self._by_value.get(0, next(iter(self.values)))
        # PERF: strings seen valid and already normalised; bounded.
        self.valid: set[str] = set(self.values) if not self.flags else {self.default}

    def __repr__(self) -> str:
        return f"EnumSpec({self.name})"

    def normalize(self, value: Any) -> str:
        """The normalised name(s) for a JSON value, or ``ValueError``."""
        if type(value) is int:
            result = self._from_int(value)
        elif type(value) is str:
            result = self._from_names(value.split(",") if self.flags else [value])
        else:
            raise ValueError(f"Expected {self.name} name, got {describe(value)}")
        if len(self.valid) < 4096:
            self.valid.add(result)
        return result

    def from_xml(self, text: str) -> str:
        """Names from XML text (flags space-separated)."""
        if self.flags:
            return self._from_names(text.split())
        return self._from_names([text])

    def to_xml(self, value: str) -> str:
        """XML text for a normalised value (flags space-separated)."""
        return value.replace(", ", " ") if self.flags else value

    def to_int(self, value: str) -> int:
        """The integer a normalised value stands for."""
        total = 0
        for name in value.split(", "):
            total |= self.values[name]
        return total

    def _from_names(self, parts: list[str]) -> str:
        names = []
        for part in parts:
            key = part.strip()
            name = key if key in self.values else self._lower.get(key.lower())
            if name is None:
                allowed = ", ".join(self.values)
                raise ValueError(f"Expected {self.name} ({allowed}), got {excerpt(key)}")
            names.append(name)
        return ", ".join(names)

    def _from_int(self, value: int) -> str:
        name = self._by_value.get(value)
        if name is not None:
            return name
        if self.flags and value > 0:
            names = []
            remaining = value
            for bit_value, bit_name in self._by_value.items():
                if bit_value and bit_value & (bit_value - 1) == 0 and remaining & bit_value:
                    names.append(bit_name)
                    remaining &= ~bit_value
            if not remaining:
                return ", ".join(names)
        raise ValueError(f"Expected {self.name} value, got {show_int(value)} (not defined)")
