"""Tests for negotiate.media: RFC 9110 examples, python-mimeparse's suite, the pain points."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import given, strategies as st

from negotiate.errors import NegotiateError, UnsupportedMediaType
from negotiate.media import (
    MEDIA_FORM,
    MEDIA_JSON,
    MEDIA_JSON_PATCH,
    MEDIA_MERGE_PATCH,
    MEDIA_TEXT_JSON,
    MEDIA_TEXT_XML,
    MEDIA_XML,
    MediaRange,
    MediaType,
    accept as accept_module,
    best_match,
    clear_caches,
    parse_accept,
    parse_content_type,
    quality,
)

DATA = Path(__file__).parent / "data"
RFC = json.loads((DATA / "accept" / "rfc9110-accept-examples.json").read_text("utf-8"))
MIMEPARSE = json.loads((DATA / "mimeparse" / "testdata.json").read_text("utf-8"))

# Our response offers, in server preference order (DESIGN.md: JSON is the default).
OFFERS = (
    MEDIA_JSON,
    MEDIA_TEXT_JSON,
    MEDIA_XML,
    MEDIA_TEXT_XML,
    MEDIA_JSON_PATCH,
    MEDIA_MERGE_PATCH,
)

CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)


# --- RFC 9110 §12.5.1 examples ---------------------------------------------------------------


def _rfc_quality_cases() -> list[Any]:
    cases = []
    pref = RFC["preference_example"]
    for media_type, q in pref["qualities"].items():
        cases.append(pytest.param(pref["accept"], media_type, q, id=f"preference: {media_type}"))
    for section, label in (
        ("quality_table_example", "table5"),
        ("rfc7231_legacy_quality_example", "rfc7231"),
    ):
        example = RFC[section]
        for case in example["cases"]:
            cases.append(
                pytest.param(
                    example["accept"],
                    case["media_type"],
                    case["quality"],
                    id=f"{label}: {case['media_type']}",
                )
            )
    return cases


@pytest.mark.parametrize(("accept", "offer", "expected"), _rfc_quality_cases())
def test_rfc9110_quality(accept: str, offer: str, expected: float) -> None:
    assert quality(accept, offer) == expected


def test_rfc9110_table5_uses_erratum_7138() -> None:
    table = RFC["quality_table_example"]
    assert quality(table["accept"], "text/html;level=3") == 0.3  # published text says 0.7


def test_rfc9110_precedence() -> None:
    example = RFC["precedence_example"]
    ranges = parse_accept(example["accept"])
    by_specificity = sorted(ranges, key=lambda r: r.specificity, reverse=True)
    assert [r.to_header() for r in by_specificity] == example["precedence_most_specific_first"]


@pytest.mark.parametrize(
    ("offer", "expected"),
    [
        pytest.param("text/plain;format=flowed", "text/plain;format=flowed", id="flowed"),
        pytest.param("text/plain", "text/plain", id="plain"),
        pytest.param("text/html", "text/*", id="html"),
        pytest.param("image/png", "*/*", id="image"),
    ],
)
def test_rfc9110_precedence_picks_most_specific_matching_range(offer: str, expected: str) -> None:
    ranges = parse_accept(RFC["precedence_example"]["accept"])
    matching = [r for r in ranges if r.matches(MediaType.parse(offer))]
    assert max(matching, key=lambda r: r.specificity).to_header() == expected


# --- python-mimeparse testdata.json ----------------------------------------------------------


class Deviation(NamedTuple):
    """Where python-mimeparse's expectation is not RFC 9110: our result and why."""

    ours: Any
    why: str


_BAD_Q = "RFC 9110 §12.4.2 qvalue grammar: {q!r} is not 0[.ddd] or 1[.000], so the element is "
_BAD_Q += "dropped (mimeparse coerces it to q=1)"
_TIE = (
    "every offer gets q=1; ties go to SERVER order, the first offer (DESIGN.md), "
    "where mimeparse picks the LAST supported entry"
)
_WILDCARD_OFFER = (
    "an offer is what the server writes into Content-Type, so it must be concrete; "
    "a wildcard offer is a programming error (ValueError), mimeparse matches it symmetrically"
)

RFC_DEVIATIONS: dict[str, Deviation] = {
    "parse_media_range: 'application/xml;q='": Deviation(None, _BAD_Q.format(q="")),
    "parse_media_range: 'application/xml ;q='": Deviation(None, _BAD_Q.format(q="")),
    "parse_media_range: 'application/xml ;q=-1'": Deviation(None, _BAD_Q.format(q="-1")),
    "parse_media_range: 'application/xml ; q=1;b=other'": Deviation(
        ("application", "xml", {}, 1.0),
        "b follows q, so it is an accept-ext (RFC 7231), not a media-range parameter; RFC 9110 "
        "has nothing after the weight, we check its syntax and ignore it",
    ),
    "parse_media_range: 'application/xml ; q=2;b=other'": Deviation(None, _BAD_Q.format(q="2")),
    "parse_media_range: 'application/xml ; q=foo'": Deviation(None, _BAD_Q.format(q="foo")),
    "parse_media_range: ' *; q=.2'": Deviation(
        None,
        "a bare '*' is not a media range in RFC 9110 (mimeparse reads it as */* for old Java "
        "clients); '.2' also fails the qvalue grammar (a leading 0 is required)",
    ),
    "quality: 'text/plain' <- 'text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2'": Deviation(
        0.0,
        "Java's legacy default header: both '*; q=.2' (bare '*', and '.2' is not a qvalue) and "
        "'*/*; q=.2' ('.2' is not a qvalue) are dropped, leaving text/html, image/gif, "
        "image/jpeg, none of which matches text/plain",
    ),
    "best_match 04: match using a subtype wildcard": Deviation("application/xbel+xml", _TIE),
    "best_match 05: match using a type wildcard": Deviation("application/xbel+xml", _TIE),
    "best_match 09: match using a type wildcard": Deviation(ValueError, _WILDCARD_OFFER),
    "best_match 10: match using a wildcard for both requested and supported": Deviation(
        ValueError, _WILDCARD_OFFER
    ),
    "best_match 12: match should use highest order of supported when there is a tie": Deviation(
        "text/html", _TIE
    ),
    "best_match 13: most specific reference has precedence": Deviation(
        "text/plain",
        "RFC 9110 uses specificity to choose which RANGE gives an offer its q; here all three "
        "offers get q=1 (text/plain from text/plain, the flowed one from its exact range, "
        "text/html from text/*), so it is a tie and the first offer wins (server order); "
        "mimeparse ranks the tie by how specific the match was",
    ),
    "best_match 14: match should use highest order of supported when there is a tie": Deviation(
        "application/rdf+xml", _TIE
    ),
    "best_match 16: */* match should pick an acceptable type with the highest quality, "
    "even if it's implicit": Deviation(
        "text/html;q=0.9",
        "a q on an OFFER is an ordinary media-type parameter (RFC 9110 §12.5.1: the registry "
        "disallows parameters named q), not a server-side weight; server preference is the "
        "order of offers, so the first offer wins the */* tie",
    ),
    "best_match 17: match should use the default if an invalid Accept header is passed": (
        Deviation(
            "application/json",
            "a malformed element is dropped, never the header, and nothing is raised; an Accept "
            "whose every element was dropped counts as absent, so the first offer (the server's "
            "default) is chosen; mimeparse raises MimeTypeParseException",
        )
    ),
}


def _expect(case_id: str, mimeparse_expected: Any) -> Any:
    deviation = RFC_DEVIATIONS.get(case_id)
    return mimeparse_expected if deviation is None else deviation.ours


def _media_range_cases() -> list[Any]:
    cases = []
    for header, (type_, subtype, params) in MIMEPARSE["parse_media_range"]:
        rest = {k: v for k, v in params.items() if k != "q"}
        expected = (type_, subtype, rest, float(params["q"]))
        cases.append(pytest.param(header, expected, id=f"parse_media_range: {header!r}"))
    return cases


def _quality_cases() -> list[Any]:
    return [
        pytest.param(offer, accept, q, id=f"quality: {offer!r} <- {accept!r}")
        for (offer, accept), q in MIMEPARSE["quality"]
    ]


def _best_match_cases() -> list[Any]:
    cases = []
    for i, ((supported, accept), expected, description) in enumerate(MIMEPARSE["best_match"]):
        # "" = no match (our default None); null = mimeparse raises for the header.
        mimeparse = None if expected == "" else (Exception if expected is None else expected)
        cases.append(
            pytest.param(supported, accept, mimeparse, id=f"best_match {i:02d}: {description}")
        )
    return cases


def _mime_type_cases() -> list[Any]:
    cases = []
    for text, expected in MIMEPARSE["parse_mime_type"]:
        parsed = None if expected is None else (expected[0], expected[1], expected[2])
        cases.append(pytest.param(text, parsed, id=f"parse_mime_type: {text!r}"))
    return cases


ALL_MIMEPARSE_CASES = {
    p.id: p.values
    for p in _media_range_cases() + _quality_cases() + _best_match_cases() + _mime_type_cases()
}


def test_mimeparse_data_is_the_pinned_copy() -> None:
    import hashlib

    digest = hashlib.sha256((DATA / "mimeparse" / "testdata.json").read_bytes()).hexdigest()
    assert digest == "e520ddf156d0622c639cea55c2f5644fa9d0f6e8da4905881688208f7610ae22"


@pytest.mark.parametrize("case_id", sorted(RFC_DEVIATIONS))
def test_deviation_table_is_live(case_id: str) -> None:
    """Each deviation names a real case and really differs from mimeparse's expectation."""
    assert case_id in ALL_MIMEPARSE_CASES
    deviation = RFC_DEVIATIONS[case_id]
    assert deviation.why
    assert deviation.ours != ALL_MIMEPARSE_CASES[case_id][-1]


@pytest.mark.parametrize(("header", "mimeparse"), _media_range_cases())
def test_mimeparse_parse_media_range(
    request: pytest.FixtureRequest, header: str, mimeparse: Any
) -> None:
    expected = _expect(request.node.callspec.id, mimeparse)
    ranges = parse_accept(header)
    if expected is None:
        assert ranges == ()
    else:
        (got,) = ranges
        assert (got.type, got.subtype, dict(got.params), got.q) == expected


@pytest.mark.parametrize(("offer", "accept", "mimeparse"), _quality_cases())
def test_mimeparse_quality(
    request: pytest.FixtureRequest, offer: str, accept: str, mimeparse: float
) -> None:
    assert quality(accept, offer) == _expect(request.node.callspec.id, mimeparse)


@pytest.mark.parametrize(("supported", "accept", "mimeparse"), _best_match_cases())
def test_mimeparse_best_match(
    request: pytest.FixtureRequest, supported: list[str], accept: str, mimeparse: Any
) -> None:
    expected = _expect(request.node.callspec.id, mimeparse)
    if isinstance(expected, type):
        with pytest.raises(expected):
            best_match(accept, supported)
    else:
        assert best_match(accept, supported) == expected


@pytest.mark.parametrize(("text", "mimeparse"), _mime_type_cases())
def test_mimeparse_parse_mime_type(
    request: pytest.FixtureRequest, text: str, mimeparse: Any
) -> None:
    expected = _expect(request.node.callspec.id, mimeparse)
    if expected is None:
        with pytest.raises(UnsupportedMediaType):
            MediaType.parse(text)
    else:
        got = MediaType.parse(text)
        assert (got.type, got.subtype, dict(got.params)) == expected


# --- DESIGN.md negotiation rules: the eight pain points --------------------------------------


def test_names_are_case_insensitive() -> None:
    assert quality("APPLICATION/JSON;Q=0.5", MEDIA_JSON) == 0.5
    assert quality("Text/*;q=0.2", "text/PLAIN") == 0.2
    assert quality("text/plain;FORMAT=flowed;q=0.4, */*;q=0.1", "text/plain;Format=flowed") == 0.4
    assert quality("text/plain;format=FLOWED", "text/plain;format=flowed") == 0.0  # values kept
    assert best_match("Application/XML", OFFERS) == MEDIA_XML
    assert parse_accept("TEXT/Html;Level=1") == (MediaRange("text", "html", (("level", "1"),)),)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("0", 0.0, id="0"),
        pytest.param("0.", 0.0, id="0."),
        pytest.param("0.5", 0.5, id="0.5"),
        pytest.param("0.123", 0.123, id="three-decimals"),
        pytest.param("1", 1.0, id="1"),
        pytest.param("1.", 1.0, id="1."),
        pytest.param("1.000", 1.0, id="1.000"),
        pytest.param(" 0.5", 0.5, id="ows-after-equals"),
        pytest.param("", None, id="empty"),
        pytest.param(".5", None, id="no-leading-digit"),
        pytest.param("-1", None, id="negative"),
        pytest.param("2", None, id="above-one"),
        pytest.param("1.5", None, id="one-point-five"),
        pytest.param("1.001", None, id="above-one-by-a-bit"),
        pytest.param("0.1234", None, id="four-decimals"),
        pytest.param("foo", None, id="word"),
        pytest.param('"0.5"', None, id="quoted"),
        pytest.param("5e-1", None, id="exponent"),
        pytest.param("0.5 x", None, id="trailing-junk"),
    ],
)
def test_strict_qvalue_grammar(q: str, expected: float | None) -> None:
    for name in ("q", "Q"):
        ranges = parse_accept(f"application/json;{name}={q}")
        assert ranges == (
            () if expected is None else (MediaRange("application", "json", (), expected),)
        )


def test_malformed_item_is_dropped_not_the_header() -> None:
    header = (
        "text/html;q=2, application/json;q=0.5, */html, *, text, text/, te xt/html, "
        'a/b;x="open, ;q=1'
    )
    assert parse_accept("application/xml;q=0.3, " + header) == (
        MediaRange("application", "xml", (), 0.3),
        MediaRange("application", "json", (), 0.5),
    )
    accept = "application/xml;q=0.3, " + header
    assert quality(accept, MEDIA_JSON) == 0.5
    assert quality(accept, MEDIA_XML) == 0.3
    assert quality(accept, "text/html") == 0.0  # its element (q=2) was dropped
    assert best_match(accept, OFFERS) == MEDIA_JSON


@pytest.mark.parametrize("reverse", [False, True], ids=["as-written", "reversed"])
def test_most_specific_range_gives_the_q(reverse: bool) -> None:
    ranges = [
        "*/*;q=0.1",
        "application/*;q=0.2",
        "application/json;q=0.3",
        "application/json;v=1;q=0.4",
        "application/json;v=1;w=2;q=0.5",
    ]
    accept = ", ".join(reversed(ranges) if reverse else ranges)
    assert quality(accept, "application/json;w=2;v=1") == 0.5
    assert quality(accept, "application/json;v=1") == 0.4
    assert quality(accept, "application/json;v=2") == 0.3
    assert quality(accept, MEDIA_JSON) == 0.3
    assert quality(accept, MEDIA_XML) == 0.2
    assert quality(accept, MEDIA_TEXT_XML) == 0.1
    # The most specific range decides even when a less specific one has a higher q.
    assert quality("application/json;q=0.2, */*", MEDIA_JSON) == 0.2
    assert best_match("application/json;q=0.2, */*", OFFERS) == MEDIA_TEXT_JSON


def test_q_zero_excludes_even_under_wildcard() -> None:
    assert quality("application/json;q=0, */*", MEDIA_JSON) == 0.0
    assert best_match("application/json;q=0, */*", OFFERS) == MEDIA_TEXT_JSON
    assert best_match("application/*;q=0, text/json;q=0, */*;q=0.1", OFFERS) == MEDIA_TEXT_XML
    assert best_match("*/*;q=0", OFFERS) is None
    assert best_match("*/*;q=0", OFFERS, default=MEDIA_JSON) == MEDIA_JSON  # caller's fallback


def test_ties_go_to_server_order() -> None:
    assert best_match("application/xml, application/json", OFFERS) == MEDIA_JSON
    assert best_match("application/json, application/xml", OFFERS[::-1]) == MEDIA_XML
    accept = "text/xml;q=0.5, application/xml;q=0.5"
    assert best_match(accept, [MEDIA_TEXT_XML, MEDIA_XML]) == MEDIA_TEXT_XML
    assert best_match(accept, [MEDIA_XML, MEDIA_TEXT_XML]) == MEDIA_XML
    assert best_match("*/*", OFFERS[2:]) == MEDIA_XML


def test_charset_never_blocks_json_and_text_json_is_json() -> None:
    assert quality("application/json;charset=utf-8", MEDIA_JSON) == 1.0
    assert quality("application/json;charset=latin1;q=0.7", MEDIA_JSON) == 0.7
    assert quality("text/json;charset=UTF-16", MEDIA_TEXT_JSON) == 1.0
    assert quality("application/*;charset=utf-8", MEDIA_MERGE_PATCH) == 1.0
    assert quality("*/*;charset=utf-8;q=0.4", MEDIA_JSON_PATCH) == 0.4
    assert quality("application/json;charset=utf-8;v=1", MEDIA_JSON) == 0.0  # others still count
    assert quality("application/xml;charset=utf-8", MEDIA_XML) == 0.0  # XML: charset counts
    assert quality("application/xml;charset=UTF-8", "application/xml;charset=utf-8") == 1.0
    assert best_match("text/json;charset=utf-8", OFFERS) == MEDIA_TEXT_JSON
    assert MediaType.parse(MEDIA_TEXT_JSON).is_json
    assert MediaType.parse("application/vnd.superoffice+json").is_json
    assert not MediaType.parse("application/jsonx").is_json
    assert not MediaType.parse("image/json").is_json


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "", "   ", " , ,", "text", "*", "application/json;q=7"],
    ids=[
        "absent",
        "wildcard",
        "empty",
        "blank",
        "empty-elements",
        "malformed",
        "bare-star",
        "bad-q",
    ],
)
def test_absent_accept_or_wildcard_gives_json(accept: str | None) -> None:
    assert best_match(accept, OFFERS) == MEDIA_JSON
    assert quality(accept, MEDIA_XML) == 1.0


# --- Accept parsing details ------------------------------------------------------------------


def test_chrome_header() -> None:
    assert best_match(CHROME, OFFERS) == MEDIA_XML
    assert quality(CHROME, MEDIA_JSON) == 0.8
    assert len(parse_accept(CHROME)) == 8


def test_commas_inside_quoted_strings_do_not_split() -> None:
    ranges = parse_accept('text/plain;x="a,b\\"c";q=0.5, application/json;q=0.2')
    assert ranges == (
        MediaRange("text", "plain", (("x", 'a,b"c'),), 0.5),
        MediaRange("application", "json", (), 0.2),
    )


def test_unterminated_quote_drops_the_rest_of_the_header() -> None:
    # The quote never closes, so everything after it is inside one (malformed) element.
    assert parse_accept('application/json;q=0.5, text/plain;x="abc, application/xml') == (
        MediaRange("application", "json", (), 0.5),
    )


def test_parameters_after_q_are_ignored() -> None:
    assert parse_accept("text/html;level=1;q=0.5;ext=1;other") == ()  # ext syntax still checked
    assert parse_accept('text/html;level=1;q=0.5;ext="x;y"') == (
        MediaRange("text", "html", (("level", "1"),), 0.5),
    )


def test_non_ascii_letters_that_fold_to_ascii_are_rejected() -> None:
    # KELVIN SIGN lower-cases to "k"; validation happens before folding.
    assert parse_accept("application/\u212aml, te\u212at/html") == ()
    with pytest.raises(UnsupportedMediaType):
        MediaType.parse("te\u212at/plain")


def test_media_range_api() -> None:
    r = MediaRange("text", "plain", (("format", "flowed"),), 0.25)
    assert r.specificity == (2, 1)
    assert MediaRange("text", "*").specificity == (1, 0)
    assert MediaRange("*", "*").specificity == (0, 0)
    assert r.matches(MediaType.parse("text/plain; format=flowed; x=1"))
    assert not r.matches(MediaType.parse("text/plain"))
    assert MediaRange("*", "*").matches(MediaType.parse("image/png"))
    assert r.to_header() == "text/plain;format=flowed;q=0.25"
    assert MediaRange("a", "b", (("x", "y z"),), 0.0).to_header() == 'a/b;x="y z";q=0'


def test_best_match_api() -> None:
    assert best_match("text/xml", []) is None
    assert best_match("text/xml", [], default=MEDIA_JSON) == MEDIA_JSON
    assert best_match("image/png", OFFERS) is None
    assert best_match("image/png", OFFERS, default="x/y") == "x/y"
    offer = "application/json; charset=utf-8"
    assert best_match("application/json", [offer]) is offer  # the caller's own string
    with pytest.raises(ValueError, match="text/\\*"):
        best_match("*/*", ["text/*"])
    with pytest.raises(ValueError, match="Invalid offer 'nonsense': .* \\(no '/'\\)"):
        quality(None, "nonsense")


def test_caches_are_bounded_and_clearable() -> None:
    clear_caches()
    first = parse_accept(CHROME)
    assert parse_accept(CHROME) is first
    assert parse_accept.cache_info().maxsize == 512
    assert parse_content_type.cache_info().maxsize == 512
    for i in range(3000):
        best_match(f"application/x-{i}, */*;q=0.1", OFFERS)
    assert len(accept_module._best) <= 1024
    clear_caches()
    assert parse_accept.cache_info().currsize == 0
    assert not accept_module._best
    assert parse_accept(CHROME) == first


def test_memoised_result_matches_a_fresh_one() -> None:
    headers = [CHROME, "text/xml;q=0.9, application/json;q=0.1", "*/*;q=0", "", "text"]
    cold = []
    for header in headers:
        clear_caches()
        cold.append(best_match(header, OFFERS))
    warm = [best_match(h, list(OFFERS)) for h in headers for _ in range(2)][::2]
    assert warm == cold


# --- Content-Type ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "type_", "subtype", "params"),
    [
        pytest.param("application/json", "application", "json", (), id="plain"),
        pytest.param(
            'Application/JSON; Charset="UTF-8"',
            "application",
            "json",
            (("charset", "utf-8"),),
            id="case-folding-and-quoted-charset",
        ),
        pytest.param(
            "text/plain; Format=Flowed; DelSp=Yes",
            "text",
            "plain",
            (("format", "Flowed"), ("delsp", "Yes")),
            id="values-keep-case",
        ),
        pytest.param(
            'multipart/form-data; boundary="a \\"b\\" ;,c"',
            "multipart",
            "form-data",
            (("boundary", 'a "b" ;,c'),),
            id="quoted-pairs-and-separators",
        ),
        pytest.param(
            'application/x-www-form-urlencoded; a=""',
            "application",
            "x-www-form-urlencoded",
            (("a", ""),),
            id="empty-quoted",
        ),
        pytest.param(
            "  application/xml ; charset = ISO-8859-1 ;  ",
            "application",
            "xml",
            (("charset", "iso-8859-1"),),
            id="whitespace-and-trailing-semicolon",
        ),
        pytest.param("text/xml;;a=1", "text", "xml", (("a", "1"),), id="empty-parameter"),
    ],
)
def test_content_type_parsing(
    header: str, type_: str, subtype: str, params: tuple[tuple[str, str], ...]
) -> None:
    parsed = parse_content_type(header)
    assert parsed == MediaType(type_, subtype, params)
    assert MediaType.parse(parsed.to_header()) == parsed


def test_media_type_api() -> None:
    mt = MediaType.parse('application/json; Charset=UTF-8; v="1 2"')
    assert mt.essence == "application/json"
    assert mt.charset == "utf-8"
    assert mt.param("V") == "1 2"
    assert mt.param("missing") is None
    assert mt.is_json
    assert mt.to_header() == 'application/json; charset=utf-8; v="1 2"'
    assert MediaType.parse(MEDIA_XML).charset is None
    assert not MediaType.parse(MEDIA_FORM).is_json
    assert parse_content_type(MEDIA_FORM) is parse_content_type(MEDIA_FORM)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("", id="empty"),
        pytest.param("text", id="no-slash"),
        pytest.param("/json", id="empty-type"),
        pytest.param("application/", id="empty-subtype"),
        pytest.param("*/*", id="wildcard"),
        pytest.param("application/*", id="subtype-wildcard"),
        pytest.param("te xt/html", id="space-in-type"),
        pytest.param("text/html/x", id="two-slashes"),
        pytest.param("text/h(tml)", id="bad-token-char"),
        pytest.param("application/json; charset", id="parameter-without-value"),
        pytest.param("application/json; charset=", id="empty-value"),
        pytest.param("application/json; =utf-8", id="empty-name"),
        pytest.param('application/json; charset="utf-8', id="unterminated-quote"),
        pytest.param("application/json; charset=utf-8 x", id="junk-after-value"),
        pytest.param("application/json; a=1; A=2", id="repeated-parameter"),
        pytest.param("application/j\u00e9son", id="non-ascii"),
    ],
)
def test_malformed_content_type_is_415(header: str) -> None:
    with pytest.raises(UnsupportedMediaType) as info:
        parse_content_type(header)
    assert info.value.status == 415
    assert isinstance(info.value, NegotiateError)
    assert "Content-Type" in str(info.value)


def test_unterminated_quote_message() -> None:
    with pytest.raises(UnsupportedMediaType, match="closing quote"):
        MediaType.parse('text/plain; x="abc')


# --- properties ------------------------------------------------------------------------------

_HEADERISH = st.text(alphabet=' \t,;="\\/*qQ.0123456789-+abjsonxmlt\u212a\u00e9', max_size=60)


@given(st.one_of(st.text(), _HEADERISH))
def test_accept_never_raises_and_best_match_returns_an_offer_or_the_default(header: str) -> None:
    ranges = parse_accept(header)
    assert all(0.0 <= r.q <= 1.0 for r in ranges)
    assert best_match(header, OFFERS) in (*OFFERS, None)
    assert best_match(header, list(OFFERS), default="x/y") in (*OFFERS, "x/y")
    assert 0.0 <= quality(header, MEDIA_JSON) <= 1.0


@given(st.one_of(st.text(), _HEADERISH))
def test_content_type_raises_only_415(header: str) -> None:
    try:
        parsed = MediaType.parse(header)
    except UnsupportedMediaType:
        return
    assert MediaType.parse(parsed.to_header()) == parsed
