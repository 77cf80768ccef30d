"""The XML fast reader's enum memo against the reference path.

The generated reader (negotiate/codecs/xml/fast.py) parses an enum's text once and
then finds it in a memo (text -> normalised name or names). Checked here, with one
codec kept across examples so that its memos are warm (and overflow): every document
decodes as the reference path decodes it (the general reader, then the normaliser),
whatever the texts (names in any case, flags separated by spaces or commas, numbers,
unknown names, empty text, whitespace around), and a text that does not parse is never
remembered (the second decode of a refused document is refused the same way).
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, TypedDict

from hypothesis import HealthCheck, given, settings, strategies as st

from negotiate.codecs.xml import XmlCodec, fast
from negotiate.errors import NegotiateError
from negotiate.schema import schema_of

Hue = enum.IntEnum("Hue", {"Unset": 0, "Red": 1, "Green": 2, "DarkRed": 3})
Right = enum.IntFlag("Right", {"None": 0, "Read": 1, "Write": 2, "Delete": 4})


class Swatch(TypedDict):
    Hue: Annotated[str, Hue]
    Rights: Annotated[str, Right]
    Others: list[Swatch | None] | None


SWATCH = schema_of(Swatch)

_WORDS = ("Unset", "Red", "Green", "DarkRed", "None", "Read", "Write", "Delete", "Blue", "")


@st.composite
def enum_texts(draw: st.DrawFn) -> str:
    """Texts an enum element may hold: names (any case), lists of them, junk."""
    words = draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3))
    words = [w.lower() if draw(st.booleans()) and w else w for w in words]
    separator = draw(st.sampled_from([" ", ",", ", ", "  "]))
    text = separator.join(words)
    return draw(st.sampled_from([text, f" {text} ", text, "1", "7", "-1", "x" * 200 + text]))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _swatch(hue: str, rights: str, others: list[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<Swatch><Hue>{_escape(h)}</Hue><Rights>{_escape(r)}</Rights>"
        '<Others i:nil="true" /></Swatch>'
        for h, r in others
    )
    return (
        '<Swatch xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:x">'
        f"<Hue>{_escape(hue)}</Hue><Rights>{_escape(rights)}</Rights>"
        f"<Others>{items}</Others></Swatch>"
    ).encode()


def _outcome(codec: XmlCodec, body: bytes) -> Any:
    try:
        return ("value", codec.decode(body, SWATCH))
    except NegotiateError as exc:
        return ("error", type(exc), exc.status, exc.location, exc.message)


_WARM = XmlCodec()  # NOTE: kept across examples: its enum memos fill (and overflow)
_REFERENCE = XmlCodec()
_REFERENCE._fast[SWATCH] = None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hue=enum_texts(),
    rights=enum_texts(),
    others=st.lists(st.tuples(enum_texts(), enum_texts()), max_size=4),
)
def test_enum_texts_read_as_the_reference_with_the_memo_warm(
    hue: str, rights: str, others: list[tuple[str, str]]
) -> None:
    body = _swatch(hue, rights, others)
    expected = _outcome(_REFERENCE, body)
    assert _outcome(_WARM, body) == expected
    assert _outcome(_WARM, body) == expected  # now every text that parsed is remembered


def test_the_memo_takes_the_fast_path_and_refusals_stay_refused() -> None:
    codec = XmlCodec()
    body = _swatch("red", "Read Write", [("Green", "delete,read")])
    first = codec.decode(body, SWATCH)
    assert first == {
        "Hue": "Red",
        "Rights": "Read, Write",
        "Others": [{"Hue": "Green", "Rights": "Delete, Read", "Others": None}],
    }
    source = codec._fast_sources[SWATCH]
    memos = {k: v for k, v in source.namespace.items() if k.startswith("texts_")}
    assert sorted(memos) == ["texts_Hue", "texts_Right"]
    assert memos["texts_Hue"] == {"red": "Red", "Green": "Green"}
    assert memos["texts_Right"] == {"Read Write": "Read, Write", "delete,read": "Delete, Read"}
    assert codec.decode(body, SWATCH) == first
    bad = _swatch("Blue", "Read", [])
    for _ in range(2):
        outcome = _outcome(codec, bad)
        assert outcome[0] == "error" and outcome[3] == "/Swatch/Hue", outcome
    assert "Blue" not in memos["texts_Hue"]


def test_the_memo_is_bounded() -> None:
    memo: dict[str, str] = {}
    for number in range(fast._MEMO_LIMIT + 10):
        assert fast._remembered(memo, str.upper, f"t{number}") == f"T{number}"
        assert len(memo) <= fast._MEMO_LIMIT
    long = "x" * (fast._MEMO_TEXT + 1)
    assert fast._remembered(memo, str.upper, long) == long.upper()
    assert long not in memo
