"""The form reader's fast paths against their references.

The shortcut (the previous key's parent node) against walking every key:
``_Builder.apply`` reuses the node the previous key's parent steps led to when the
next key has the same prefix. The reference walks every key from the root. Random
ContactEntity bodies, their fields shuffled, repeated, renamed in another case or in
jQuery's brackets, and mixed with keys that clash (a value and parts, array styles,
nulls), must decode to the same value or the same error either way. And percent escapes
undone in one pass in C against ``urllib.parse.unquote_to_bytes``.
"""

from __future__ import annotations

import tracemalloc
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import given, settings, strategies as st

from negotiate.codecs.form import FormCodec, read as form_read
from negotiate.errors import NegotiateError
from tests.helpers import CONTACT
from tests.strategies import carriers


class _Walking(form_read._Builder):
    """The reference: no key reuses the previous key's parent node."""

    def apply(self, path: Any, text: str) -> None:
        self.prefix = None  # type: ignore[assignment]  # equal to no prefix
        super().apply(path, text)


def _outcome(codec: FormCodec, body: bytes) -> Any:
    try:
        return ("value", codec.decode(body, CONTACT))
    except NegotiateError as exc:
        return ("error", type(exc), exc.status, exc.location, exc.message)


def _both(body: bytes) -> tuple[Any, Any]:
    fast = _outcome(FormCodec(), body)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(form_read, "_Builder", _Walking)
        reference = _outcome(FormCodec(), body)
    return fast, reference


def _bracketed(key: str) -> str:
    """``Persons[0].Firstname`` as jQuery writes it: ``Persons[0][Firstname]``."""
    head, *rest = key.split(".")
    return head + "".join(f"[{part}]" for part in rest)


_EXTRA = [
    b"Persons%5B0%5D=",
    b"Persons%5B1%5D=x",
    b"Persons=",
    b"Persons%5B0%5D.Firstname=again",
    b"Emails%5B%5D=x",
    b"Emails=x",
    b"Persons%5B0%5D.Emails%5B0%5D.Value.X=1",
    b"CustomFields%5Ba%5D=1",
    b"CustomFields%5B0%5D.Key=k",
    b"CustomFields%5B0%5D.Value=v",
    b"ContactEntity.Persons%5B0%5D.Rank=7",
    b"Persons%5B0%5D.Rank=x",
    b"Persons%5B0%5D.Rank=",
    b"Unknown.Field=1",
]


@settings(max_examples=60, deadline=None)
@given(value=carriers(CONTACT, depth=2), data=st.data())
def test_reused_parents_read_as_walking(value: dict[str, Any], data: st.DataObject) -> None:
    codec = FormCodec()
    parts = [p for p in codec.encode(value, CONTACT).split(b"&") if p]
    edits = data.draw(st.lists(st.integers(0, 4), max_size=6))
    for edit in edits:
        if not parts:
            break
        at = data.draw(st.integers(0, len(parts) - 1))
        if edit == 0:  # move a field elsewhere
            parts.insert(data.draw(st.integers(0, len(parts) - 1)), parts.pop(at))
        elif edit == 1:  # repeat it
            parts.insert(data.draw(st.integers(0, len(parts))), parts[at])
        elif edit == 2:  # another case
            key, _, rest = parts[at].partition(b"=")
            parts[at] = key.lower() + b"=" + rest
        elif edit == 3:  # jQuery's brackets
            key, _, rest = parts[at].partition(b"=")
            text = key.decode("ascii").replace("%5B", "[").replace("%5D", "]")
            parts[at] = _bracketed(text).encode() + b"=" + rest
        else:
            parts.insert(at, data.draw(st.sampled_from(_EXTRA)))
    body = b"&".join(parts)
    fast, reference = _both(body)
    assert fast == reference
    if not edits:  # what the codec wrote reads back
        assert fast[0] == "value"


def test_the_reference_walks_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[str] = []
    original = form_read._Builder.walk

    def counting(self: Any, path: Any, key: str) -> Any:
        walked.append(key)
        return original(self, path, key)

    monkeypatch.setattr(form_read._Builder, "walk", counting)
    body = b"Persons%5B0%5D.Firstname=a&Persons%5B0%5D.Lastname=b&Persons%5B1%5D.Rank=2"
    fast, reference = _both(body)
    assert fast == reference
    # the fast reader walks a prefix once per run of keys, the reference once per key
    assert walked == [
        "Persons[0].Firstname",
        "Persons[1].Rank",
        "Persons[0].Firstname",
        "Persons[0].Lastname",
        "Persons[1].Rank",
    ]


# -- percent escapes: one pass in C against the stdlib's split and join ----------------------

_LITERAL = st.binary(max_size=8).map(lambda b: b.replace(b"%", b""))
_ESCAPE = st.integers(0, 255).flatmap(
    lambda byte: st.sampled_from([f"%{byte:02x}", f"%{byte:02X}"]).map(str.encode)
)
_BACKSLASHED = st.sampled_from([b"\\", b"\\x", b"\\x41", b"\\\\", b"\\u00e9", b"\\N{DASH}", b"\\0"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.one_of(_LITERAL, _ESCAPE, _BACKSLASHED), max_size=40).map(b"".join))
def test_percent_decoding_gives_what_the_stdlib_gives(raw: bytes) -> None:
    assert form_read._percent_decoded(raw) == unquote_to_bytes(raw)


def test_a_value_of_escapes_is_decoded_in_memory_of_a_few_times_its_size() -> None:
    # 4 MiB of "%C3%A9": the stdlib's split and join held ~80 bytes per piece (1.3 GB
    # for 16 MiB); one pass needs the value, its text and its bytes (about 4x).
    value = b"%C3%A9" * (4 * 1024 * 1024 // 6)
    body = b"Name=" + value
    tracemalloc.start()
    try:
        decoded = FormCodec().decode(body, CONTACT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert decoded["Name"] == "é" * (len(value) // 6)
    assert peak < 8 * len(body), peak
