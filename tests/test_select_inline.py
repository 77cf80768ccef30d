"""``$select`` projectors that write carriers in carriers inline, and the depth limit from Options.

A carrier held by a carrier is projected inline in its parent's function, up to
a depth after which a new function starts; these tests go past that depth, up
to the deepest path ``Options`` allows, on a user's recursive carrier, and
compare with a projection written from the rules.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any, TypedDict

import pytest
from hypothesis import given, settings, strategies as st

from negotiate import InvalidValue, schema_of
from negotiate.options import MAX_DEPTH_LIMIT, Options
from negotiate.schema import Schema
from negotiate.select import compile_select, select

select_module = importlib.import_module("negotiate.select")
INLINE_DEPTH: int = select_module._INLINE_DEPTH


class Node(TypedDict):
    Name: str | None
    Rank: int
    Next: Node | None
    Side: Node | None
    Items: list[Node | None] | None


NODE: Schema = schema_of(Node)


def chain(depth: int, width: bool = False) -> dict[str, Any]:
    """A Node ``depth`` levels deep through ``Next`` (and ``Side``/``Items`` when ``width``)."""
    node: dict[str, Any] | None = None
    for level in range(depth, -1, -1):
        node = {
            "Name": f"n{level}",
            "Rank": level,
            "Next": node,
            "Side": {"Name": f"s{level}", "Rank": -level} if width else None,
            "Items": [None, {"Name": f"i{level}", "Rank": 1}] if width else None,
        }
    return NODE.normalize(node, Options(max_depth=MAX_DEPTH_LIMIT))


def expected(value: Any, paths: list[list[str]]) -> Any:
    """The projection by canonical paths, written from the rules (Node only)."""
    if value is None:
        return None
    if any(not path for path in paths):
        return value
    out: dict[str, Any] = {}
    for field in NODE.fields:
        rest = [path[1:] for path in paths if path[0] == field.name]
        if not rest:
            out[field.name] = field.type.default()
        elif any(not r for r in rest):
            out[field.name] = value[field.name]
        elif field.name == "Items":
            items = value["Items"]
            out["Items"] = None if items is None else [expected(item, rest) for item in items]
        else:
            out[field.name] = expected(value[field.name], rest)
    return out


@pytest.mark.parametrize("depth", [1, INLINE_DEPTH - 1, INLINE_DEPTH, INLINE_DEPTH + 1, 40])
def test_carriers_in_carriers_past_the_inline_depth(depth: int) -> None:
    value = chain(depth + 1, width=True)
    before = copy.deepcopy(value)
    down = "Next/" * depth
    paths = [f"{down}Name", f"{down}Side/Rank", "Next/Items/Name", "Rank"]
    projector = compile_select(NODE, ",".join(paths))
    out = projector.apply(value)
    assert out == expected(value, [p.split("/") for p in paths])
    assert value == before
    # Python refuses blocks nested too deep: the inline part stays shallow.
    deepest = max(len(line) - len(line.lstrip()) for line in projector.source.splitlines())
    assert deepest <= 4 * (INLINE_DEPTH + 2)
    if depth + 1 >= INLINE_DEPTH:
        assert projector.source.count("def ") > 2  # functions start again past the depth


def test_the_deepest_path_options_allow() -> None:
    options = Options(max_depth=MAX_DEPTH_LIMIT)
    value = chain(MAX_DEPTH_LIMIT - 1)  # MAX_DEPTH_LIMIT levels
    path = "Next/" * (MAX_DEPTH_LIMIT - 1) + "Name"
    out = select(NODE, path, value, options=options)
    assert out == expected(value, [path.split("/")])
    node = out
    for _ in range(MAX_DEPTH_LIMIT - 1):
        assert node["Name"] is None and node["Rank"] == 0
        node = node["Next"]
    assert node["Name"] == value_at(value, MAX_DEPTH_LIMIT - 1)["Name"]


def value_at(value: dict[str, Any], depth: int) -> dict[str, Any]:
    for _ in range(depth):
        value = value["Next"]
    return value


def test_the_depth_limit_comes_from_the_options() -> None:
    path = "Next/" * 69 + "Name"  # 70 segments: over the default 64
    with pytest.raises(InvalidValue, match="deeper than the limit of 64"):
        compile_select(NODE, path)
    wide = compile_select(NODE, path, options=Options(max_depth=70))
    assert wide.text == path
    with pytest.raises(InvalidValue, match="deeper than the limit of 69"):
        compile_select(NODE, path, options=Options(max_depth=69))
    # The cache is keyed by the limit: the default still refuses after a wide compile.
    with pytest.raises(InvalidValue, match="deeper than the limit of 64"):
        compile_select(NODE, path)
    # Options that differ elsewhere but share the depth share the projector.
    short = "Next/Name"
    assert compile_select(NODE, short, options=Options(max_items=5)) is compile_select(NODE, short)


def test_the_pipeline_passes_its_options_to_select() -> None:
    from negotiate.codecs import default_registry
    from negotiate.pipeline import Pipeline
    from negotiate.select import Projector

    path = "Next/" * 69 + "Name"
    writer = default_registry().writer_for_accept("application/json")
    wide = Pipeline(NODE, NODE, options=Options(max_depth=70))
    plan = wide.plan(writer, None, select=path)
    assert isinstance(plan.projector, Projector) and plan.projector.text == path
    narrow = Pipeline(NODE, NODE).plan(writer, None, select=path)
    assert isinstance(narrow.projector, InvalidValue)
    assert "deeper than the limit of 64" in narrow.projector.message


NODE_PATHS = [
    "Name",
    "Rank",
    "Next",
    "Side",
    "Items",
    "Next/Name",
    "Next/Next/Rank",
    "Next/Side/Name",
    "Side/Next/Next/Name",
    "Items/Name",
    "Items/Next/Rank",
    "Next/Items/Side/Name",
    "*",
    "Next/*",
]


@st.composite
def nodes(draw: st.DrawFn, depth: int = 4) -> dict[str, Any] | None:
    if depth == 0 or draw(st.booleans()):
        return None
    return {
        "Name": draw(st.none() | st.text(max_size=3)),
        "Rank": draw(st.integers(-5, 5)),
        "Next": draw(nodes(depth - 1)),
        "Side": draw(nodes(depth - 1)),
        "Items": draw(st.none() | st.lists(nodes(depth - 1), max_size=2)),
    }


@settings(max_examples=150, deadline=None)
@given(
    raw=nodes(),
    paths=st.lists(st.sampled_from(NODE_PATHS), min_size=1, max_size=5),
)
def test_inline_projection_matches_the_rules(raw: dict[str, Any] | None, paths: list[str]) -> None:
    value = None if raw is None else NODE.normalize(raw)
    before = copy.deepcopy(value)
    out = compile_select(NODE, ",".join(paths)).apply(value)
    resolved = [[] if p == "*" else p.removesuffix("/*").split("/") for p in paths]
    assert out == expected(value, resolved)
    assert value == before
