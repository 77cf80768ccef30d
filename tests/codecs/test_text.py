"""The text every format shares (negotiate.codecs._text): charsets and scalar text rules."""

from __future__ import annotations

import codecs
import enum
from collections.abc import Callable
from typing import Any

import pytest

from negotiate.codecs._text import (
    FORM_SCALARS,
    XML_SCALARS,
    ScalarText,
    bom_of,
    decode_text,
    scalar_parser,
    text_codec,
    utf8_text,
)
from negotiate.errors import MalformedBody
from negotiate.schema import FieldType, Kind
from negotiate.schema.values import EnumSpec


class Rights(enum.IntFlag):
    NONE = 0
    READ = 1
    WRITE = 2


class Colour(enum.IntEnum):
    RED = 0
    GREEN = 5


FLAGS = FieldType(Kind.ENUM, enum=EnumSpec(Rights))
PLAIN = FieldType(Kind.ENUM, enum=EnumSpec(Colour))


def parser(kind: Kind, rules: ScalarText) -> Callable[[str], Any]:
    return scalar_parser(FieldType(kind), rules)


# -- charsets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("UTF-8", "utf-8"),
        ("latin1", "iso8859-1"),
        ("windows-1252", "cp1252"),
        ("UTF_16LE", "utf-16-le"),
    ],
)
def test_text_codec_resolves_aliases_of_plain_text_encodings(label: str, codec: str) -> None:
    assert text_codec(label) == codec


@pytest.mark.parametrize("label", ["rot13", "zlib", "shift_jis", "no-such-charset", ""])
def test_text_codec_refuses_transforms_legacy_multibyte_and_unknown(label: str) -> None:
    assert text_codec(label) is None


def test_a_utf32_mark_is_not_taken_for_the_utf16_mark_it_begins_with() -> None:
    assert bom_of(codecs.BOM_UTF32_LE + b"<\x00\x00\x00") == (codecs.BOM_UTF32_LE, "utf-32")
    assert bom_of(codecs.BOM_UTF16_LE + b"<\x00") == (codecs.BOM_UTF16_LE, "utf-16")
    assert bom_of(b"<a/>") is None


def test_transcoding_drops_the_mark_and_names_what_chose_the_encoding() -> None:
    assert decode_text("\ufeff{}".encode("utf-16"), "utf-16") == "{}"
    assert (
        utf8_text("<é/>".encode("utf-16-be"), "utf-16-be", "charset parameter") == "<é/>".encode()
    )
    with pytest.raises(MalformedBody, match=r"^Body is not valid utf-16: .* at byte 2$"):
        decode_text(b"\xff\xfe\x00\xd8", "utf-16")
    with pytest.raises(MalformedBody, match=r"not valid ascii \(from the XML declaration\)"):
        utf8_text(b"<a>\xe9</a>", "ascii", "XML declaration")


# -- scalar text: what every format shares ---------------------------------------------------


@pytest.mark.parametrize("rules", [XML_SCALARS, FORM_SCALARS], ids=["xml", "form"])
def test_the_shared_grammar(rules: ScalarText) -> None:
    assert parser(Kind.INT32, rules)(" -007 ") == -7
    assert parser(Kind.INT32, rules)("2147483647") == 2147483647
    assert parser(Kind.BOOL, rules)(" TRUE ") is True
    assert parser(Kind.BOOL, rules)("0") is False
    assert parser(Kind.DOUBLE, rules)(" 1E-05 ") == 1e-05
    stamp = "2015-11-08T11:24:47.8282933+01:00"
    assert parser(Kind.DATETIME, rules)(f" {stamp}\n") == stamp  # trimmed, kept as text
    assert scalar_parser(PLAIN, rules)(" green ") == "GREEN"
    assert scalar_parser(FLAGS, rules)("read write") == "READ, WRITE"
    assert scalar_parser(FLAGS, rules)(" Write,Read ,") == "WRITE, READ"


@pytest.mark.parametrize("rules", [XML_SCALARS, FORM_SCALARS], ids=["xml", "form"])
@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        (Kind.INT32, "2147483648", "Expected int32"),
        (Kind.INT32, "1" * 5000, "a number of 5000 digits"),
        (Kind.BOOL, "yes", "Expected bool"),
        (Kind.DOUBLE, "NaN", "Expected double"),
        (Kind.DATETIME, "2015-02-29T00:00:00", "Expected a valid date"),
    ],
)
def test_bad_text_is_a_value_error(rules: ScalarText, kind: Kind, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parser(kind, rules)(text)


@pytest.mark.parametrize("rules", [XML_SCALARS, FORM_SCALARS], ids=["xml", "form"])
def test_flags_without_a_name_are_refused_quoting_the_text(rules: ScalarText) -> None:
    with pytest.raises(ValueError, match=r"Expected Rights names, got ' , '"):
        scalar_parser(FLAGS, rules)(" , ")


def test_strings_and_containers_have_no_text_parser() -> None:
    with pytest.raises(TypeError, match="string"):
        scalar_parser(FieldType(Kind.STRING), XML_SCALARS)


# -- scalar text: where the formats differ ----------------------------------------------------


def test_a_checkbox_on_is_true_in_a_form_only() -> None:
    assert FORM_SCALARS.checkbox and not XML_SCALARS.checkbox
    assert parser(Kind.BOOL, FORM_SCALARS)(" On ") is True
    with pytest.raises(ValueError, match="Expected bool"):
        parser(Kind.BOOL, XML_SCALARS)("on")


def test_an_enum_by_number_in_a_form_only() -> None:
    assert FORM_SCALARS.enum_numbers and not XML_SCALARS.enum_numbers
    assert scalar_parser(PLAIN, FORM_SCALARS)(" 5 ") == "GREEN"
    assert scalar_parser(FLAGS, FORM_SCALARS)("3") == "READ, WRITE"
    with pytest.raises(ValueError, match="not defined"):
        scalar_parser(PLAIN, FORM_SCALARS)("4")
    with pytest.raises(ValueError, match="a number of 11 digits"):
        scalar_parser(PLAIN, FORM_SCALARS)("12345678901")
    with pytest.raises(ValueError, match=r"Expected Colour \(RED, GREEN\), got '5'"):
        scalar_parser(PLAIN, XML_SCALARS)("5")
