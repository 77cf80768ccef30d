"""The fast paths of ``parse_document`` against the reference pieces they stand for.

Three shortcuts (negotiate/codecs/xml/parse.py), each compared here with the slower
code it replaces, on random documents:

* a body that starts with ``<`` and a name (no byte order mark, no UTF-16/32 byte
  pattern, no XML declaration, comment, PI or DOCTYPE before the root) and comes
  without a charset other than UTF-8 skips ``_utf8_body`` and ``_check_prolog``;
* the root's default namespace is found and blanked by one match of the whole start
  tag (``_ROOT_TAG``), where the reference walks the tag attribute by attribute;
* the nil proof (``_NOT_NIL``) is one regular expression, reordered, and over 2 KB
  scans only between the first and the last "="; the reference is the earlier one,
  which said the same thing in another order, over the whole body;
* ``_utf8_body`` skips the byte order mark and the UTF-16/32 patterns for a body that
  starts with "<" and no NUL; the reference tries them all.

The outcome compared is the parsed tree (serialised) and the nil flag, or the error
(class and message): the same on every input. Inputs that must not take a shortcut
(a BOM, UTF-16 without one, a declaration naming another encoding, a charset
parameter, a DOCTYPE after a comment, a repeated ``xmlns``) are checked to come out
as the reference says, which only the slow path gives.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree

from negotiate.codecs._text import bom_of, text_codec, utf8_text
from negotiate.codecs.xml import XmlCodec
from negotiate.codecs.xml.parse import (
    _DECLARED,
    _NET_ROOT,
    _NOT_NIL,
    _PARSER,
    _ROOT_TAG,
    _SNIFF,
    _SUPPORTED,
    _UTF8_NAMES,
    _check_prolog,
    _syntax_error,
    parse_document,
)
from negotiate.errors import NegotiateError, UnsupportedMediaType, excerpt
from negotiate.media import MediaType
from tests.helpers import CONTACT
from tests.strategies import carriers, mutated
from tests.test_xml_fast import NODE

_XSI = b"http://www.w3.org/2001/XMLSchema-instance"

# -- the reference: the code the shortcuts replace -------------------------------------------

_START_TAG = re.compile(rb"""<[^\s/>!?]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_ATTRIBUTE = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_OLD_NOT_NIL = re.compile(rb"""=(?:(?<! i:nil=)(?<! xmlns:d2p1=)|(?<= i:nil=)(?!"true"))""")


def _reference_blank(body: bytes, root: int) -> tuple[bytes, int, bool]:
    """The root's one ``xmlns="..."`` blanked, attribute by attribute (none if repeated)."""
    match = _START_TAG.match(body, root)
    if match is None:
        return body, 0, False
    attributes = list(_ATTRIBUTE.finditer(body, root, match.end()))
    xsi = any(
        a[1] == b"xmlns:i" and (a[2] if a[2] is not None else a[3]) == _XSI for a in attributes
    )
    defaults = [a for a in attributes if a[1] == b"xmlns"]
    if len(defaults) > 1:  # the parser refuses a repeated attribute: leave it to say so
        return body, 0, False
    if defaults:
        # NOTE: from the name on: a line break before it stays, so lines count true
        start, end = defaults[0].start(1), defaults[0].end()
        body = body[:start] + b" " * (end - start) + body[end:]
    return body, match.end(), xsi


def _reference_utf8(body: bytes, media_type: MediaType | None) -> bytes:
    """The document as UTF-8, step by step: BOM, charset, byte pattern, declaration."""
    found = bom_of(body)
    if found is not None:
        bom, name = found
        return body[len(bom) :] if name == "utf-8" else utf8_text(body, name, "byte order mark")
    charset = media_type.charset if media_type is not None else None
    if charset is not None:
        codec = text_codec(charset)
        if codec is None:
            raise UnsupportedMediaType(
                f"Unsupported charset {excerpt(charset)} for XML", supported=_SUPPORTED
            )
        return body if codec in _UTF8_NAMES else utf8_text(body, codec, "charset parameter")
    for magic, name in _SNIFF:
        if body[:4] == magic:
            return utf8_text(body, name, "byte pattern of its first characters")
    match = _DECLARED.match(body, 0, 512)
    if match is None:
        return body
    label = (match[1] or match[2]).decode("ascii")
    codec = text_codec(label)
    if codec is None:
        raise UnsupportedMediaType(
            f"Unsupported encoding {excerpt(label)} in the XML declaration", supported=_SUPPORTED
        )
    return body if codec in _UTF8_NAMES else utf8_text(body, codec, "XML declaration")


def _reference(body: bytes, media_type: MediaType | None, keep: bool) -> Any:
    try:
        data = _reference_utf8(body, media_type)
        start = _check_prolog(data)
        head, xsi = 0, False
        if not keep:
            data, head, xsi = _reference_blank(data, start)
        try:
            root = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc) from None
    except NegotiateError as exc:
        return ("error", type(exc), exc.message)
    nils = xsi and _OLD_NOT_NIL.search(data, head) is None
    return ("tree", etree.tostring(root), nils)


def _outcome(body: bytes, media_type: MediaType | None, keep: bool) -> Any:
    try:
        root, nils = parse_document(body, media_type, keep_default_namespace=keep, max_nodes=None)
    except NegotiateError as exc:
        return ("error", type(exc), exc.message)
    return ("tree", etree.tostring(root), nils)


# -- random documents -----------------------------------------------------------------------

_ROOT = re.compile(rb"<([^\s/>!?]+)([^>]*)>")
_ROOT_ATTRIBUTES = (
    b' xmlns="urn:a"',
    b" xmlns='urn:b'",
    b'\txmlns = "urn:c"',
    b' xmlns:i="http://www.w3.org/2001/XMLSchema-instance"',
    b" xmlns:i='http://www.w3.org/2001/XMLSchema-instance'",
    b' xmlns:i="urn:not-xsi"',
    b'\nxmlns:i\n=\n"http://www.w3.org/2001/XMLSchema-instance"',
    b' xmlns:ix="http://www.w3.org/2001/XMLSchema-instance"',
    b' xmlnsx="1"',
    b' xmlns:d2p1="urn:arrays"',
    b' a="1"',
    b" b='x>y'",
    b""" c=' xmlns="urn:in-a-value" '""",
    b''' d=" xmlns:i='http://www.w3.org/2001/XMLSchema-instance'"''',
    b' i:type="x"',
    b" ",
    b"\r\n",
    b' e=">"',
    b" f",
    b' g="unclosed',
)
_PREFIXES = (
    b"",
    b" ",
    b"\n\t",
    b"\xef\xbb\xbf",
    b'<?xml version="1.0"?>',
    b'<?xml version="1.0" encoding="utf-8"?>',
    b"<?xml version='1.0' encoding='ISO-8859-1'?>\n",
    b'<?xml version="1.0" encoding="klingon"?>',
    b"<!-- a=1 -->",
    b"<?pi x?>",
    b"<!DOCTYPE x>",
    b"<!-- c --><!DOCTYPE x>",
    b"<",
    b"<!",
    b"<?",
)
_MEDIA_TYPES = (
    None,
    MediaType("application", "xml"),
    MediaType("application", "xml", (("charset", "utf-8"),)),
    MediaType("text", "xml", (("charset", "iso-8859-1"),)),
    MediaType("application", "xml", (("charset", "utf-16"),)),
    MediaType("application", "xml", (("charset", "us-ascii"),)),
    MediaType("application", "xml", (("charset", "bogus"),)),
    MediaType("application", "xml", (("q", "1"),)),
)
_ENCODINGS = ("as is", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1")


def _recoded(body: bytes, encoding: str) -> bytes:
    if encoding == "as is":
        return body
    try:
        return body.decode("utf-8").encode(encoding)
    except (UnicodeDecodeError, UnicodeEncodeError):
        return body


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """A written carrier whose root start tag, prolog and encoding are bent at random."""
    schema = draw(st.sampled_from([CONTACT, NODE]))
    value = draw(carriers(schema, depth=1))
    body = XmlCodec().encode(value, schema)
    match = _ROOT.match(body)
    assert match is not None
    attributes = re.findall(rb"""\s+[^\s=]+="[^"]*\"""", match[2])
    attributes += draw(st.lists(st.sampled_from(_ROOT_ATTRIBUTES), max_size=4))
    attributes = draw(st.permutations(attributes))
    close = draw(st.sampled_from([b">", b" >", b"\t>"]))
    body = b"<" + match[1] + b"".join(attributes) + close + body[match.end() :]
    if draw(st.integers(0, 4)) == 0:
        body = draw(mutated(body, (b"=", b' i:nil="true"', b"xmlns", b'"', b"<", b">")))
    # NOTE: half of them as written (no prefix, UTF-8), the body the shortcut is for
    body = draw(st.one_of(st.just(b""), st.sampled_from(_PREFIXES))) + body
    return _recoded(body, draw(st.one_of(st.just("as is"), st.sampled_from(_ENCODINGS))))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=documents(),
    media_type=st.one_of(st.none(), st.sampled_from(_MEDIA_TYPES)),
    keep=st.booleans(),
)
def test_parse_document_is_the_reference_pieces(
    body: bytes, media_type: MediaType | None, keep: bool
) -> None:
    assert _outcome(body, media_type, keep) == _reference(body, media_type, keep)


_NIL_TOKENS = (
    b"=",
    b' i:nil="true"',
    b' i:nil="false"',
    b" i:nil=",
    b' xmlns:d2p1="',
    b" xmlns:d2p1=",
    b'"true"',
    b"l=",
    b"1=",
    b" ",
    b"x",
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_NIL_TOKENS), max_size=12), st.integers(0, 3))
def test_the_nil_proof_says_what_it_said_before(parts: list[bytes], start: int) -> None:
    data = b"".join(parts)
    assert (_NOT_NIL.search(data, start) is None) == (_OLD_NOT_NIL.search(data, start) is None)


# -- inputs that must take the slow path ---------------------------------------------------------


def _root_text(body: bytes, media_type: MediaType | None = None) -> Any:
    root, _ = parse_document(body, media_type, keep_default_namespace=False, max_nodes=None)
    return root.text


def test_what_the_shortcut_must_not_take_comes_out_as_the_slow_path_says() -> None:
    text = "Bøe"
    plain = f"<R>{text}</R>"
    latin1 = MediaType("application", "xml", (("charset", "iso-8859-1"),))
    # transcoded from what the bytes, the charset or the declaration say
    assert _root_text(b"\xef\xbb\xbf" + plain.encode()) == text
    assert _root_text(plain.encode("utf-16")) == text
    sniffed = f'<?xml version="1.0"?>{plain}'.encode("utf-16-le")  # "<\x00?\x00", no BOM
    assert _root_text(sniffed) == text
    assert _root_text(plain.encode("latin-1"), latin1) == text
    declared = f'<?xml version="1.0" encoding="iso-8859-1"?>{plain}'.encode("latin-1")
    assert _root_text(declared) == text
    # a DOCTYPE after a comment is refused before parsing
    outcome = _outcome(b"<!-- x --><!DOCTYPE R><R/>", None, False)
    assert outcome[0] == "error" and "DOCTYPE" in outcome[2]
    # a root with two default namespace declarations is not well-formed: not blanked away
    outcome = _outcome(b'<R xmlns="urn:a" xmlns="urn:b"><A/></R>', None, False)
    assert outcome[0] == "error" and "redefined" in outcome[2]
    # an "xmlns" inside another attribute's value is not the declaration
    root, nils = parse_document(
        b"""<R a=' xmlns="urn:x" ' xmlns="urn:y"><A/></R>""",
        None,
        keep_default_namespace=False,
        max_nodes=None,
    )
    assert root.get("a") == ' xmlns="urn:x" ' and root[0].tag == "A" and not nils
    # "xmlns:i" named in another attribute's value binds nothing: no nil flag
    body = (
        b'<R xmlns:i="urn:other" d=\' xmlns:i="http://www.w3.org/2001/XMLSchema-instance"\'>'
        b'<A i:nil="true" /></R>'
    )
    _, nils = parse_document(body, None, keep_default_namespace=False, max_nodes=None)
    assert not nils


def test_the_usual_body_is_parsed_with_its_namespace_blanked_and_the_flag_on() -> None:
    codec = XmlCodec()
    body = codec.encode(CONTACT.default(), CONTACT)
    assert body.startswith(b"<ContactEntity xmlns:i=")
    root, nils = parse_document(body, None, keep_default_namespace=False, max_nodes=None)
    assert nils and root.tag == "ContactEntity" and root.nsmap == {"i": _XSI.decode()}
    root, nils = parse_document(body, None, keep_default_namespace=True, max_nodes=None)
    assert not nils and root.tag.startswith("{http://www.superoffice.net/")


@settings(max_examples=300, deadline=None)
@given(
    name=st.from_regex(r"[A-Za-z_][\w.\-]{0,20}", fullmatch=True),
    uri=st.text(st.characters(blacklist_characters='"<&', codec="utf-8"), max_size=40),
    tail=st.sampled_from([b">", b"/>", b" >", b' a="1">', b">text", b""]),
)
def test_the_dotnet_root_pattern_agrees_with_the_general_one(
    name: str, uri: str, tail: bytes
) -> None:
    body = (
        f'<{name} xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="{uri}"'.encode() + tail
    )
    net, general = _NET_ROOT.match(body), _ROOT_TAG.match(body)
    if net is None:
        return
    assert general is not None
    assert net.end() == general.end() and net.span(2) == general.span(2)
    assert (net[1] or net[3]) == (general[1] or general[3])


_CHILDREN = (
    b'<A i:nil="true" />',
    b'<A i:nil="true"/>',
    b'<A i:nil="false" />',
    b'<A x="1" />',
    b'<A xmlns:d2p1="urn:arrays"><d2p1:string>s</d2p1:string></A>',
    b"<A>a = b</A>",
    b'<A>i:nil="true"</A>',
    b'<A> i:nil="true"</A>',
    b"<A>=</A>",
    b"<A>" + b"y" * 700 + b"</A>",
    b"<A>" + b"z" * 2100 + b"</A>",
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_CHILDREN), max_size=8))
def test_the_nil_flag_of_a_long_body_is_the_whole_scan(children: list[bytes]) -> None:
    # NOTE: from 2048 bytes on, only the bytes between the first and the last "=" are
    # scanned; the reference scans everything after the root's start tag
    start = b'<R xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
    body = start + b"".join(children) + b"</R>"
    _, nils = parse_document(body, None, keep_default_namespace=False, max_nodes=None)
    assert nils == (_OLD_NOT_NIL.search(body, len(start)) is None)
