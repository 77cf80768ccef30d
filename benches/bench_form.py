"""Form-urlencoded: decode (validating) and encode against ``urllib.parse`` plus plain nesting.

The body is the one our ``FormCodec`` writes for each fixture (ASP.NET keys:
``Persons[0].Firstname``, ``CustomFields[SuperOffice:1]``). Decode:
``FormCodec.decode(body, ContactEntity)`` against ``urllib.parse.parse_qsl``
plus :func:`unflatten` into nested dicts and lists (no types, no
validation). Encode: ``FormCodec.encode(value, ContactEntity)`` against
:func:`flatten` plus ``urllib.parse.urlencode``.

Checks: our decode equals the fixture's value and our encode reads back to
it; the peer's tree holds every pair of the body where its key points, and
nothing else; the peer's encoding, read back by the peer, is the value with
nulls and empty containers dropped and scalars as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode

from benches.data import FIXTURES, SAMPLE, SCHEMA, Fixture
from benches.harness import OURS, Row, import_optional

__all__ = ["CAVEATS", "flatten", "form_view", "rows", "segments", "unflatten"]

CAVEATS = [
    "Form: ours percent-decodes strictly (a bad escape or invalid UTF-8 is a 400 naming the "
    "key), binds keys by the schema (dotted and bracketed), bounds indices, converts every "
    "value by its type and normalises. The peer is `parse_qsl` plus a plain unflattening "
    "into dicts and lists of strings, without types, checks or limits; its encoder is a "
    "plain flattening plus `urlencode`, given the value as it is.",
]

_SEGMENT = re.compile(r"\[([^\]]*)\]|\.?([^.\[\]]+)")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def segments(key: str) -> list[str | int]:
    """``Persons[0].Firstname`` -> ``["Persons", 0, "Firstname"]`` (bracketed digits: indices)."""
    out: list[str | int] = []
    for bracket, name in _SEGMENT.findall(key):
        if name:
            out.append(name)
        elif bracket.isdigit():
            out.append(int(bracket))
        else:
            out.append(bracket)
    return out


def _child(node: Any, segment: str | int, make: Callable[[], Any]) -> Any:
    if isinstance(node, list):
        assert isinstance(segment, int)
        while len(node) <= segment:
            node.append(None)
        if node[segment] is None:
            node[segment] = make()
        return node[segment]
    found = node.get(segment)
    if found is None:
        found = node[segment] = make()
    return found


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Nested dicts and lists from flat keys; a repeated key collects its values in a list."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        path = segments(key)
        node: Any = root
        for segment, following in zip(path, path[1:], strict=False):
            node = _child(node, segment, list if isinstance(following, int) else dict)
        last = path[-1]
        if isinstance(node, list):
            assert isinstance(last, int)
            while len(node) <= last:
                node.append(None)
            node[last] = value
        elif last in node:
            previous = node[last]
            if isinstance(previous, list):
                previous.append(value)
            else:
                node[last] = [previous, value]
        else:
            node[last] = value
    return root


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def flatten(
    value: Any, prefix: str = "", out: list[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """Flat ``(key, text)`` pairs: ``.Name`` for identifiers, else ``[key]``; ``[i]`` for items."""
    if out is None:
        out = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not prefix:
                name = key
            elif _IDENTIFIER.fullmatch(key):
                name = f"{prefix}.{key}"
            else:
                name = f"{prefix}[{key}]"
            flatten(item, name, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            flatten(item, f"{prefix}[{index}]", out)
    elif value is not None:
        out.append((prefix, _text(value)))
    return out


def form_view(value: Any) -> Any:
    """What a form can say about ``value``: nulls and empty containers dropped, scalars as text."""
    if isinstance(value, dict):
        kept = {k: form_view(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not None} or None
    if isinstance(value, list):
        items = [form_view(v) for v in value]
        return items if any(v is not None for v in items) else None
    return None if value is None else _text(value)


def _lookup(tree: Any, path: list[str | int]) -> Any:
    for segment in path:
        tree = tree[segment]
    return tree


def _leaves(tree: Any) -> int:
    if isinstance(tree, dict):
        return sum(_leaves(v) for v in tree.values())
    if isinstance(tree, list):
        return sum(_leaves(v) for v in tree)
    return 0 if tree is None else 1


def rows() -> list[Row]:
    """Decode and encode, sample and large."""
    form = import_optional("negotiate.codecs.form")
    codec = form.FormCodec()
    decode, encode = codec.decode, codec.encode

    def peer_decode(body: bytes) -> dict[str, Any]:
        return unflatten(parse_qsl(body.decode(), keep_blank_values=True))

    def peer_encode(value: Any) -> bytes:
        return urlencode(flatten(value)).encode()

    def decoded(fixture: Fixture, body: bytes) -> Callable[[str, Any], str | None]:
        pairs = parse_qsl(body.decode(), keep_blank_values=True)

        def check(name: str, result: Any) -> str | None:
            if name == OURS:
                return None if result == fixture.value else f"{name} read a different value"
            for key, text in pairs:
                try:
                    leaf = _lookup(result, segments(key))
                except (KeyError, IndexError, TypeError):
                    return f"{name} lost the key {key!r}"
                if leaf != text and not (isinstance(leaf, list) and text in leaf):
                    return f"{name} put {leaf!r} at {key!r}, not {text!r}"
            if _leaves(result) != len(pairs):
                return f"{name} holds {_leaves(result)} values for {len(pairs)} pairs"
            return None

        return check

    def encoded(fixture: Fixture) -> Callable[[str, Any], str | None]:
        view = form_view(fixture.value)

        def check(name: str, result: Any) -> str | None:
            if not isinstance(result, bytes):
                return f"{name} returned {type(result).__name__}, not bytes"
            if name == OURS:
                ok = decode(result, SCHEMA) == fixture.value
            else:
                ok = form_view(peer_decode(result)) == view
            return None if ok else f"{name}'s form of {fixture.name} does not read back"

        return check

    out: list[Row] = []
    for fixture in FIXTURES:
        body = encode(fixture.value, SCHEMA)
        out.append(
            Row(
                "form",
                f"decode {fixture.name} ({len(body):,} B)",
                partial(decode, body, SCHEMA),
                {"parse_qsl + unflatten": partial(peer_decode, body)},
                decoded(fixture, body),
                {"parse_qsl + unflatten": 1.0} if fixture is SAMPLE else {},
                "issue 3",
            )
        )
    for fixture in FIXTURES:
        value = fixture.value
        out.append(
            Row(
                "form",
                f"encode {fixture.name}",
                partial(encode, value, SCHEMA),
                {"flatten + urlencode": partial(peer_encode, value)},
                encoded(fixture),
                {"flatten + urlencode": 2.0} if fixture is SAMPLE else {},
                "issue 3",
            )
        )
    return out
