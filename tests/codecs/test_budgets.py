"""Work budgets and limits of the JSON, XML and form decoders, in every mode.

Hostile bodies are built at the size the reference server accepts (under its 16 MiB
``max_body``) and must get their typed 400 - status, location, limit - without being
built whole; legitimate bodies near the limits must still decode. Nothing here asserts
a timing: that belongs in ``benches/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given, settings, strategies as st
from lxml import etree
from strategies import mutated

import negotiate.codecs._nodes as json_module
import negotiate.codecs.xml.parse as xml_module
from negotiate.codecs.form import FormCodec
from negotiate.codecs.json import JsonCodec, check_nodes
from negotiate.codecs.xml import XmlCodec, parse_xml
from negotiate.errors import EncodeError, InvalidValue, MalformedBody, NegotiateError
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.schema import Schema, get_schema
from negotiate.schema.values import parse_int32

CONTACT = get_schema("ContactEntity")
MAX_BODY = DEFAULT_OPTIONS.max_body
NODES = DEFAULT_OPTIONS.max_nodes


def error_of(codec: Any, body: bytes, schema: Schema | None = CONTACT) -> NegotiateError:
    with pytest.raises(NegotiateError) as info:
        codec.decode(body, schema)
    return info.value


def assert_over_budget(error: NegotiateError, location: str, limit: int = NODES) -> None:
    assert type(error) is MalformedBody and error.status == 400
    assert error.location == location
    assert error.detail == {"limit": limit}
    assert f"limit of {limit} nodes" in error.message
    assert error.to_dict()["Limit"] == limit


# --- the hostile bodies, at full size ---------------------------------------------------------


@pytest.fixture(scope="module")
def form_keys() -> bytes:
    """1.6 million distinct unknown keys."""
    body = b"&".join(b"x%d=" % i for i in range(1_600_000))
    assert len(body) < MAX_BODY
    return body


@pytest.fixture(scope="module")
def xml_siblings() -> bytes:
    """Four million empty sibling elements."""
    body = b"<ContactEntity>" + b"<a/>" * 4_000_000 + b"</ContactEntity>"
    assert len(body) < MAX_BODY
    return body


@pytest.fixture(scope="module")
def json_arrays() -> bytes:
    """5.5 million empty arrays inside a property the schema does not declare."""
    body = b'{"X":[' + b"[]," * 5_499_999 + b"[]]}"
    assert len(body) < MAX_BODY
    return body


# The reference server reads these with a schema and the default options; without a schema
# the budget holds the same (a smaller one keeps the run short: the work is up to the budget).


def test_form_of_many_distinct_keys(form_keys: bytes) -> None:
    error = error_of(FormCodec(), form_keys)
    assert_over_budget(error, f"x{NODES}")  # the first field past the budget
    error = error_of(FormCodec(Options(max_nodes=1000)), form_keys, None)
    assert_over_budget(error, "x1000", limit=1000)


def test_xml_of_many_siblings(xml_siblings: bytes) -> None:
    error = error_of(XmlCodec(), xml_siblings)
    assert_over_budget(error, f"/ContactEntity/a[{NODES}]")  # the root is the first node
    error = error_of(XmlCodec(Options(max_nodes=100_000)), xml_siblings, None)
    assert_over_budget(error, "/ContactEntity/a[100000]", limit=100_000)


@pytest.mark.parametrize("schema", [CONTACT, None], ids=["schema", "schemaless"])
def test_json_of_many_empty_arrays(json_arrays: bytes, schema: Schema | None) -> None:
    error = error_of(JsonCodec(), json_arrays, schema)
    # root, key "X" and its array are three nodes: item 999,997 is the millionth-and-first
    assert_over_budget(error, f"/X/{NODES - 3}")


def test_the_budget_is_the_options_one() -> None:
    options = Options(max_nodes=50)
    body = b'{"X":[' + b"0," * 99 + b"0]}"
    assert_over_budget(error_of(JsonCodec(options), body), "/X/47", limit=50)
    assert JsonCodec(Options(max_nodes=103)).decode(body, CONTACT) == CONTACT.default()


# --- legitimate bodies near the limits --------------------------------------------------------


def test_json_near_the_default_budget_decodes() -> None:
    body = b"[" + b"0," * (NODES - 2) + b"0]"  # the array and its items: exactly the budget
    assert len(JsonCodec(Options(max_items=NODES)).decode(body, None)) == NODES - 1
    over = b"[" + b"0," * (NODES - 1) + b"0]"
    assert_over_budget(error_of(JsonCodec(Options(max_items=NODES)), over, None), f"/{NODES - 1}")


def test_json_commas_in_strings_are_not_nodes() -> None:
    # Far more structural bytes than the budget, all inside strings (some escaped
    # quotes and backslashes among them): the exact count clears it.
    text = 'a,b:c[d{e\\"f\\\\' * 200_000
    value = {"Name": text, "Department": '"' * 1000, "OrgNr": "[{,:}]" * 10}
    body = orjson.dumps(value)
    assert body.count(b",") > 100 * 1000
    decoded = JsonCodec(Options(max_nodes=1000)).decode(body, CONTACT)
    assert decoded["Name"] == text and decoded["OrgNr"] == "[{,:}]" * 10


def test_json_exactly_at_the_budget() -> None:
    options = Options(max_nodes=1000)
    # root, "Name" and its string, "Emails" and its array: five nodes, then the items
    padding = ",".join(["x"] * 3000)
    body = orjson.dumps({"Name": padding, "Emails": [None] * 995})
    assert JsonCodec(options).decode(body, CONTACT)["Emails"] == [None] * 995
    body = orjson.dumps({"Name": padding, "Emails": [None] * 996})
    assert_over_budget(error_of(JsonCodec(options), body), "/Emails/995", limit=1000)


@pytest.mark.parametrize(
    ("body", "location"),
    [
        pytest.param(b'{"a":' + b"[" * 8 + b"]" * 8 + b', "b": 1}', "/b", id="key"),
        pytest.param(b'{"a": {"b": [1, {"c": 2}], "d": 3}}', "/a/d", id="nested key"),
        pytest.param(b'[[[],[]],[["x", 1]]]', "/1/0/1", id="deep item"),
        pytest.param(b'[{"k\\"/~": [0, 0]}]', '/0/k"~1~0/1', id="escaped key"),
        pytest.param(b'{"a": {"b": {"c": {}}, "d": 4}}', "/a/d", id="value"),
    ],
)
def test_json_budget_locates_the_first_node_past_it(body: bytes, location: str) -> None:
    value = json.loads(body)
    limit = _nodes(value) - 1
    with pytest.raises(MalformedBody) as info:
        json_module._count_exactly(body, limit)
    assert info.value.location == location


def _nodes(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(1 + _nodes(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_nodes(v) for v in value)
    return 1


def _pointers(value: Any, where: str = "") -> Iterator[str]:
    """The pointer of every node in document order (a key has its member's pointer)."""
    yield where
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}/" + key.replace("~", "~0").replace("/", "~1")
            yield here
            yield from _pointers(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _pointers(item, f"{where}/{index}")


_JSON_TEXT = st.text(st.sampled_from('ab,:[]{}"\\/~ é'), max_size=6)
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), _JSON_TEXT),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_JSON_TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150)
@given(value=_JSON, indent=st.booleans(), chunk=st.sampled_from([1, 2, 5, 64]))
def test_json_exact_count_matches_the_parse(value: Any, indent: bool, chunk: int) -> None:
    body = orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else 0)
    nodes = _nodes(value)
    saved = json_module._CHUNK
    json_module._CHUNK = chunk  # tiny chunks put their boundaries everywhere
    try:
        json_module._count_exactly(body, nodes)  # exactly the budget: accepted
        if nodes > 1:
            with pytest.raises(MalformedBody) as info:
                check_nodes(body, nodes - 1)
            assert info.value.location == list(_pointers(value))[nodes - 1]
    finally:
        json_module._CHUNK = saved


def test_xml_exactly_at_the_budget() -> None:
    options = Options(max_nodes=1000)
    # A comment full of start-tag lookalikes lifts the byte-count bound over the budget,
    # so the counting parse runs; the root, its two attributes and Name are four nodes.
    comment = "<!--" + "<x>" * 2000 + "-->"
    head = f'<ContactEntity a="1" b="2">{comment}<Name>n</Name>'
    body = (head + "<X/>" * 996 + "</ContactEntity>").encode()
    assert XmlCodec(options).decode(body, CONTACT)["Name"] == "n"
    body = (head + "<X/>" * 997 + "</ContactEntity>").encode()
    assert_over_budget(error_of(XmlCodec(options), body), "/ContactEntity/X[997]", limit=1000)


_XML_NAMES = st.sampled_from(["a", "b", "p:a", "Root"])


@st.composite
def _xml_trees(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(_XML_NAMES)
    attrs = draw(st.lists(st.sampled_from(["x", "y", "p:z"]), max_size=2, unique=True))
    text = "".join(f' {attr}="{i}"' for i, attr in enumerate(attrs))
    if depth == 0:
        text += ' xmlns:p="urn:p"'  # a declaration, not an attribute: no node
    children = draw(st.lists(_xml_trees(depth + 1), max_size=3)) if depth < 3 else []
    return f"<{name}{text}>{''.join(children)}</{name}>" if children else f"<{name}{text}/>"


def _xml_nodes(root: Any) -> list[str]:
    """The XML path of every element and attribute, in document order."""
    out: list[str] = []
    for el in root.iter():
        segments: list[str] = []
        node = el
        while node.getparent() is not None:
            same = [c for c in node.getparent() if c.tag == node.tag]
            segments.append(f"{etree.QName(node).localname}[{same.index(node) + 1}]")
            node = node.getparent()
        segments.append(etree.QName(node).localname)
        path = "/" + "/".join(reversed(segments))
        out.append(path)
        out.extend(f"{path}/@{etree.QName(name).localname}" for name in el.attrib)
    return out


@settings(max_examples=100)
@given(tree=_xml_trees(), feed=st.sampled_from([1, 7, 64, 1 << 16]))
def test_xml_count_matches_the_tree(tree: str, feed: int) -> None:
    # A comment of start-tag lookalikes before the root makes the byte counts
    # inconclusive, so the counting parse runs, fed in chunks of every size.
    data = ("<!--" + "<x>" * 200 + "-->" + tree).encode()
    nodes = _xml_nodes(etree.fromstring(data, etree.XMLParser(remove_comments=True)))
    saved = xml_module._FEED
    xml_module._FEED = feed
    try:
        assert parse_xml(data, max_nodes=len(nodes)) is not None
        if len(nodes) > 1:
            assert len(data) > 4 * len(nodes)  # so that the count runs
            with pytest.raises(MalformedBody) as info:
                parse_xml(data, max_nodes=len(nodes) - 1)
            assert info.value.location == nodes[-1]
    finally:
        xml_module._FEED = saved


def test_xml_attributes_are_nodes() -> None:
    options = Options(max_nodes=100)
    body = ("<ContactEntity " + " ".join(f'a{i}="{i}"' for i in range(200)) + "/>").encode()
    # the root is the first node, its attribute a98 the hundredth
    assert_over_budget(error_of(XmlCodec(options), body, None), "/ContactEntity/@a99", limit=100)


_ODD_NAMES = st.sampled_from(["a", "b", "p:a", "q:b", "a:", ":a", "a\x01", "é", "a.b-c"])


@st.composite
def _odd_trees(draw: st.DrawFn, depth: int = 0) -> str:
    """Trees with names the parser may refuse late or at once (undeclared prefixes,
    no local part, a control character): what the counted parse must locate or refuse."""
    name = draw(_ODD_NAMES)
    attrs = draw(st.lists(st.sampled_from(["x", "p:z", "r:w"]), max_size=2, unique=True))
    text = "".join(f' {attr}="{i}"' for i, attr in enumerate(attrs))
    if depth == 0:
        text += ' xmlns:p="urn:p"'
    children = draw(st.lists(_odd_trees(depth + 1), max_size=4)) if depth < 3 else []
    return f"<{name}{text}>{''.join(children)}</{name}>" if children else f"<{name}{text}/>"


@settings(max_examples=300, deadline=None)
@given(data=st.data(), limit=st.integers(1, 12), feed=st.sampled_from([5, 64, 1 << 16]))
def test_xml_the_counted_parse_refuses_or_answers_as_the_plain_one(
    data: st.DataObject, limit: int, feed: int
) -> None:
    """Any document, well-formed or not: counted at a low limit, it is the plain parse's
    tree (nodes within the limit), a located 400 over it, or the 400 of a bad document;
    never another exception (tests/test_xml_flat.py found two that were)."""
    body = data.draw(_odd_trees()).encode()
    if data.draw(st.booleans()):
        body = data.draw(mutated(body, (b"<", b">", b"/>", b"p:", b":", b' a="1"', b"</")))
    try:
        plain: Any = parse_xml(body)
    except MalformedBody:
        plain = None
    saved = xml_module._FEED
    xml_module._FEED = feed
    try:
        try:
            counted: Any = parse_xml(body, max_nodes=limit)
        except MalformedBody as exc:
            if plain is not None:  # a good document is refused only for its size
                assert exc.detail == {"limit": limit}
                assert len(_xml_nodes(plain)) > limit
            return
    finally:
        xml_module._FEED = saved
    assert plain is not None and len(_xml_nodes(plain)) <= limit
    assert etree.tostring(counted) == etree.tostring(plain)


@pytest.mark.parametrize(
    "root",
    [b"a:", b"a:b:", b'Name xmlns:i="http:', b'Namexmlns:i="http://x"', b"\x00Name", b"Na\x01me"],
)
def test_xml_counted_roots_without_a_local_name_are_a_400(root: bytes) -> None:
    """The counting parse filters its events by the root's local name, which lxml
    refuses empty (a name ending in ":") or with a NUL or control character (found by
    tests/test_xml_flat.py: a ValueError, not a 400)."""
    body = b"<" + root + b">" + b"<b/>" * 50 + b"</" + root + b">"
    error = error_of(XmlCodec(Options(max_nodes=10)), body, None)
    assert isinstance(error, MalformedBody) and error.status == 400
    error = error_of(XmlCodec(Options(max_nodes=10)), body, CONTACT)
    assert isinstance(error, MalformedBody) and error.status == 400


def test_xml_a_node_past_the_budget_with_an_undeclared_prefix_is_located() -> None:
    """The parser refuses an undeclared prefix only at the end of the document, so the
    count can stop at such an element first (found by tests/test_xml_flat.py)."""
    body = b"<Root><a/><b/>" + b"<p:Name/>" * 40 + b"</Root>"
    error = error_of(XmlCodec(Options(max_nodes=3)), body, None)
    assert_over_budget(error, "/Root/p:Name[1]", limit=3)
    assert isinstance(error_of(XmlCodec(), body, None), MalformedBody)


def test_form_exactly_at_the_budget() -> None:
    options = Options(max_nodes=1000)
    # empty parts are no fields, and an escaped '&' is no separator
    fields = [f"x{i}=a%26b" for i in range(999)]
    body = ("Name=n&&&" + "&".join(fields) + "&").encode()
    assert FormCodec(options).decode(body, CONTACT)["Name"] == "n"
    assert FormCodec(options).decode(body, None)["x998"] == "a&b"
    body += b"&&Last%5B0%5D=1"
    assert_over_budget(error_of(FormCodec(options), body), "Last[0]", limit=1000)


# --- max_items and max_depth: unknown properties and schemaless mode --------------------------


def test_json_unknown_containers_are_held_to_the_limits() -> None:
    codec = JsonCodec(Options(max_items=10, max_depth=4))
    error = error_of(codec, orjson.dumps({"Name": "n", "X": {"y": list(range(11))}}))
    assert isinstance(error, InvalidValue) and error.location == "/X/y"
    assert error.detail == {"limit": 10} and "Too many items" in error.message
    error = error_of(codec, orjson.dumps({"X": [[[[[1]]]]]}))
    assert error.location == "/X/0/0/0/0" and error.detail == {"limit": 4}
    assert codec.decode(orjson.dumps({"X": [[[[1]]]]}), CONTACT) == CONTACT.default()


def test_json_unknown_containers_inside_nested_carriers() -> None:
    codec = JsonCodec(Options(max_items=3))
    body = orjson.dumps({"Persons": [{}, {"Firstname": "a", "Extra": [1, 2, 3, 4]}]})
    assert error_of(codec, body).location == "/Persons/1/Extra"


def test_json_carrier_with_too_many_unknown_properties() -> None:
    codec = JsonCodec(Options(max_items=10))
    body = orjson.dumps({"Name": "n", **{f"x{i}": 0 for i in range(11)}})
    error = error_of(codec, body)
    assert isinstance(error, InvalidValue) and "Too many unknown properties" in error.message
    assert error.location == "/x10" and error.detail == {"limit": 10}
    # the declared properties (over forty) are not counted against max_items
    full = orjson.dumps({name.lower(): value for name, value in CONTACT.default().items()})
    assert codec.decode(full, CONTACT) == CONTACT.default()


def test_json_schemaless_limits() -> None:
    codec = JsonCodec(Options(max_items=5, max_depth=3))
    error = error_of(codec, orjson.dumps({"a": {"b": list(range(6))}}), None)
    assert error.location == "/a/b" and error.detail == {"limit": 5}
    error = error_of(codec, orjson.dumps({"a": [{"b": [1]}]}), None)
    assert error.location == "/a/0/b" and error.detail == {"limit": 3}
    assert codec.decode(b'{"a": [{"b": 1}]}', None) == {"a": [{"b": 1}]}


def test_json_schemaless_default_max_items() -> None:
    # the 5.5 million arrays of the report, under the budget: max_items still holds
    body = b"[" + b"[]," * 20_000 + b"[]]"
    error = error_of(JsonCodec(), body, None)
    assert isinstance(error, InvalidValue) and "20001" in error.message and error.location == ""


def test_xml_unknown_elements_are_held_to_the_limits() -> None:
    codec = XmlCodec(Options(max_items=3, max_depth=3))
    body = b"<ContactEntity><Name>n</Name><X><a/><a/><a/><a/></X></ContactEntity>"
    error = error_of(codec, body)
    assert isinstance(error, InvalidValue) and error.location == "/ContactEntity/X"
    assert error.detail == {"limit": 3}
    body = b"<ContactEntity><X><a><b><c/></b></a></X></ContactEntity>"
    error = error_of(codec, body)
    assert error.location == "/ContactEntity/X/a[1]/b[1]/c[1]" and error.detail == {"limit": 3}
    ok = b"<ContactEntity><Name>n</Name><X><a><b/></a></X></ContactEntity>"
    assert codec.decode(ok, CONTACT)["Name"] == "n"
    # an ignored element counts as a document's root; the same read schemaless is deeper
    assert XmlCodec(Options(max_depth=4)).decode(ok, None) == {
        "ContactEntity": {"Name": "n", "X": {"a": {"b": None}}}
    }


def test_xml_carrier_with_too_many_unknown_properties() -> None:
    codec = XmlCodec(Options(max_items=10))
    body = b"<ContactEntity><Name>n</Name>" + b"<x/>" * 11 + b"</ContactEntity>"
    error = error_of(codec, body)
    assert isinstance(error, InvalidValue) and "Too many unknown properties" in error.message
    assert error.location == "/ContactEntity/x" and error.detail == {"limit": 10}
    assert codec.decode(XmlCodec().encode(CONTACT.default(), CONTACT), CONTACT)["Name"] is None


def test_xml_schemaless_counts_attributes_as_items() -> None:
    body = b'<a x="1" y="2" z="3"/>'
    error = error_of(XmlCodec(Options(max_items=2)), body, None)
    assert isinstance(error, InvalidValue) and "Too many attributes" in error.message
    assert XmlCodec(Options(max_items=3)).decode(body, None) == {
        "a": {"@x": "1", "@y": "2", "@z": "3"}
    }


def test_form_schemaless_limits() -> None:
    codec = FormCodec(Options(max_items=3))
    error = error_of(codec, b"a=1&b=2&c=3&d=4", None)
    assert isinstance(error, InvalidValue) and error.location == "d"
    assert error.detail == {"limit": 3}
    error = error_of(codec, b"a=1&a=2&a=3&a=4", None)
    assert error.location == "a" and error.detail == {"limit": 3}
    assert codec.decode(b"a=1&b=2&a=3", None) == {"a": ["1", "3"], "b": "2"}


def test_form_many_distinct_unknown_keys_under_the_budget() -> None:
    codec = FormCodec(Options(max_nodes=200_000))
    body = b"&".join(b"x%d=%d" % (i, i) for i in range(150_000)) + b"&Name=n&Persons%5B0%5D.Rank=1"
    value = codec.decode(body, CONTACT)
    assert value["Name"] == "n" and value["Persons"][0]["Rank"] == 1
    error = error_of(FormCodec(Options(max_nodes=200_000, unknown="error")), body)
    assert error.location == "x0"


# --- the XML writer and reader agree ----------------------------------------------------------


def test_xml_round_trip_of_a_text_node_over_ten_megabytes() -> None:
    codec = XmlCodec()
    name = ("Å & <b> \r\n" + "x" * 100) * 100_000  # 11.1 MB of UTF-8, 12.5 MB escaped
    value = CONTACT.default()
    value["Name"] = name
    body = codec.encode(value, CONTACT)
    assert 10_000_000 < len(body) < MAX_BODY
    assert codec.decode(body, CONTACT)["Name"] == name
    plain = {"a": {"@v": "x" * 10_500_000, "b": "y"}}
    body = codec.encode(plain, None)
    assert codec.decode(body, None) == plain


def test_xml_huge_mode_keeps_the_hardening() -> None:
    codec = XmlCodec()
    text = b"x" * 10_100_000
    deep = b"<a>" * 300 + b"<b>" + text + b"</b>" + b"</a>" * 300
    error = error_of(codec, deep, None)
    assert isinstance(error, MalformedBody) and "deeper than 256" in error.message
    doctype = b'<!DOCTYPE a [<!ENTITY e "boom">]><a>' + text + b"&e;</a>"
    assert "DOCTYPE" in error_of(codec, doctype, None).message
    entity = b"<a>" + text + b"&e;</a>"
    assert isinstance(error_of(codec, entity, None), MalformedBody)


def test_xml_writer_refuses_names_the_reader_cannot_read() -> None:
    codec = XmlCodec()
    fits = {"a" * 50_000: "x"}
    assert codec.decode(codec.encode(fits, None), None) == fits
    with pytest.raises(EncodeError) as info:
        codec.encode({"a" * 50_001: "x"}, None)
    assert "50001 bytes" in info.value.message
    with pytest.raises(EncodeError):
        codec.encode({"r": {"é" * 25_001: "x"}}, None)


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_xml_writer_depth_matches_the_reader(depth: int) -> None:
    codec = XmlCodec(Options(max_depth=depth))
    value: Any = "x"
    for level in range(depth):
        value = {f"e{level}": value}
    assert codec.decode(codec.encode(value, None), None) == value
    with pytest.raises(EncodeError):
        codec.encode({"top": value}, None)
    assert isinstance(error_of(codec, XmlCodec().encode({"top": value}, None), None), InvalidValue)


# --- big integers and long input in messages --------------------------------------------------

_DIGITS = "1" * 5000


@pytest.mark.parametrize(
    ("codec", "body", "location"),
    [
        pytest.param(
            XmlCodec(),
            f"<ContactEntity><ContactId>{_DIGITS}</ContactId></ContactEntity>".encode(),
            "/ContactEntity/ContactId",
            id="xml",
        ),
        pytest.param(
            XmlCodec(),
            f"<ContactEntity><Persons><Person><Rank>-{_DIGITS}</Rank></Person></Persons>"
            "</ContactEntity>".encode(),
            "/ContactEntity/Persons/Person[1]/Rank",
            id="xml nested",
        ),
        pytest.param(FormCodec(), f"ContactId={_DIGITS}".encode(), "ContactId", id="form"),
        pytest.param(
            FormCodec(), f"Persons[0].Rank=+{_DIGITS}".encode(), "Persons[0].Rank", id="form nested"
        ),
    ],
)
def test_big_integers_get_our_message(codec: Any, body: bytes, location: str) -> None:
    error = error_of(codec, body)
    assert isinstance(error, InvalidValue) and error.location == location
    assert "5000 digits" in error.message and "out of range" in error.message
    assert "int_max_str_digits" not in str(error) and "Exceeds" not in str(error)


def test_big_number_for_an_enum_in_a_form() -> None:
    body = f"Address.Street.AtypeIdx={_DIGITS}".encode()
    error = error_of(FormCodec(), body)
    assert isinstance(error, InvalidValue) and "5000 digits" in error.message
    assert "int_max_str_digits" not in str(error)


def test_leading_zeros_are_not_digits() -> None:
    assert parse_int32("0" * 5000 + "42") == 42
    assert parse_int32("-" + "0" * 5000) == 0
    assert parse_int32("+0002147483647") == 2**31 - 1
    with pytest.raises(ValueError, match="out of range"):
        parse_int32("2147483648")
    body = f"<ContactEntity><ContactId>{'0' * 5000}7</ContactId></ContactEntity>".encode()
    assert XmlCodec().decode(body, CONTACT)["ContactId"] == 7


_HUGE = "x" * 1_000_000


@pytest.mark.parametrize(
    ("codec", "body", "schema"),
    [
        pytest.param(JsonCodec(), orjson.dumps({"ContactId": _HUGE}), CONTACT, id="json int"),
        pytest.param(JsonCodec(), orjson.dumps({"UpdatedDate": _HUGE}), CONTACT, id="json date"),
        pytest.param(
            JsonCodec(), orjson.dumps({"Persons": [{}, {"Rank": _HUGE}]}), CONTACT, id="json nested"
        ),
        pytest.param(
            JsonCodec(Options(unknown="error")), orjson.dumps({_HUGE: 1}), CONTACT, id="json key"
        ),
        pytest.param(
            XmlCodec(),
            f"<ContactEntity><ContactId>{_HUGE}</ContactId></ContactEntity>",
            CONTACT,
            id="xml int",
        ),
        pytest.param(
            XmlCodec(),
            f"<ContactEntity><UpdatedDate>{_HUGE}</UpdatedDate></ContactEntity>",
            CONTACT,
            id="xml date",
        ),
        pytest.param(XmlCodec(), f"<ContactEntity>{_HUGE}</ContactEntity>", CONTACT, id="xml text"),
        pytest.param(
            XmlCodec(Options(unknown="error")),
            f"<ContactEntity><X{'y' * 40_000}/></ContactEntity>",
            CONTACT,
            id="xml unknown",
        ),
        pytest.param(
            XmlCodec(),
            f'<ContactEntity><Name i:nil="{_HUGE}" '
            'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"/></ContactEntity>',
            CONTACT,
            id="xml nil",
        ),
        pytest.param(FormCodec(), f"ContactId={_HUGE}", CONTACT, id="form int"),
        pytest.param(FormCodec(), f"Address.Street.AtypeIdx={_HUGE}", CONTACT, id="form enum"),
        pytest.param(FormCodec(), f"Persons[{'9' * 100_000}].Rank=1", CONTACT, id="form index"),
        pytest.param(FormCodec(), f"Name.{_HUGE}=1", CONTACT, id="form part"),
        pytest.param(FormCodec(), f"Address={_HUGE}", CONTACT, id="form carrier value"),
    ],
)
def test_messages_quote_long_input_shortly(codec: Any, body: str | bytes, schema: Schema) -> None:
    data = body.encode() if isinstance(body, str) else body
    error = error_of(codec, data, schema)
    assert error.status == 400
    assert len(error.message) < 400, error.message[:500]


def test_schema_normalize_messages_are_short() -> None:
    with pytest.raises(InvalidValue) as info:
        CONTACT.normalize({"Persons": [{}, {"Rank": _HUGE}]})
    assert info.value.location == "/Persons/1/Rank" and len(info.value.message) < 200
    with pytest.raises(InvalidValue) as info:
        CONTACT.normalize({"ContactId": 10**5000})
    assert "out of range" in info.value.message and len(info.value.message) < 200


@settings(max_examples=150)
@given(value=_JSON, few=st.sampled_from([0, 4096]))
def test_json_budget_locates_every_node_past_it(value: Any, few: int) -> None:
    # Every budget below the node count, with empty containers collapsed before the
    # pointer's parse (few=4096, the default) and without (few=0: too many strings).
    body = orjson.dumps(value)
    pointers = list(_pointers(value))
    saved = json_module._FEW_STRINGS
    json_module._FEW_STRINGS = few  # type: ignore[misc]
    try:
        for limit in range(1, len(pointers)):
            with pytest.raises(MalformedBody) as info:
                json_module._count_exactly(body, limit)
            assert info.value.location == pointers[limit], limit
    finally:
        json_module._FEW_STRINGS = saved  # type: ignore[misc]


def test_json_budget_pointer_collapses_empty_containers() -> None:
    # A million "[]" past the budget: the pointer's parse sees nulls, not lists.
    body = b'{"Unknown":[' + b"[]," * 1_100_000 + b"[]]}"
    limit = 1_000_000
    with pytest.raises(MalformedBody) as info:
        json_module._count_exactly(body, limit)
    assert info.value.location == f"/Unknown/{limit - 3}"  # the root, its key, the array
    collapsed = json_module._collapsed(body[:100])
    assert collapsed == b'{"Unknown":[' + b"null," * 29 + b"[", collapsed


@pytest.mark.parametrize("head", [b"[[].5", b"[-[]", b"[[]e5"])
def test_json_budget_keeps_the_error_of_a_body_malformed_before_it(head: bytes) -> None:
    # Read as 0, an empty container would join its neighbour into a valid number.
    with pytest.raises(MalformedBody, match="Malformed JSON"):
        json_module._count_exactly(head + b",1" * 40 + b"]", 10)
