"""RFC 6901 conformance: JSON pointers as the patch codecs resolve them.

Each pointer is resolved twice: by :func:`resolve_pointer` (what the codecs
use for ``from`` and for error messages) and by a JSON Patch ``test``
operation through the codec (the engine with the codecs' pointer class).
Section 5 (JSON strings) and Section 6 (URI fragments, percent-decoded
first) are the RFC's own examples; the derived cases follow the normative
text. A pointer that is not a pointer is a 400; one that points at nothing
(a missing member, an index out of range or with a leading zero, ``-``) is
a 409, as for a patch whose document does not fit it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson
import pytest

from negotiate.codecs.patch import JsonPatchCodec, resolve_pointer
from negotiate.errors import NegotiateError

DATA = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "json-pointer" / "rfc6901.json").read_text(
        encoding="utf-8"
    )
)
DOCUMENT = DATA["document"]
DERIVED = DATA["derived_from_rfc_rules"]
CODEC = JsonPatchCodec()


def _expected(case: dict[str, Any], document: Any) -> Any:
    if case["expected"] == {"$ref": "document"}:
        return document
    return case["expected"]


def _cases() -> list[Any]:
    params = []
    for index, case in enumerate(DATA["json_string_representation"]):
        params.append(
            pytest.param(DOCUMENT, case["pointer"], _expected(case, DOCUMENT), id=f"s5-{index:02d}")
        )
    for index, case in enumerate(DATA["uri_fragment_representation"]):
        fragment = case["fragment"]
        assert fragment.startswith("#")
        pointer = unquote(fragment[1:])
        params.append(
            pytest.param(DOCUMENT, pointer, _expected(case, DOCUMENT), id=f"s6-{index:02d}")
        )
    for index, case in enumerate(DERIVED["cases"]):
        if "error" not in case:
            params.append(
                pytest.param(
                    DERIVED["document"],
                    case["pointer"],
                    case["expected"],
                    id=f"derived-{index:02d}",
                )
            )
    return params


def _errors() -> list[Any]:
    params = []
    for index, case in enumerate(DERIVED["cases"]):
        if "error" in case:
            syntax = "syntax" in case["error"] or "escape" in case["error"]
            params.append(
                pytest.param(case["pointer"], 400 if syntax else 409, id=f"derived-{index:02d}")
            )
    return params


@pytest.mark.parametrize(("document", "pointer", "expected"), _cases())
def test_resolve(document: Any, pointer: str, expected: Any) -> None:
    assert resolve_pointer(document, pointer) == expected


@pytest.mark.parametrize(("document", "pointer", "expected"), _cases())
def test_through_the_codec(document: Any, pointer: str, expected: Any) -> None:
    body = orjson.dumps([{"op": "test", "path": pointer, "value": expected}])
    assert CODEC.decode(body, None, base=document) == document


@pytest.mark.parametrize(("pointer", "status"), _errors())
def test_resolve_error(pointer: str, status: int) -> None:
    with pytest.raises(NegotiateError) as info:
        resolve_pointer(DERIVED["document"], pointer)
    assert info.value.status == status


@pytest.mark.parametrize(("pointer", "status"), _errors())
def test_error_through_the_codec(pointer: str, status: int) -> None:
    body = orjson.dumps([{"op": "test", "path": pointer, "value": None}])
    with pytest.raises(NegotiateError) as info:
        CODEC.decode(body, None, base=DERIVED["document"])
    assert info.value.status == status
    assert info.value.location == "/0/path"


def test_all_cases_collected() -> None:
    assert len(_cases()) + len(_errors()) == 12 + 12 + 10
