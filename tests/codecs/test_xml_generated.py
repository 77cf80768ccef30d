"""The XML codec's generated code: built with negotiate._codegen.Source, inspectable."""

from __future__ import annotations

import linecache
import re
import traceback

import pytest

from negotiate._codegen import SlowPath
from negotiate.codecs.xml import XmlCodec
from negotiate.codecs.xml.write import _SOURCES, _writer
from negotiate.schema import get_schema

CONTACT = get_schema("ContactEntity")
NUMBERED = re.compile(r"[A-Z]\d+")  # the old K7, P3, R12 constants


def test_the_writers_code_is_kept_registered_and_named() -> None:
    writer = _writer(CONTACT)
    source = _SOURCES[CONTACT]
    assert source.filename.startswith("<negotiate generated: XML writers for ContactEntity")
    assert "def carrier_ContactEntity(d):" in source.source
    assert linecache.getline(source.filename, 1) == source.source.splitlines(keepends=True)[0]
    names = [name for name in source.namespace if not name.startswith("__")]
    assert "valid_ETableRight" in names and "items_dict_string" in names
    assert [name for name in names if NUMBERED.fullmatch(name)] == []
    with pytest.raises(SlowPath) as slow:
        writer({})  # not a carrier: the codec's signal to normalise first
    wrong = dict.fromkeys(map(str, range(len(CONTACT.fields))))
    with pytest.raises(KeyError, match="ContactId") as info:
        writer(wrong)  # the generated line is in the traceback
    shown = "".join(traceback.format_exception(info.value))
    assert source.filename in shown and "s0 = d['ContactId']" in shown
    assert "raise SlowPath" in "".join(traceback.format_exception(slow.value))


def test_the_fast_readers_code_is_kept_and_named() -> None:
    codec = XmlCodec()
    value = codec.decode(codec.encode(CONTACT.default(), CONTACT), CONTACT)
    assert value == CONTACT.default()
    source = codec._readers.sources[CONTACT]
    assert source.filename.startswith("<negotiate generated: XML reader for ContactEntity")
    assert linecache.getline(source.filename, 1) == "def read(el):\n"
    names = [name for name in source.namespace if not name.startswith("__")]
    assert "read_array_Carrier_Person" in names and "parse_date_time" in names
    assert [name for name in names if NUMBERED.fullmatch(name)] == []


def test_a_value_that_is_not_normalised_takes_the_slow_path_each_time() -> None:
    codec = XmlCodec()
    expected = codec.encode(CONTACT.default(), CONTACT)
    loose = {"contactid": 0.0, "name": None}  # names in another case, an int as a float
    assert codec.encode(loose, CONTACT) == expected
    assert codec.encode(loose, CONTACT) == expected
