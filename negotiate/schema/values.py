"""Scalar values: checks for decoded JSON values and parsers for text.

Checks (``check_*``) take what a JSON parser produced; parsers (``parse_*``)
take the text of an XML element or a form field. Both return the normalised
value or raise :class:`ValueError` with a message saying what was expected
and what came; the schema adds the location.
"""

from __future__ import annotations

import binascii
import calendar
import math
import re
from collections.abc import Set as AbstractSet
from decimal import Decimal, DecimalException
from enum import Enum, Flag
from typing import Any

from negotiate.errors import excerpt

__all__ = [
    "DATETIMES_SEEN",
    "DATETIME_DEFAULT",
    "DECIMAL_DEFAULT",
    "DECIMAL_MAX",
    "DECIMAL_MAX_SCALE",
    "GUID_DEFAULT",
    "INT32_MAX",
    "INT32_MIN",
    "INT64_MAX",
    "INT64_MIN",
    "EnumSpec",
    "check_bytes",
    "check_datetime",
    "check_decimal",
    "check_double",
    "check_guid",
    "check_int32",
    "check_int64",
    "fit_decimal",
    "datetime_ok",
    "describe",
    "format_bytes",
    "format_decimal",
    "format_double",
    "parse_bool",
    "parse_bytes",
    "parse_decimal",
    "parse_double",
    "parse_guid",
    "parse_int32",
    "parse_int64",
    "show_int",
]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
DATETIME_DEFAULT = "0001-01-01T00:00:00"
GUID_DEFAULT = "00000000-0000-0000-0000-000000000000"
DECIMAL_DEFAULT = Decimal(0)
DECIMAL_MAX = 2**96 - 1
"""The largest coefficient of a .NET ``decimal`` (96 bits): 79228162514264337593543950335."""
DECIMAL_MAX_SCALE = 28
"""The most decimal places a .NET ``decimal`` carries."""
_EXACT_FLOAT = 2**53  # every integer up to here is exactly a double; beyond, not all are

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
    if type(value) is Decimal:
        return f"number {excerpt(str(value), 40)}"
    if isinstance(value, bytes | bytearray):
        return f"bytes of length {len(value)}"
    return f"{type(value).__name__} {excerpt(value, 40)}"


def show_int(value: int) -> str:
    """An integer for a message: its digits, or its size when it has very many.

    NOTE: ``str()`` of an integer past ``sys.get_int_max_str_digits()`` raises;
    an application can hand over one (a JSON parser cannot: orjson stops at 64 bits).
    """
    if value.bit_length() <= 128:
        return str(value)
    return f"an integer of {value.bit_length()} bits"


def _integral(value: Any, digits: int) -> Any:
    """An integral float or Decimal as an ``int`` (``5.0`` is 5), else ``value`` itself.

    NOTE: a Decimal comes from the JSON reader of a schema with decimals (it reads
    every fraction as one, see :mod:`negotiate.codecs._text`), so ``5.0`` must mean
    the same there as orjson's float does. Only integers of at most ``digits``
    digits are converted (beyond, the range check fails anyway): never a huge int.
    """
    if type(value) is float:
        if value.is_integer() and abs(value) < _EXACT_FLOAT:
            return int(value)
    elif type(value) is Decimal and value.is_finite():
        if value.is_zero():
            return 0  # NOTE: adjusted() of a zero is its exponent: 0E+20 is 0
        if value.adjusted() < digits and value == value.to_integral_value():
            return int(value)
    return value


def check_int32(value: Any) -> int:
    """An int32 from a JSON number; integral floats (``5.0``) are accepted."""
    if type(value) is not int:
        value = _integral(value, 11)
        if type(value) is not int:
            raise ValueError(f"Expected int32, got {describe(value)}")
    if not INT32_MIN <= value <= INT32_MAX:
        raise ValueError(f"Expected int32, got {show_int(value)} (out of range)")
    return value


def check_int64(value: Any) -> int:
    """An int64 from a JSON number, exactly.

    Integral numbers written with a fraction (``5.0``) are accepted as for int32,
    while they are exact: a float (orjson's reading of a number past 2^64, or an
    application's) only up to 2^53, beyond which it cannot tell integers apart.
    """
    if type(value) is not int:
        value = _integral(value, 20)
        if type(value) is not int:
            if type(value) is float and value.is_integer():
                raise ValueError(
                    f"Expected int64, got {describe(value)} (not exact: a number past 2^53 "
                    "is only exact written as an integer, within the int64 range)"
                )
            raise ValueError(f"Expected int64, got {describe(value)}")
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"Expected int64, got {show_int(value)} (out of range)")
    return value


def check_double(value: Any) -> float:
    """A double from a JSON number (integers and decimals widen to float)."""
    if type(value) is int:
        return float(value)
    if type(value) is Decimal:
        # NOTE: Decimal to float rounds correctly: the same double orjson reads.
        converted = float(value) if value.is_finite() else math.nan
        if math.isfinite(converted):
            return converted
    if type(value) is not float or not math.isfinite(value):
        raise ValueError(f"Expected double, got {describe(value)}")
    return value


def check_decimal(value: Any) -> Decimal:
    """A .NET ``decimal`` from a JSON number or string, exactly.

    Accepts a ``Decimal`` (what the JSON reader of a schema with decimals makes of a
    number with a fraction or an exponent), an ``int`` or decimal text. Refuses a
    float: it has already lost the digits that were sent (see :func:`fit_decimal`
    for the range).
    """
    if type(value) is Decimal:
        return fit_decimal(value)
    if type(value) is int:
        if -DECIMAL_MAX <= value <= DECIMAL_MAX:
            return Decimal(value)
        raise ValueError(f"Expected decimal, got {show_int(value)} (out of range)")
    if type(value) is str:
        return parse_decimal(value)
    if type(value) is float:
        raise ValueError(
            f"Expected decimal, got {describe(value)}: a float cannot carry a decimal "
            "exactly; give a Decimal, an int or the number's text"
        )
    raise ValueError(f"Expected decimal, got {describe(value)}")


def fit_decimal(value: Decimal) -> Decimal:
    """``value`` as a .NET ``decimal`` holds it, exactly, or ``ValueError``.

    .NET's decimal is a 96-bit coefficient with 0 to 28 decimal places. The value
    keeps its digits and scale (``0.10`` stays ``0.10``), except that a positive
    exponent is written out (``1E+2`` is ``100``) and trailing zeros past the 28th
    place or the 96 bits are dropped; NaN, infinities, more places or more digits
    than that, and magnitudes of 2^96 and beyond are refused.
    """
    # PERF: most decimals are short plain text ("12.50"): at most 28 characters, so at
    # most 28 digits (under 2^96) and 27 places, and no exponent: they fit as they are.
    # Only the others take the exact path below (as_tuple() builds a tuple of digits:
    # several times the cost of this test).
    text = str(value)
    if len(text) <= 28 and "E" not in text and text[-1].isdigit():
        return value
    if not value.is_finite():
        raise ValueError(f"Expected decimal, got {excerpt(text)} (not a number)")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if value.is_zero():
        if -DECIMAL_MAX_SCALE <= exponent <= 0:
            return value
        return Decimal((sign, (0,), min(max(exponent, -DECIMAL_MAX_SCALE), 0)))
    # NOTE: the magnitude first, from the exponent alone: "1E+999999999" costs nothing.
    if value.adjusted() > 28:
        raise ValueError(f"Expected decimal, got {excerpt(str(value))} (out of range)")
    if exponent > 0:
        digits, exponent = digits + (0,) * exponent, 0
    trailing = _trailing_zeros(digits)
    drop = max(0, -DECIMAL_MAX_SCALE - exponent)
    if drop > trailing:
        raise ValueError(
            f"Expected decimal, got {excerpt(str(value))} (more than "
            f"{DECIMAL_MAX_SCALE} decimal places)"
        )
    if len(digits) - drop > 29 or _coefficient(digits[: len(digits) - drop]) > DECIMAL_MAX:
        # dropping every trailing zero of the fraction is the last resort
        drop = min(trailing, -exponent) if exponent < 0 else 0
        if len(digits) - drop > 29 or _coefficient(digits[: len(digits) - drop]) > DECIMAL_MAX:
            raise ValueError(
                f"Expected decimal, got {excerpt(str(value))} (more digits than .NET's "
                "decimal carries: 96 bits, 28-29 significant digits)"
            )
    if drop:
        digits, exponent = digits[: len(digits) - drop], exponent + drop
    fitted = Decimal((sign, digits, exponent))
    return value if fitted.as_tuple() == value.as_tuple() else fitted


def _trailing_zeros(digits: tuple[int, ...]) -> int:
    count = 0
    for digit in reversed(digits):
        if digit:
            break
        count += 1
    return count


def _coefficient(digits: tuple[int, ...]) -> int:
    return int("".join(map(str, digits))) if digits else 0


def format_decimal(value: Decimal) -> str:
    """The text of a normalised decimal: fixed-point, every digit and place (``0.10``).

    NOTE: as .NET writes a decimal (never an exponent); it reads back to the same
    digits and scale, since a normalised decimal has no positive exponent.
    """
    return format(value, "f")


_GUID_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_GUID_TEXT = re.compile(
    r"(?P<b>\{)?(?P<p>\()?"
    r"(?P<d>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|[0-9A-Fa-f]{32})"
    r"(?P<e>\})?(?P<q>\))?",
    re.ASCII,
)


def parse_guid(text: str) -> str:
    """A Guid from text, normalised to lowercase ``8-4-4-4-12``.

    Takes .NET's ``D``, ``N``, ``B`` and ``P`` forms (``Guid.Parse``): hyphenated,
    32 bare digits, in braces or in parentheses, any case, surrounding whitespace
    ignored. Not the ``X`` form (``{0x...,{0x...}}``), which nothing writes.
    """
    if _GUID_CANONICAL.fullmatch(text) is not None:
        return text
    match = _GUID_TEXT.fullmatch(text.strip())
    if (
        match is None
        or (match["b"] is None) != (match["e"] is None)
        or (match["p"] is None) != (match["q"] is None)
        or (match["b"] is not None and match["p"] is not None)
    ):
        raise ValueError(f"Expected a Guid (8-4-4-4-12 hex digits), got {excerpt(text)}")
    digits = match["d"].replace("-", "").lower()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def check_guid(value: Any) -> str:
    """A Guid from a JSON string (:func:`parse_guid`)."""
    if type(value) is not str:
        raise ValueError(f"Expected Guid, got {describe(value)}")
    return parse_guid(value)


def parse_bytes(text: str) -> bytes:
    """Bytes from base64 text, strictly: the standard alphabet, padded, canonical.

    Surrounding whitespace is ignored (as for every scalar read from text); anything
    else outside the alphabet, missing or excess padding and non-zero spare bits
    (``Zh==`` for ``Zg==``) are refused, so that one value has one text.
    """
    text = text.strip()
    try:
        data = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"Expected base64, got {excerpt(text)}") from None
    if binascii.b2a_base64(data, newline=False) != text.encode("ascii"):
        raise ValueError(f"Expected base64, got {excerpt(text)} (not canonical)")
    return data


def check_bytes(value: Any) -> bytes:
    """Bytes from a JSON string of base64 (:func:`parse_bytes`), or bytes as they are."""
    if type(value) is bytes:
        return value
    if type(value) is str:
        return parse_bytes(value)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise ValueError(f"Expected base64 bytes, got {describe(value)}")


def format_bytes(value: bytes) -> str:
    """Bytes as base64 text (standard alphabet, padded): JSON, XML and form alike."""
    return binascii.b2a_base64(value, newline=False).decode("ascii")


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


def parse_int64(text: str) -> int:
    """An int64 from text, as :func:`parse_int32` reads an int32."""
    text = text.strip()
    if _INT_TEXT.fullmatch(text) is None:
        raise ValueError(f"Expected int64, got {excerpt(text)}")
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > 19:
        raise ValueError(f"Expected int64, got a number of {len(digits)} digits (out of range)")
    value = int(digits) if digits else 0
    return check_int64(-value if text[0] == "-" else value)


def parse_decimal(text: str) -> Decimal:
    """A .NET decimal from text (``"0.10"``, ``"-1E-28"``), exactly (:func:`fit_decimal`).

    The grammar is :func:`parse_double`'s: no ``NaN``, no ``Infinity``, no digits
    other than ASCII ones.
    """
    # PERF: plain short text ("-12.50": ASCII digits, one point, a sign) is a decimal
    # that fits (see fit_decimal); only the rest costs the grammar and the fitting.
    if len(text) <= 28 and text.isascii() and text.replace(".", "", 1).lstrip("-").isdigit():
        if text[0] != "-" or text[1:2].isdigit() or text[1:2] == ".":
            return Decimal(text)
    text = text.strip()
    if _DOUBLE_TEXT.fullmatch(text) is None:
        raise ValueError(f"Expected decimal, got {excerpt(text)}")
    try:
        value = Decimal(text)
    except DecimalException:
        # NOTE: an exponent past what the decimal module holds ("1e1000000000000000000")
        # passes the grammar and raises InvalidOperation, an ArithmeticError.
        raise ValueError(f"Expected decimal, got {excerpt(text)} (out of range)") from None
    return fit_decimal(value)


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
