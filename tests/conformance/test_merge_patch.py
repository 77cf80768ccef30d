"""RFC 7396 conformance: Appendix A and the examples of Sections 1 and 3, schemaless.

Each example is applied through the codec; then, the other way round, the
diff the codec writes from the original to the result must reproduce the
result when merged (every RFC example is expressible as a merge patch).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from negotiate.codecs.patch import MergePatchCodec

DATA = Path(__file__).resolve().parent.parent / "data" / "merge-patch"
CODEC = MergePatchCodec()


def _cases() -> list[Any]:
    params = []
    appendix = json.loads((DATA / "rfc7396-appendix-a.json").read_text(encoding="utf-8"))
    for index, record in enumerate(appendix, start=1):
        params.append(pytest.param(record, id=f"appendix-a-{index:02d}"))
    sections = json.loads((DATA / "rfc7396-sections-1-3.json").read_text(encoding="utf-8"))
    for record in sections:
        params.append(pytest.param(record, id=f"section-{record['section']}"))
    return params


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@pytest.mark.parametrize("record", _cases())
def test_apply(record: dict[str, Any]) -> None:
    target = record["target"]
    before = _canonical(target)
    result = CODEC.decode(orjson.dumps(record["patch"]), None, base=target)
    assert _canonical(result) == _canonical(record["result"])
    assert _canonical(target) == before


@pytest.mark.parametrize("record", _cases())
def test_diff_reproduces_result(record: dict[str, Any]) -> None:
    target, result = record["target"], record["result"]
    patch = CODEC.encode(result, None, base=target)
    assert _canonical(CODEC.decode(patch, None, base=target)) == _canonical(result)


def test_suite_is_complete() -> None:
    assert len(_cases()) == 15 + 2
