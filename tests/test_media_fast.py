"""The fast pass of the media-type parsers against the strict grammar (the reference).

The scanners (``accept._scan_accept``, ``accept._scan_offers``, ``types._scan_media_type``)
read headers made of tokens with str methods and hand everything else back (``None``) to
the reference parsers. Here random Accept and Content-Type values (valid, near-valid and
garbage: odd blanks, case, quoted parameters, the qvalue grammar's edges, repeated
parameters, empty elements, commas in quotes) must give the same parsed items, the same
best match and the same errors either way.
"""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import example, given, settings, strategies as st

from negotiate.media import (
    MediaRange,
    MediaType,
    accept as accept_module,
    best_match,
    clear_caches,
    quality,
    types as types_module,
)

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Tokens: lower-case tchar runs (what the fast pass reads), common ones with case and "*",
# and near-tokens with a character outside the set.
VALID_TOKENS = st.one_of(
    st.sampled_from(["text", "html", "application", "json", "xml", "xhtml+xml", "v", "b3"]),
    st.text(alphabet=TCHARS[:50].replace("*", ""), min_size=1, max_size=6),
)
GOOD_TOKENS = st.one_of(
    st.sampled_from(
        ["text", "html", "application", "json", "xml", "xhtml+xml", "*", "v", "b3", "level"]
        + ["charset", "UTF-8", "utf-8", "Q", "q", "JSON", "Text", "merge-patch+json", "x.y"]
    ),
    st.text(alphabet=TCHARS, min_size=1, max_size=6),
)
TOKENS = st.one_of(
    GOOD_TOKENS,
    st.sampled_from(["", "a/b", "x/", "/", "a=b", "Q"]),
    st.text(alphabet=TCHARS + '"\\/=;, \t\r\n\x00é\u212a()@', min_size=0, max_size=4),
)
QVALUES = st.one_of(
    st.sampled_from(
        ["1", "1.", "1.0", "1.00", "1.000", "1.0001", "1.001", "0", "0.", "0.0001", "0.5"]
        + [".5", "0.123", "0.1234", "2", "-1", "", "1.5", "01", "0.5 ", "q", '"0.5"', "0x1"]
    ),
    st.from_regex(r"[01]\.?[0-9]{0,4}", fullmatch=True),
)
BLANKS = st.sampled_from(["", "", "", " ", "\t", "  ", " \t", "\r", "\n", "\x0b"])
OWS = st.sampled_from(["", "", "", " ", " ", "\t"])


@st.composite
def _quoted(draw: st.DrawFn) -> str:
    inner = draw(st.text(alphabet=TCHARS[:20] + ' ,;="\\\t/é', max_size=6))
    inner = inner.replace("\\", "\\\\").replace('"', '\\"') if draw(st.booleans()) else inner
    return '"' + inner + ('"' if draw(st.integers(0, 5)) else "")


@st.composite
def _param(draw: st.DrawFn, tokens: st.SearchStrategy[str], blanks: st.SearchStrategy[str]) -> str:
    name = draw(st.one_of(st.sampled_from(["q", "Q", "charset", "level", "v"]), tokens))
    if draw(st.integers(0, 19)) == 0:
        return name  # no "=": malformed
    if name in ("q", "Q") and draw(st.integers(0, 3)):
        value = draw(QVALUES)
    else:
        value = draw(st.one_of(tokens, tokens, _quoted(), QVALUES))
    return name + draw(blanks) + "=" + draw(blanks) + value


@st.composite
def _media(draw: st.DrawFn, tokens: st.SearchStrategy[str], blanks: st.SearchStrategy[str]) -> str:
    text = draw(tokens)
    if draw(st.integers(0, 19)):
        text += "/" + draw(tokens)
    for _ in range(draw(st.integers(0, 3))):
        param = draw(st.one_of(_param(tokens, blanks), st.just("")))  # "": an empty one
        text += draw(blanks) + ";" + draw(blanks) + param
    return text


@st.composite
def _accept(draw: st.DrawFn, tokens: st.SearchStrategy[str], blanks: st.SearchStrategy[str]) -> str:
    element = st.one_of(_media(tokens, blanks), _media(tokens, blanks), st.just(""))
    elements = draw(st.lists(st.one_of(element, st.just("*/*")), max_size=6))
    header = ""
    for index, item in enumerate(elements):
        header += (draw(blanks) + "," + draw(blanks) if index else draw(blanks)) + item
    return header + draw(blanks)


# Near-valid (mostly tokens, OWS) as often as odd; garbage besides.
ACCEPTS = st.one_of(
    _accept(VALID_TOKENS, OWS),
    _accept(GOOD_TOKENS, OWS),
    _accept(TOKENS, BLANKS),
    st.text(max_size=40),
    st.text(alphabet=TCHARS + ',;/= \t"', max_size=40),
)
CONTENT_TYPES = st.one_of(
    _media(VALID_TOKENS, OWS),
    _media(GOOD_TOKENS, OWS),
    _media(TOKENS, BLANKS),
    st.text(max_size=30),
    st.text(alphabet=TCHARS + ';/= \t"', max_size=30),
)
OFFER = st.one_of(
    st.sampled_from(
        ["application/json", "text/json", "application/xml", "text/xml", "Text/HTML"]
        + ["application/problem+json", "text/html;level=1", "text/plain; charset=UTF-8"]
        + ["image/webp", "application/merge-patch+json", " text/csv "]
    ),
    _media(GOOD_TOKENS, OWS),
    _media(TOKENS, BLANKS),
)

# Headers the fast pass must decide itself (else the comparisons below prove little).
COMMON_ACCEPTS = [
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "application/json, text/plain, */*",
    "application/json",
    "*/*",
    "text/html; q=0.5, application/json; charset=utf-8",
    "Application/JSON;Q=0.9",
    "",
]
COMMON_CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=----WebKitFormBoundaryAbC",
    "text/xml; charset=utf-8; foo=Bar",
]
EDGES = [
    "text/html;q=1.000",
    "text/html;q=1.0001",
    "text/html;q=0.0001",
    "text/html;q=.5",
    "text/html;q=1.",
    "text/html;Q=0",
    "text/html;level=1;level=2",
    "text/html;q=0.5;q=0.7",
    "a/b,,c/d,",
    'text/html;x="a,b",application/json',
    'text/html;x="a\\"b";q=0.3',
    "text/html ;q = 0.5",
    "text/html;  q=0.5",
    "*/html,text/*;q=0.2",
    "text/html/x, text/, /html, text",
    "text/html/x",
    "text/;q=1",
    "text/;a=b",
    "a/b;v=c/d",
    "a/b;q=0.5/1",
    "a/b;c=d;q=1/x",
    "*/x,a/*",
    "text/html;level",
    "text/html;=1",
    "text/\u212aelvin",
]


def _reference_ranges(header: str) -> tuple[MediaRange, ...]:
    ranges = []
    for essence, ((_, q, params),) in accept_module._reference_ranges(header):
        type_, _, subtype = essence.partition("/")
        ranges.append(MediaRange(type_, subtype, params, q))
    return tuple(ranges)


def _choices(header: str, offers: tuple[str, ...]) -> tuple[object, ...]:
    """best_match and quality, each offer, from cleared caches (or the ValueError)."""
    clear_caches()
    try:
        return (best_match(header, offers), *(quality(header, offer) for offer in offers))
    except ValueError as exc:
        return (str(exc),)


@pytest.mark.parametrize("header", COMMON_ACCEPTS)
def test_common_accept_headers_take_the_fast_pass(header: str) -> None:
    assert accept_module._scan_accept(header) == accept_module._reference_ranges(header)


@pytest.mark.parametrize("text", COMMON_CONTENT_TYPES)
def test_common_content_types_take_the_fast_pass(text: str) -> None:
    found = types_module._scan_media_type(text)
    assert found is not None
    assert found == types_module._reference_media_type(text)


def test_the_qvalue_table_is_the_qvalue_grammar() -> None:
    for text, weight in accept_module._QVALUES.items():
        assert accept_module._QVALUE_RE.fullmatch(text) is not None
        assert weight == float(text)
    grammar = [f"0.{i:03d}"[: 2 + width] for width in range(4) for i in range(1000)]
    assert set(grammar) | {"0", "1", "1.", "1.0", "1.00", "1.000"} == set(accept_module._QVALUES)


@settings(max_examples=1500, deadline=None)
@given(ACCEPTS)
@example("")
@example(" , ,")
@example("text/html;q=0.5 ")
@example("TEXT/Html;Level=A")
def test_accept_fast_pass_agrees_with_the_reference(header: str) -> None:
    found = accept_module._scan_accept(header)
    if found is not None:
        assert found == accept_module._reference_ranges(header)
    clear_caches()
    assert accept_module.parse_accept(header) == _reference_ranges(header)


@pytest.mark.parametrize("header", EDGES + COMMON_ACCEPTS)
def test_accept_edges_agree_with_the_reference(header: str) -> None:
    clear_caches()
    assert accept_module.parse_accept(header) == _reference_ranges(header)


@settings(max_examples=600, deadline=None)
@given(ACCEPTS, st.lists(OFFER, min_size=1, max_size=5).map(tuple))
@example(COMMON_ACCEPTS[0], ("application/json", "application/xml"))
@example("text/html;level=1;q=0.5,text/html;q=0.9", ("text/html;level=1", "text/html"))
@example("application/json;charset=latin1;q=0.5,*/*;q=0.1", ("application/json", "text/xml"))
@example("text/*;q=0.5,text/xml;q=0", ("text/xml", "text/json"))
def test_best_match_is_the_reference_choice(header: str, offers: tuple[str, ...]) -> None:
    fast = _choices(header, offers)
    with (
        mock.patch.object(accept_module, "_scan_accept", lambda header: None),
        mock.patch.object(accept_module, "_scan_offers", lambda offers: None),
    ):
        reference = _choices(header, offers)
    assert fast == reference


@settings(max_examples=600, deadline=None)
@given(st.lists(OFFER, max_size=5).map(tuple))
def test_offers_fast_pass_agrees_with_the_reference(offers: tuple[str, ...]) -> None:
    found = accept_module._scan_offers(offers)
    try:
        prepared = [accept_module._prepare_offer(offer) for offer in offers]
    except ValueError:
        assert found is None
        return
    reference = ([p[0] for p in prepared], [p[1] for p in prepared], tuple(p[2] for p in prepared))
    assert found is None or found == reference
    assert accept_module._offers.__wrapped__(offers) == reference


@settings(max_examples=1500, deadline=None)
@given(CONTENT_TYPES)
@example("application/json; charset=UTF-8")
@example("a/b; charset =x")
@example("a/b;c=d;C=e")
@example("a/b; c d=e")
@example("a/b;c=d e")
@example("a/b; =e")
@example("*/json; a=b")
@example("a/b;")
@example("a/b ; c=d ;")
@example('a/b; c="d;e"')
@example("a/b; c=d/e")
def test_content_type_fast_pass_agrees_with_the_reference(text: str) -> None:
    found = types_module._scan_media_type(text)
    reference = types_module._reference_media_type(text)
    if found is not None:
        assert found == reference
    assert types_module._parse_media_type(text) == reference
    if isinstance(reference, MediaType):
        assert MediaType.parse(text) == reference


def test_registry_clear_memos_makes_the_next_lookup_first_seen() -> None:
    from negotiate.codecs import default_registry

    registry = default_registry()
    header = "application/json; charset=utf-8"
    first = registry.for_content_type(header)
    assert registry.for_content_type(header) is first  # memoised
    chosen = registry.for_accept("application/xml")
    registry.clear_memos()
    again = registry.for_content_type(header)
    assert again == first
    assert again is not first
    assert registry.for_accept("application/xml") == chosen
