"""RFC 6902 conformance: the json-patch/json-patch-tests suite, schemaless.

Every record of ``tests.json`` and ``spec_tests.json`` is one test, through
the codec (bytes in, value out). Records the suite marks ``disabled`` are
skipped with the suite's own comment as the reason. An ``error`` record only
says *that* applying fails (implementations word errors differently), so the
test checks for a 4xx :class:`NegotiateError` located at the failing
operation, and that the document handed in is unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from negotiate.codecs.patch import JsonPatchCodec
from negotiate.errors import NegotiateError

DATA = Path(__file__).resolve().parent.parent / "data" / "json-patch-tests"
CODEC = JsonPatchCodec()


def _cases() -> list[Any]:
    params = []
    for name in ("tests.json", "spec_tests.json"):
        records = json.loads((DATA / name).read_text(encoding="utf-8"))
        for index, record in enumerate(records):
            if "patch" not in record:
                continue  # a comment-only record: nothing to run
            comment = record.get("comment", "")
            slug = re.sub(r"[^A-Za-z0-9]+", "-", comment).strip("-")[:48]
            case_id = f"{name.removesuffix('.json')}-{index:03d}" + (f"-{slug}" if slug else "")
            marks = []
            if record.get("disabled"):
                reason = f"disabled in the upstream suite: {comment or 'no comment given'}"
                marks.append(pytest.mark.skip(reason=reason))
            params.append(pytest.param(record, id=case_id, marks=marks))
    return params


def _canonical(value: Any) -> bytes:
    """JSON text with sorted keys: tells 1 from 1.0 and true from 1, unlike ==."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@pytest.mark.parametrize("record", _cases())
def test_case(record: dict[str, Any]) -> None:
    doc = record["doc"]
    before = _canonical(doc)
    body = orjson.dumps(record["patch"])
    if "expected" in record:
        result = CODEC.decode(body, None, base=doc)
        assert _canonical(result) == _canonical(record["expected"])
    else:
        assert "error" in record
        with pytest.raises(NegotiateError) as info:
            CODEC.decode(body, None, base=doc)
        assert info.value.status in (400, 409, 422), info.value
        if info.value.status != 422:
            assert re.match(r"/\d+(/|$)", info.value.location), info.value.location
    assert _canonical(doc) == before


def test_suite_is_complete() -> None:
    """Every record is collected: the counts in SOURCE.txt (95 + 17 records)."""
    assert len(_cases()) == 95 + 17
