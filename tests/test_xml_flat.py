"""The flat document path (negotiate/codecs/xml/flat.py) against the parser's path.

A small document whose root holds only leaf elements, in .NET's exact spelling, is
read without libxml2. Every document, flat or nearly so (another head, whitespace or a
comment between children, references, carriage returns, non-ASCII text, prefixes,
other attributes, trailing bytes, random byte edits, a charset, a low node limit),
must decode to the same value or fail with the same error (class, status, location,
message) with the flat path on and off. The flat path must also be taken where it
should be: the server's usual request never reaches the parser.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, TypedDict

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from negotiate.codecs.xml import XmlCodec, codec as xml_codec
from negotiate.codecs.xml.codec import _UNKNOWN
from negotiate.codecs.xml.flat import FLAT_MAX
from negotiate.errors import NegotiateError
from negotiate.media import MediaType, parse_content_type
from negotiate.options import Options
from negotiate.schema import DateTime, Schema, get_schema, schema_of
from tests.helpers import SUMMARY_REQUEST, WRAPPER
from tests.strategies import carriers, datetimes, mutated

Tone = enum.IntEnum("Tone", {"Quiet": 0, "Loud": 1})


class Mark(TypedDict):
    __datacontract_namespace__ = "urn:example:flat"
    Label: str | None


class Flat(TypedDict):
    """Every leaf kind, and a carrier, an array and a dictionary (nil or empty only)."""

    __datacontract_namespace__ = "urn:example:flat"
    Id: int
    Name: str | None
    Open: bool
    When: DateTime
    Tone: Annotated[str, Tone]
    Weight: float
    Code: str
    Mark: Mark | None
    Tags: list[str] | None
    Names: dict[str, str] | None


FLAT = schema_of(Flat)
SCHEMAS = [WRAPPER, SUMMARY_REQUEST, FLAT, get_schema("StructuredAddress")]
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _outcome(codec: XmlCodec, body: bytes, schema: Schema, media: MediaType | None) -> Any:
    try:
        return ("value", codec.decode(body, schema, media_type=media))
    except NegotiateError as exc:
        return ("error", type(exc), exc.status, exc.location, exc.message)


class _Flat(XmlCodec):
    """The codec, counting the documents the flat path answered."""

    answered = 0

    def _read_flat(self, body: bytes, flat: Any, media_type: MediaType | None) -> Any:
        value = super()._read_flat(body, flat, media_type)
        if value is not _UNKNOWN:
            self.answered += 1
        return value


def _same(
    body: bytes, schema: Schema, options: Options | None = None, media: MediaType | None = None
) -> tuple[Any, bool]:
    """Both paths' outcome (asserted equal), and whether the flat path gave it."""
    flat = _Flat(options) if options else _Flat()
    reference = XmlCodec(options) if options else XmlCodec()
    reference._flat_max = -1
    expected = _outcome(reference, body, schema, media)
    got = _outcome(flat, body, schema, media)
    assert got == expected, body
    return got, flat.answered == 1


# -- documents, flat and nearly flat ------------------------------------------------------

_NET_HEAD = '<{root} xmlns:i="{xsi}" xmlns="{ns}">'  # .NET's: the flat path's only head
_HEADS = (
    *[_NET_HEAD] * 6,  # NOTE: weighted, so that most documents get past the head
    "<{root} xmlns:i='{xsi}' xmlns=\"{ns}\">",
    '<{root} xmlns="{ns}" xmlns:i="{xsi}">',
    '<{root} xmlns:i="{xsi}">',
    '<{root} xmlns:i="urn:not-xsi" xmlns="{ns}">',
    '<{root} xmlns:i="{xsi}" xmlns="{ns}" extra="1">',
    '<{root}  xmlns:i="{xsi}" xmlns="{ns}">',
    '<{lower} xmlns:i="{xsi}" xmlns="{ns}">',
    '<{root} xmlns:i="{xsi}" xmlns="{ns}" xmlns="urn:twice">',
)
_NAMESPACES = (
    "http://www.superoffice.net/ws/crm/NetServer/Services88",
    "",
    "urn:a&b",
    "urn:a<b",
    "http://www.w3.org/XML/1998/namespace",
    "urn:é",
)
_TAILS = (*["</{root}>"] * 6, "</{root}>\n", "</{root} >", "</{lower}>", "</{root}>x", "")
_SEPARATORS = (*[""] * 7, " ", "\n", "\r\n", "\x0c", "<!--c-->", "<?pi?>", "x")
# A child's spellings: nil, empty, with a text, or closed by another element's end tag.
_FORMS = (
    '<{name} i:nil="true" />',
    '<{name} i:nil="true" />',
    '<{name} i:nil="true"/>',
    "<{name} />",
    "<{name}/>",
    "<{name}></{name}>",
    "<{name}>{text}</{name}>",
    "<{name}>{text}</{other}>",
)
_TEXTS = st.one_of(
    st.sampled_from(["NO-800099668", "0", "x", "Loud"]),  # NOTE: flat texts, weighted up
    st.sampled_from(
        ["", " ", "0", "-5", "42", "2147483648", "1e3", "true", "false", "1", "Quiet", "Loud"]
    ),
    st.sampled_from(["0.5", "NaN", "INF", "-0", "&amp;", "&#65;", "&bad;", "a\rb", "]]>", "é"]),
    st.builds(lambda d: d, datetimes()),
    st.text(
        alphabet=st.sampled_from("aZ09 _-.,:;/\t\n\r&<>\"'é\x01\x7f\ufffe"),
        max_size=12,
    ),
)


@st.composite
def _children(draw: st.DrawFn, schema: Schema) -> list[str]:
    fields = [f.name for f in schema.fields]
    names = draw(
        st.one_of(
            st.just(fields),
            st.just(fields),
            st.permutations(fields),
            st.lists(st.sampled_from([*fields, "Other", "p:Name", "x-y", "_u", "a.b"]), max_size=6),
        )
    )
    children = []
    for name in names:
        form = draw(st.sampled_from(_FORMS))
        text = draw(_TEXTS) if "{text}" in form else ""
        other = draw(st.sampled_from([f"{name}x", name.lower(), f"{name} ", "Other"]))
        children.append(form.format(name=name, text=text, other=other))
    if names and draw(st.integers(0, 9)) == 0:  # another attribute on one child
        spelling = draw(
            st.sampled_from([' i:nil="1"', ' i:nil="false"', ' a="b"', " i:nil='true'"])
        )
        at = draw(st.integers(0, len(children) - 1))
        name = names[at]
        children[at] = f"<{name}{spelling} />"
    return children


@st.composite
def flat_documents(draw: st.DrawFn, schema: Schema) -> bytes:
    root = schema.xml_name
    fill = {
        "root": root,
        "lower": root.lower(),
        "xsi": _XSI,
        "ns": draw(st.sampled_from(_NAMESPACES)),
    }
    head = draw(st.sampled_from(_HEADS)).format(**fill)
    tail = draw(st.sampled_from(_TAILS)).format(**fill)
    separator = draw(st.sampled_from(_SEPARATORS))
    body = (head + separator.join(draw(_children(schema))) + tail).encode("utf-8")
    if draw(st.integers(0, 4)) == 0:
        body = draw(mutated(body, (b"<", b">", b"/>", b' i:nil="true"', b"&amp;", b"</")))
    return body


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.name)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_flat_documents_read_as_the_parser_reads_them(schema: Schema, data: st.DataObject) -> None:
    _same(data.draw(flat_documents(schema)), schema)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.name)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_flat_documents_under_other_options_read_as_the_parser_reads_them(
    schema: Schema, data: st.DataObject
) -> None:
    options = data.draw(
        st.sampled_from(
            [
                Options(max_nodes=3),
                Options(max_nodes=40),
                Options(unknown="error"),
                Options(max_depth=1),
            ]
        )
    )
    media = data.draw(
        st.sampled_from(
            [
                None,
                "application/xml",
                "application/xml; charset=utf-8",
                "text/xml; charset=iso-8859-1",
            ]
        )
    )
    content_type = parse_content_type(media) if media else None
    _same(data.draw(flat_documents(schema)), schema, options, content_type)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.name)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_written_documents_read_back_the_same_either_way(
    schema: Schema, data: st.DataObject
) -> None:
    value = data.draw(carriers(schema, depth=1))
    body = XmlCodec().encode(value, schema)
    outcome, _ = _same(body, schema)
    assert outcome == ("value", value)


# -- where the flat path is taken, and where not ------------------------------------------

_NET = f'<EnrichContactEntityRequest xmlns:i="{_XSI}" xmlns="http://www.superoffice.net/ws/crm/NetServer/Services88">'
_USUAL = (
    _NET
    + '<ContactEntity i:nil="true" /><EnrichId>NO-800099668</EnrichId></EnrichContactEntityRequest>'
)


@pytest.mark.parametrize(
    ("children", "value"),
    [
        ('<ContactEntity i:nil="true" /><EnrichId>NO-800099668</EnrichId>', "NO-800099668"),
        ('<ContactEntity i:nil="true"/><EnrichId />', ""),
        ('<ContactEntity i:nil="true" /><EnrichId></EnrichId>', ""),
        ('<ContactEntity i:nil="true" /><EnrichId i:nil="true" />', None),
        ('<ContactEntity i:nil="true" /><EnrichId> a\tb\n </EnrichId>', " a\tb\n "),
    ],
)
def test_the_usual_requests_never_reach_the_parser(
    monkeypatch: pytest.MonkeyPatch, children: str, value: str | None
) -> None:
    def no_parser(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the parser was called")

    body = (_NET + children + "</EnrichContactEntityRequest>").encode()
    outcome, flat = _same(body, WRAPPER)
    assert flat and outcome == ("value", {"ContactEntity": None, "EnrichId": value})
    codec = XmlCodec()
    codec.decode(_USUAL.encode(), WRAPPER)  # NOTE: the fast reader is built before the patch
    monkeypatch.setattr(xml_codec, "parse_document", no_parser)
    assert codec.decode(body, WRAPPER) == {"ContactEntity": None, "EnrichId": value}


@pytest.mark.parametrize(
    "body",
    [
        _USUAL.replace("><EnrichId", "> <EnrichId"),  # whitespace between children
        _USUAL.replace("><EnrichId", ">\x0c<EnrichId"),  # a form feed: not XML at all
        _USUAL.replace("</EnrichId>", "</Enrichid>"),  # another element's end tag
        _USUAL.replace("</EnrichId>", "</EnrichId >"),  # well-formed, not .NET's spelling
        _USUAL + "\n",  # after the root
        _USUAL.replace("NO-800099668", "NO &amp; 1"),  # a reference
        _USUAL.replace("NO-800099668", "NO\r1"),  # a carriage return (normalised)
        _USUAL.replace("NO-800099668", "NO-é"),  # not ASCII
        _USUAL.replace("NO-800099668", "<![CDATA[NO]]>"),
        _USUAL.replace("<EnrichId>", "<p:EnrichId>"),
        _USUAL.replace('i:nil="true"', 'i:nil="1"'),
        _USUAL.replace("xmlns:i=", "xmlns:j=").replace("i:nil", "j:nil"),
        _USUAL.replace(f'xmlns:i="{_XSI}"', f"xmlns:i='{_XSI}'"),
        _USUAL.replace(
            '<ContactEntity i:nil="true" />',
            "<ContactEntity><ContactId>1</ContactId></ContactEntity>",
        ),
        _USUAL.replace("</EnrichId>", "</EnrichId><Extra />"),
        _USUAL.replace("EnrichContactEntityRequest", "enrichcontactentityrequest"),
        _NET + "</EnrichContactEntityRequest>",  # no child
        _USUAL.replace("NO-800099668", "N" * FLAT_MAX),  # too long to look at
    ],
)
def test_other_documents_go_to_the_parser(body: str) -> None:
    _, flat = _same(body.encode(), WRAPPER)
    assert not flat


@pytest.mark.parametrize(
    ("options", "media"),
    [
        (Options(max_nodes=2), None),
        (None, "application/xml; charset=iso-8859-1"),
        (None, "application/xml; charset=utf-16"),
    ],
)
def test_limits_and_charsets_are_left_to_the_parser(options: Options | None, media: str) -> None:
    content_type = parse_content_type(media) if media else None
    _, flat = _same(_USUAL.encode(), WRAPPER, options, content_type)
    assert not flat
