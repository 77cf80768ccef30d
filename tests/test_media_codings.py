"""Tests for the Accept-Encoding and Accept-Language parts of negotiate.media.

RFC 9110 §12.5.3 (Accept-Encoding) examples and rules, RFC 4647 §3.4 lookup
examples, the exclusions (``q=0``), and the caches.
"""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from negotiate.media import (
    accept_encoding_quality,
    canonical_coding,
    clear_caches,
    encoding as encoding_module,
    language as language_module,
    lookup_language,
    parse_accept_encoding,
    select_coding,
)

SERVER = ("br", "zstd", "gzip", "deflate")
"""A server's codings, preferred first (as negotiate.coding.available_codings orders them)."""

# -- Accept-Encoding: selection ------------------------------------------------

SELECT = [
    # The five examples of RFC 9110 §12.5.3.
    ("rfc-compress-gzip", "compress, gzip", SERVER, "gzip"),
    ("rfc-empty", "", SERVER, "identity"),
    ("rfc-star", "*", SERVER, "br"),
    ("rfc-weights", "compress;q=0.5, gzip;q=1.0", SERVER, "gzip"),
    ("rfc-identity-half-star-zero", "gzip;q=1.0, identity; q=0.5, *;q=0", SERVER, "gzip"),
    ("rfc-identity-half-only-br", "gzip;q=1.0, identity; q=0.5, *;q=0", ("br",), "identity"),
    # No header: anything is acceptable, and identity is what the server sends.
    ("absent", None, SERVER, "identity"),
    ("absent-nothing-offered", None, (), "identity"),
    # What browsers and clients send.
    ("chrome", "gzip, deflate, br, zstd", SERVER, "br"),
    ("dotnet", "gzip, deflate", SERVER, "gzip"),
    ("curl-compressed", "deflate, gzip, br, zstd", SERVER, "br"),
    ("only-zstd", "zstd", SERVER, "zstd"),
    # Ties go to the server's order; a higher q wins over it.
    ("tie-server-order", "gzip, br", SERVER, "br"),
    ("higher-q-wins", "gzip;q=0.9, br;q=0.8", SERVER, "gzip"),
    ("star-lower-than-named", "gzip;q=0.9, *;q=0.1", SERVER, "gzip"),
    ("star-covers-unnamed", "gzip;q=0.1, *;q=0.5", SERVER, "br"),
    # Exclusions.
    ("br-excluded", "br;q=0, *", SERVER, "zstd"),
    ("all-but-identity-excluded", "*;q=0, identity", SERVER, "identity"),
    ("star-zero", "*;q=0", SERVER, None),
    ("star-zero-gzip", "*;q=0, gzip", SERVER, "gzip"),
    ("identity-zero-nothing-else", "identity;q=0", SERVER, None),
    ("identity-zero-gzip", "identity;q=0, gzip", SERVER, "gzip"),
    ("identity-zero-unknown-only", "identity;q=0, compress", SERVER, None),
    ("identity-zero-star-zero", "identity;q=0, *;q=0", SERVER, None),
    ("identity-beats-star-zero", "*;q=0, identity;q=0.1", SERVER, "identity"),
    ("gzip-zero-identity-default", "gzip;q=0", ("gzip",), "identity"),
    ("q-zero-forms", "gzip;q=0.000, br;q=0.", ("gzip", "br"), "identity"),
    # Identity not named is acceptable but ranks with the least preferred named coding.
    ("gzip-half", "gzip;q=0.5", ("gzip",), "gzip"),
    ("unknown-only", "compress", SERVER, "identity"),
    ("identity-named-higher", "identity, gzip;q=0.5", SERVER, "identity"),
    ("identity-listed-first", "gzip, br", ("identity", *SERVER), "identity"),
    ("identity-listed-first-but-lower", "identity;q=0.5, gzip", ("identity", "gzip"), "gzip"),
    ("identity-listed-first-excluded", "identity;q=0, gzip", ("identity", "gzip"), "gzip"),
    # Names: case-insensitive, x-gzip is gzip (RFC 9110 §8.4.1.3), offers returned as given.
    ("upper-case", "GZIP", SERVER, "gzip"),
    ("x-gzip-header", "x-gzip", SERVER, "gzip"),
    ("x-gzip-offer", "gzip", ("x-gzip",), "x-gzip"),
    ("upper-offer", "br", ("BR", "gzip"), "BR"),
    ("upper-q", "gzip;Q=0.5, br;q=0.4", SERVER, "gzip"),
    ("blanks", "  gzip ; q=0.5 ,\tbr ;q=0.4  ", SERVER, "gzip"),
    ("empty-elements", ",, gzip ,,", SERVER, "gzip"),
    ("duplicate-takes-highest", "gzip;q=0, gzip", ("gzip",), "gzip"),
    ("q-three-decimals", "gzip;q=0.001, br;q=0.002", SERVER, "br"),
    ("q-one-point-zeros", "gzip;q=1.000, br;q=0.999", SERVER, "gzip"),
    # Malformed elements are dropped, never the header.
    ("bad-q-dropped", "br;q=2, gzip", SERVER, "gzip"),
    ("bad-q-forms", "br;q=.5, br;q=-1, br;q=0.1234, br;q=1.5, br;q=, gzip", SERVER, "gzip"),
    ("quoted-q-dropped", 'br;q="0.5", gzip;q=0.1', SERVER, "gzip"),
    ("other-param-dropped", "br;level=11, gzip;q=0.1", SERVER, "gzip"),
    ("second-param-dropped", "br;q=1;x=y, gzip;q=0.1", SERVER, "gzip"),
    ("space-in-name-dropped", "b r, gzip;q=0.1", SERVER, "gzip"),
    ("non-ascii-dropped", "gzıp, deflate;q=0.1", SERVER, "deflate"),
    ("all-dropped-is-empty", "br;q=2, gzip;q=x", SERVER, "identity"),
]


@pytest.mark.parametrize(
    ("header", "available", "expected"),
    [case[1:] for case in SELECT],
    ids=[case[0] for case in SELECT],
)
def test_select_coding(
    header: str | None, available: tuple[str, ...], expected: str | None
) -> None:
    assert select_coding(header, available) == expected
    # the memo answers the same, and a list gives what a tuple gives
    assert select_coding(header, available) == expected
    assert select_coding(header, list(available)) == expected


QUALITY = [
    ("absent-any", None, "br", 1.0),
    ("absent-identity", None, "identity", 1.0),
    ("empty-gzip", "", "gzip", 0.0),
    ("empty-identity", "", "identity", 1.0),
    ("named", "compress;q=0.5, gzip;q=1.0", "compress", 0.5),
    ("not-named", "compress;q=0.5, gzip;q=1.0", "br", 0.0),
    ("identity-lowest-named", "compress;q=0.5, gzip;q=1.0", "identity", 0.5),
    ("identity-named", "gzip;q=1.0, identity; q=0.5, *;q=0", "identity", 0.5),
    ("star-zero-br", "gzip;q=1.0, identity; q=0.5, *;q=0", "br", 0.0),
    ("star-to-identity", "*;q=0.3", "identity", 0.3),
    ("star-zero-identity", "*;q=0", "identity", 0.0),
    ("identity-zero", "identity;q=0, *", "identity", 0.0),
    ("identity-only-zeros-named", "gzip;q=0", "identity", 1.0),
    ("x-gzip-alias", "x-gzip;q=0.7", "gzip", 0.7),
    ("alias-asked", "gzip;q=0.7", "X-GZIP", 0.7),
    ("x-compress-alias", "x-compress;q=0.2", "compress", 0.2),
]


@pytest.mark.parametrize(
    ("header", "coding", "expected"),
    [case[1:] for case in QUALITY],
    ids=[case[0] for case in QUALITY],
)
def test_accept_encoding_quality(header: str | None, coding: str, expected: float) -> None:
    assert accept_encoding_quality(header, coding) == expected


def test_parse_accept_encoding_keeps_header_order_and_canonical_names() -> None:
    parsed = parse_accept_encoding("X-GZIP;q=0.5, br, bad;q=7, *;q=0, Identity;q=0.1")
    assert parsed == (("gzip", 0.5), ("br", 1.0), ("*", 0.0), ("identity", 0.1))
    assert parse_accept_encoding("") == ()


@pytest.mark.parametrize("name", ["gzip", " GZip ", "x-gzip", "X-Gzip"])
def test_canonical_coding_folds_gzip(name: str) -> None:
    assert canonical_coding(name) == "gzip"


@pytest.mark.parametrize("offer", ["*", "", "g zip", "gzip;q=1"])
def test_select_coding_rejects_an_offer_that_is_not_a_coding(offer: str) -> None:
    with pytest.raises(ValueError, match="coding offer"):
        select_coding("gzip", ("br", offer))


CODINGS = st.sampled_from(["gzip", "x-gzip", "deflate", "br", "zstd", "compress", "identity", "*"])
QVALUES = st.sampled_from(["", ";q=0", ";q=0.5", ";q=0.001", ";q=1", ";q=0.9", ";q=2"])


@given(
    elements=st.lists(st.tuples(CODINGS, QVALUES), max_size=6),
    available=st.lists(st.sampled_from(["br", "zstd", "gzip", "deflate", "identity"]), unique=True),
)
def test_select_coding_picks_a_candidate_of_the_highest_quality(
    elements: list[tuple[str, str]], available: list[str]
) -> None:
    header = ", ".join(name + q for name, q in elements)
    chosen = select_coding(header, available)
    candidates = available if "identity" in available else [*available, "identity"]
    weights = [accept_encoding_quality(header, c) for c in candidates]
    if max(weights) == 0.0:
        assert chosen is None
    else:
        assert chosen is not None
        # the first candidate (server order) among those of the highest weight
        assert chosen == candidates[weights.index(max(weights))]


# -- Accept-Language: RFC 4647 §3.4 lookup -------------------------------------------

LOOKUP = [
    # RFC 4647 §3.4, "Example of a Lookup Fallback Pattern" for zh-Hant-CN-x-private1-private2.
    (
        "rfc-full",
        "zh-Hant-CN-x-private1-private2",
        ["zh-Hant-CN-x-private1-private2"],
        None,
        "zh-Hant-CN-x-private1-private2",
    ),
    (
        "rfc-step2",
        "zh-Hant-CN-x-private1-private2",
        ["zh-Hant-CN-x-private1", "zh"],
        None,
        "zh-Hant-CN-x-private1",
    ),
    ("rfc-singleton-skipped", "zh-Hant-CN-x-private1-private2", ["zh-Hant-CN-x"], "en", "en"),
    ("rfc-step3", "zh-Hant-CN-x-private1-private2", ["zh", "zh-Hant-CN"], None, "zh-Hant-CN"),
    ("rfc-step4", "zh-Hant-CN-x-private1-private2", ["zh", "zh-Hant"], None, "zh-Hant"),
    ("rfc-step5", "zh-Hant-CN-x-private1-private2", ["zh"], None, "zh"),
    ("rfc-step6-default", "zh-Hant-CN-x-private1-private2", ["en"], "en", "en"),
    # RFC 4647 §3.4: the range "de-ch" yields "de" or "de-CH", never "de-CH-1996".
    ("rfc-de-ch-exact", "de-ch", ["de-CH-1996", "de-CH", "de"], None, "de-CH"),
    ("rfc-de-ch-truncated", "de-ch", ["de-CH-1996", "de"], None, "de"),
    ("rfc-de-ch-never-longer", "de-ch", ["de-CH-1996"], None, None),
    # RFC 4647 §3.4: "*" is skipped when other ranges follow, and yields the default alone.
    ("rfc-star-skipped", "*, fr", ["en", "fr"], "en", "fr"),
    ("rfc-star-only", "*", ["en", "fr"], "nb", "nb"),
    ("rfc-star-last", "de, *", ["en", "fr"], "fr", "fr"),
    # With no default (or an excluded one), "*" takes the server's first language left.
    ("star-last-no-default", "de, *", ["en", "fr"], None, "en"),
    ("no-star-no-default", "de", ["en", "fr"], None, None),
    # Truncation for SuperOffice's languages.
    ("nb-NO", "nb-NO", ["en", "nb", "de"], "en", "nb"),
    ("nb-NO-lower", "nb-no, en;q=0.5", ["en", "nb"], None, "nb"),
    ("sv-SE", "sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7", ["en", "sv"], "en", "sv"),
    ("en-US-to-en", "en-US", ["nb", "en"], None, "en"),
    # Priority: q first, ties in header order (the client's, not the server's).
    ("q-order", "en;q=0.5, de", ["en", "de"], None, "de"),
    ("tie-header-order", "de, en", ["en", "de"], None, "de"),
    ("truncated-earlier-beats-exact-later", "fr-CA, de", ["de", "fr"], None, "fr"),
    # Exclusions.
    ("excluded-default-star-takes-next", "en;q=0, *", ["en", "de"], "en", "de"),
    ("excluded-default-no-star", "en;q=0, fr", ["en", "de"], "en", None),
    ("excluded-default-star-all-excluded", "en;q=0, de;q=0, *", ["en", "de"], "en", None),
    ("excluded-default-other", "en;q=0, *", ["en", "de"], "de", "de"),
    ("excluded-covers-subtags", "en;q=0, de;q=0.1", ["en-GB", "de"], None, "de"),
    ("more-specific-wins", "en;q=0, en-GB", ["en-GB", "en"], None, "en-GB"),
    ("truncation-hits-exclusion", "en-GB, en;q=0", ["en"], None, None),
    ("exclusion-of-longer-spares-shorter", "en-GB;q=0, en-US", ["en", "en-GB"], None, "en"),
    ("star-zero", "*;q=0, de", ["en", "de"], "en", "de"),
    ("star-zero-no-match", "*;q=0, fr", ["en", "de"], "en", None),
    ("star-zero-truncation-covered", "*;q=0, de-AT", ["de"], None, "de"),
    # Case, "_" (.NET culture names), blanks; offers returned as given.
    ("case", "EN-us", ["en-US"], None, "en-US"),
    ("underscore-range", "nb_NO", ["nb"], None, "nb"),
    ("underscore-offer", "nb-no", ["nb_NO"], None, "nb_NO"),
    ("blanks", " de ;q=0.5 ,\ten ; q=0.9 ", ["de", "en"], None, "en"),
    # Malformed elements are dropped.
    ("bad-q", "en;q=2, de", ["en", "de"], None, "de"),
    ("bad-range", "1en, en-toolongsubtag, de", ["en", "de"], None, "de"),
    ("all-dropped", "en;q=x", ["en"], "nb", "nb"),
    # No header, an empty one.
    ("absent", None, ["en", "de"], "de", "de"),
    ("absent-no-default", None, ["en"], None, None),
    ("empty", "", ["en"], "en", "en"),
]


@pytest.mark.parametrize(
    ("header", "available", "default", "expected"),
    [case[1:] for case in LOOKUP],
    ids=[case[0] for case in LOOKUP],
)
def test_lookup_language(
    header: str | None, available: list[str], default: str | None, expected: str | None
) -> None:
    assert lookup_language(header, available, default) == expected
    assert lookup_language(header, tuple(available), default) == expected  # memo


@pytest.mark.parametrize("offer", ["*", "", "e n", "en-toolongsubtag"])
def test_lookup_language_rejects_an_offer_that_is_not_a_tag(offer: str) -> None:
    with pytest.raises(ValueError, match="language offer"):
        lookup_language("en", ["de", offer])


TAGS = st.sampled_from(["en", "en-GB", "en-US", "nb", "nb-NO", "de", "de-CH", "sv", "zh-Hant-TW"])


@given(tags=st.lists(TAGS, min_size=1, unique=True), first=TAGS)
def test_lookup_language_picks_the_top_range_when_it_is_available(
    tags: list[str], first: str
) -> None:
    available = [*tags, first] if first not in tags else tags
    assert lookup_language(f"{first}, {', '.join(tags)};q=0.5", available) == first


@given(
    ranges=st.lists(st.tuples(TAGS, st.sampled_from(["", ";q=0", ";q=0.3", ";q=1"]))),
    available=st.lists(TAGS, unique=True),
)
def test_lookup_language_never_picks_an_excluded_tag(
    ranges: list[tuple[str, str]], available: list[str]
) -> None:
    header = ", ".join(tag + q for tag, q in ranges)
    chosen = lookup_language(header, available)
    if chosen is not None:
        assert chosen in available
        # the exact range, if the header names it, is not q=0 (highest q for a repeated one)
        named = [q for tag, q in ranges if tag.lower() == chosen.lower()]
        assert not named or any(q != ";q=0" for q in named)


# -- caches ----------------------------------------------------------------------


def test_clear_caches_empties_the_coding_and_language_caches() -> None:
    select_coding("gzip, br", SERVER)
    lookup_language("nb-NO", ("en", "nb"))
    assert parse_accept_encoding.cache_info().currsize > 0
    clear_caches()
    assert parse_accept_encoding.cache_info().currsize == 0
    assert encoding_module._encoding_index.cache_info().currsize == 0
    assert language_module._language_plan.cache_info().currsize == 0
    assert not encoding_module._codings_memo and not language_module._language_memo
    # and answers are the same afterwards
    assert select_coding("gzip, br", SERVER) == "br"
    assert lookup_language("nb-NO", ("en", "nb")) == "nb"


def test_memo_is_bounded() -> None:
    clear_caches()
    for index in range(encoding_module._MEMO_SIZE + 10):
        select_coding(f"gzip;q=0.{index % 1000:03d}", ("gzip",))
    assert len(encoding_module._codings_memo) <= encoding_module._MEMO_SIZE
