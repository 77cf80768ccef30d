"""The request path's fast paths against their reference paths.

Each fast path of the per-request work (issue 14) answers exactly what the
plain path it stands for answers: ``Headers._head`` (the fields ``App.start``
reads, at once) against one lookup per field, ``Headers.get`` without the case
fold against the folded lookup, and the remembered phone keys of the merge
against :func:`negotiate.enrich.phone_key`.
"""

from __future__ import annotations

import sys
from typing import Any

from hypothesis import given, settings, strategies as st

from negotiate.enrich import merge
from negotiate.enrich.merge import phone_key
from negotiate.http import Headers
from negotiate.http.headers import has_shaping

_READ = ("accept", "content-type", "content-length", "content-encoding")
_NAMES = (
    *_READ,
    "authorization",
    "so-timezone",
    "so-language",
    "accept-language",
    "so-culture",
    "cookie",
    "host",
    "x-other",
)

# Latin-1 text: what HTTP/1.1 field values are read as.
_latin1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)
_fields = st.lists(st.tuples(st.sampled_from(_NAMES), _latin1), max_size=10)


def _reference_head(headers: Headers) -> tuple[Any, ...]:
    """The five answers one at a time, as App.start read them before _head."""
    values = tuple(headers._value(name.encode("ascii"), name) for name in _READ)
    return (*values, has_shaping(headers))


def _asgi(pairs: list[tuple[str, str]]) -> Headers:
    return Headers.from_asgi([(n.encode("latin-1"), v.encode("latin-1")) for n, v in pairs])


@given(_fields)
def test_head_is_the_lookups_one_at_a_time(pairs: list[tuple[str, str]]) -> None:
    # both forms: the server's raw table (or, with a repeated field, the joined
    # one) and a mapping built from text pairs
    for headers in (_asgi(pairs), Headers(pairs), Headers({n.title(): v for n, v in pairs})):
        assert headers._head() == _reference_head(headers)


@given(_fields, st.sampled_from(_NAMES), st.sampled_from([str.lower, str.upper, str.title]))
def test_get_without_the_fold_is_the_folded_get(
    pairs: list[tuple[str, str]], name: str, case: Any
) -> None:
    asked = case(name)
    # the reference: the whole table decoded (a separate object: decoding switches
    # a Headers from the server's raw table to its decoded form)
    expected = dict(_asgi(pairs).items()).get(name)
    for headers in (_asgi(pairs), Headers(pairs)):
        assert headers.get(asked) == expected
        assert headers.get(asked, "absent") == (expected if expected is not None else "absent")
        assert (asked in headers) is (expected is not None)


def test_get_of_names_the_package_does_not_read_and_of_unencodable_ones() -> None:
    headers = _asgi([("x-request-id", "abc"), ("accept", "text/xml")])
    assert headers.get("X-Request-Id") == "abc"
    assert headers.get("x-request-id") == "abc"
    assert headers.get("x-\u0100") is None  # no HTTP field has such a name
    assert headers.get("ACCEPT") == "text/xml"


_digits = st.text("0123456789", min_size=0, max_size=14)
_phones = st.one_of(
    st.builds(lambda p, d: p + d, st.sampled_from(["", "+", "00", "(+", " 0", "+47 "]), _digits),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
    st.text("0123456789 -()+", min_size=60, max_size=90),  # past the remembered length
)


@settings(max_examples=300)
@given(_phones, st.sampled_from(["47", "46", "45", "358", "1", ""]))
def test_remembered_phone_keys_are_phone_key(value: str, code: str) -> None:
    expected = phone_key(value, code)
    assert merge._phone_key(value, code) == expected
    assert merge._phone_key(value, code) == expected  # the second time, remembered
    if len(value) > merge._PHONE_KEY_TEXT:
        assert (value, code) not in merge._PHONE_KEYS


def test_the_phone_key_table_is_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(merge, "_PHONE_KEYS", {})
    monkeypatch.setattr(merge, "_PHONE_KEYS_LIMIT", 8)
    for number in range(50):
        value = f"+47 {number:08d}"
        assert merge._phone_key(value, "47") == phone_key(value, "47")
        assert len(merge._PHONE_KEYS) <= 8


@settings(max_examples=500)
@given(st.text(max_size=12))
def test_a_method_already_upper_case_is_its_upper_case(method: str) -> None:
    # App.start skips str.upper() for a method that is already upper case
    if method.isupper():
        assert method.upper() == method


def test_no_upper_case_character_changes_under_upper() -> None:
    # the same, for every code point: str.upper() maps a string character by character
    changed = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isupper() and c.upper() != c]
    assert changed == []
