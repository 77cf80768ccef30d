"""XML: decode (validating) and encode against xmltodict and a plain lxml tree.

The document is the one our ``XmlCodec`` writes for each fixture (the
DataContractSerializer shape: namespaces, ``i:nil``, wrapped array items).
Decode: ``XmlCodec.decode(xml, ContactEntity)`` against ``xmltodict.parse``
and against ``lxml.etree.fromstring`` plus a walk building the same dicts as
xmltodict (neither validates nor types anything). Encode:
``XmlCodec.encode(value, ContactEntity)`` against ``xmltodict.unparse`` and
against an lxml ``SubElement`` build plus ``tostring``, both given the
xmltodict form of the same document (built once, before timing), so every
side writes the same elements, attributes and namespaces.

Checks: our decode equals the fixture's value; the peers' dicts equal
xmltodict's reading of the document and carry everything (written back with
``xmltodict.unparse``, our codec reads the value from them); every encoder's
output is read back by our codec to the value.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from benches.data import FIXTURES, SAMPLE, SCHEMA, Fixture
from benches.harness import OURS, Row, import_optional

__all__ = ["CAVEATS", "lxml_build", "lxml_read", "lxml_walk", "rows"]

CAVEATS = [
    "XML decode: ours parses with a hardened lxml parser (no DTD, entities or network; "
    "DOCTYPE refused) and converts every element by the schema (int32, bool, double, "
    "date-time, enum, nil), then normalises; xmltodict and the lxml walk give untyped "
    "strings and check nothing. xmltodict runs with strip_whitespace=False so that it "
    "keeps the values exactly. XML encode: the peers get the document's xmltodict form "
    "prepared before timing (the work of mapping a carrier to that form is not theirs); "
    "`xmltodict.unparse` pays for `.encode()` to bytes.",
]


def _qualified(tag: str, prefix: str | None) -> str:
    local = tag.rpartition("}")[2]
    return f"{prefix}:{local}" if prefix else local


def lxml_read(etree: Any, body: bytes) -> dict[str, Any]:
    """``etree.fromstring`` plus :func:`lxml_walk`: the document as xmltodict gives it."""
    root = etree.fromstring(body)
    return {_qualified(root.tag, root.prefix): lxml_walk(root)}


def lxml_walk(element: Any, parent_nsmap: dict[str | None, str] | None = None) -> Any:
    """An lxml element as xmltodict would give it (namespaces as written, not processed)."""
    node: dict[str, Any] = {}
    nsmap = element.nsmap
    for prefix, uri in nsmap.items():
        if parent_nsmap is None or parent_nsmap.get(prefix) != uri:
            node["@xmlns:" + prefix if prefix else "@xmlns"] = uri
    if len(element.attrib):
        prefixes = {uri: prefix for prefix, uri in nsmap.items()}
        for name, value in element.attrib.items():
            if name[0] == "{":
                uri, _, local = name[1:].partition("}")
                name = f"{prefixes[uri]}:{local}"
            node["@" + name] = value
    for child in element:
        key = _qualified(child.tag, child.prefix)
        value = lxml_walk(child, nsmap)
        if key not in node:
            node[key] = value
        elif isinstance(node[key], list):
            node[key].append(value)
        else:
            node[key] = [node[key], value]
    text = element.text
    if text is not None:
        if not node:
            return text
        node["#text"] = text
    return node or None


def lxml_build(etree: Any, document: dict[str, Any]) -> bytes:
    """Write an xmltodict-form document with lxml ``SubElement`` calls and ``tostring``."""
    ((name, content),) = document.items()
    root = _build(etree, None, name, content, {})
    return etree.tostring(root, encoding="utf-8")  # type: ignore[no-any-return]


def _build(etree: Any, parent: Any, name: str, content: Any, scope: dict[str | None, str]) -> Any:
    declared: dict[str | None, str] = {}
    attributes: dict[str, str] = {}
    if isinstance(content, dict):
        for key, value in content.items():
            if key == "@xmlns":
                declared[None] = value
            elif key.startswith("@xmlns:"):
                declared[key[7:]] = value
            elif key[0] == "@":
                attributes[key[1:]] = value
        if declared:
            scope = {**scope, **declared}
    prefix, _, local = name.rpartition(":")
    uri = scope.get(prefix or None)
    tag = f"{{{uri}}}{local}" if uri else local
    if parent is None:
        element = etree.Element(tag, nsmap=declared or None)
    else:
        element = etree.SubElement(parent, tag, nsmap=declared or None)
    for key, value in attributes.items():
        prefix, _, local = key.rpartition(":")
        element.set(f"{{{scope[prefix]}}}{local}" if prefix else local, value)
    if isinstance(content, dict):
        for key, value in content.items():
            if key[0] == "@":
                continue
            if key == "#text":
                element.text = value
            elif isinstance(value, list):
                for item in value:
                    _build(etree, element, key, item, scope)
            else:
                _build(etree, element, key, value, scope)
    elif content is not None:
        element.text = content
    return element


def rows() -> list[Row]:
    """Decode and encode, sample and large."""
    xml = import_optional("negotiate.codecs.xml")
    xmltodict = import_optional("xmltodict")
    etree = import_optional("lxml.etree")
    codec = xml.XmlCodec()
    decode, encode = codec.decode, codec.encode

    def parse(body: bytes) -> Any:
        return xmltodict.parse(body, strip_whitespace=False)

    def unparse(document: Any) -> bytes:
        return xmltodict.unparse(document, full_document=False).encode()  # type: ignore[no-any-return]

    out: list[Row] = []
    documents: dict[str, tuple[bytes, Any]] = {}
    for fixture in FIXTURES:
        body = encode(fixture.value, SCHEMA)
        documents[fixture.name] = (body, parse(body))

    def reads_back(fixture: Fixture, document: Any) -> Callable[[str, Any], str | None]:
        def check(name: str, result: Any) -> str | None:
            if name == OURS:
                ok = result == fixture.value
            else:
                ok = result == document and decode(unparse(result), SCHEMA) == fixture.value
            return None if ok else f"{name} read {fixture.name}'s XML differently"

        return check

    def written(fixture: Fixture) -> Callable[[str, Any], str | None]:
        def check(name: str, result: Any) -> str | None:
            if not isinstance(result, bytes):
                return f"{name} returned {type(result).__name__}, not bytes"
            if decode(result, SCHEMA) != fixture.value:
                return f"{name}'s XML of {fixture.name} does not read back to the value"
            return None

        return check

    for fixture in FIXTURES:
        body, document = documents[fixture.name]
        on_sample = fixture is SAMPLE
        out.append(
            Row(
                "xml",
                f"decode {fixture.name} ({len(body):,} B)",
                partial(decode, body, SCHEMA),
                {
                    "xmltodict.parse": partial(parse, body),
                    "lxml fromstring + walk": partial(lxml_read, etree, body),
                },
                reads_back(fixture, document),
                {"xmltodict.parse": 3.0} if on_sample else {},
                "issue 3",
            )
        )
    for fixture in FIXTURES:
        value = fixture.value
        _, document = documents[fixture.name]
        on_sample = fixture is SAMPLE
        out.append(
            Row(
                "xml",
                f"encode {fixture.name}",
                partial(encode, value, SCHEMA),
                {
                    "xmltodict.unparse": partial(unparse, document),
                    "lxml SubElement + tostring": partial(lxml_build, etree, document),
                },
                written(fixture),
                {"xmltodict.unparse": 8.0} if on_sample else {},
                "issue 3",
            )
        )
    return out
