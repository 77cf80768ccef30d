"""The generated ``$select`` projectors and shaping walkers: named, readable, traceable.

Both are written with :class:`negotiate._codegen.Source`, so a traceback
through one shows the generated line, the constants they use have names that
say what they are, and the text is there to read.
"""

from __future__ import annotations

import gc
import importlib
import linecache
import re
import traceback
from typing import Any

import pytest

from negotiate.schema import get_schema
from negotiate.select import compile_select
from negotiate.shaping import Shaping

# NOTE: ``negotiate.select`` the module, not the function the package re-exports.
select_module = importlib.import_module("negotiate.select")
shaping_module = importlib.import_module("negotiate.shaping.walkers")

CONTACT = get_schema("ContactEntity")
NUMBERED = re.compile(r"\b[pThCX]\d+\b")  # the names the generators used to number


def generated_frames(error: BaseException, filename: str) -> list[traceback.FrameSummary]:
    return [
        frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == filename
    ]


# -- $select projectors ----------------------------------------------------------


class Exploding(dict[str, Any]):
    """A carrier whose every read fails with an error the projector does not handle."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError(f"cannot read {key}")


def test_a_traceback_through_a_projector_shows_the_generated_line() -> None:
    projector = compile_select(CONTACT, "department, name")
    filename = projector._project.__code__.co_filename
    with pytest.raises(RuntimeError, match="cannot read Name") as info:
        projector.apply(Exploding(CONTACT.default()))
    frames = generated_frames(info.value, filename)
    assert [frame.line for frame in frames] == ["r['Name'] = d['Name']"]
    assert frames[0].name == "project_ContactEntity"
    shown = "".join(traceback.format_exception(info.value))
    assert filename in shown and "r['Name'] = d['Name']" in shown
    # The file name says what the code is: the carrier and the canonical selection.
    assert "$select ContactEntity: Name,Department" in filename


def test_a_projector_reads_top_down_with_named_constants() -> None:
    projector = compile_select(
        CONTACT, "Name,Category/Id,Emails/Value,UpdatedBy/Name,CreatedBy/Rank"
    )
    source = projector.source
    assert source.startswith(
        "def project_ContactEntity(d):\n    r = default_ContactEntity.copy()\n"
    )
    for line in (
        # A carrier in a carrier is written inline, one level down (d1, r1).
        "    d1 = d['Category']",
        "        r1 = default_Category.copy()",
        "        r1['Id'] = d1['Id']",
        "        r['Category'] = r1",
        # The items of an array get a function of their own, named by the path.
        "def project_Emails(d):",
        "    r = default_EntityElement.copy()",
        "        r['Emails'] = [None if x0 is None else project_Emails(x0) for x0 in v]",
        # Two selections inside one carrier type: two blocks, one template.
        "        r['UpdatedBy'] = r1",
        "        r['CreatedBy'] = r1",
    ):
        assert line in source.splitlines()
    assert source.count("def ") == 2
    assert source.count("= default_Associate.copy()") == 2
    assert NUMBERED.search(source) is None
    namespace = projector._project.__globals__
    assert namespace["default_ContactEntity"] == CONTACT.default()
    assert namespace["default_Category"] == get_schema("Category").default()


def test_the_null_templates_are_named_as_such() -> None:
    projector = compile_select(CONTACT, "Name,Category/Id", null_value_types=True)
    assert "    r = nulls_ContactEntity.copy()" in projector.source.splitlines()
    assert "        r1 = nulls_Category.copy()" in projector.source.splitlines()
    namespace = projector._project.__globals__
    assert set(namespace["nulls_ContactEntity"].values()) == {None}


def test_nested_paths_name_their_functions_by_the_path() -> None:
    projector = compile_select(CONTACT, "Interests/ChildItems/Name,Emails/Value")
    lines = projector.source.splitlines()
    assert "def project_Interests(d):" in lines
    assert "def project_Interests_ChildItems(d):" in lines
    assert "def project_Emails(d):" in lines
    # Carriers in carriers, two levels down: inline, one template.
    projector = compile_select(CONTACT, "Address/Street/City,Address/Postal/Zipcode")
    lines = projector.source.splitlines()
    assert lines.count("            r2 = default_StructuredAddress.copy()") == 2
    assert "            r1['Street'] = r2" in lines and "            r1['Postal'] = r2" in lines


def test_request_spelling_never_reaches_the_source() -> None:
    projector = compile_select(CONTACT, " nAmE ,CATEGORY/id")
    assert "nAmE" not in projector.source and "CATEGORY" not in projector.source
    assert "nAmE" not in projector._project.__code__.co_filename


def test_a_projector_leaves_linecache_with_its_cache_entry() -> None:
    projector = compile_select(CONTACT, "Name,Kananame,Xstop")
    filename = projector._project.__code__.co_filename
    assert linecache.getline(filename, 1) == "def project_ContactEntity(d):\n"
    del projector
    select_module._compile_text.cache_clear()
    select_module._compile_tree.cache_clear()
    gc.collect()
    assert filename not in linecache.cache
    # A fresh compile registers its own text again.
    again = compile_select(CONTACT, "Name,Kananame,Xstop")
    assert (
        linecache.getline(again._project.__code__.co_filename, 1)
        == "def project_ContactEntity(d):\n"
    )


# -- shaping walkers -------------------------------------------------------------


class FailingResources:
    """A resource table that fails on lookup (as a broken plug-in would)."""

    def lookup(self, name: str, language: str) -> str | None:
        raise RuntimeError(f"no table for {name}")


def test_a_traceback_through_a_walker_shows_the_generated_lines() -> None:
    shaping = Shaping.from_headers({"SO-Language": "nb"}, resources=FailingResources())
    value = CONTACT.default()
    value["Category"] = {**get_schema("Category").default(), "Value": "[SR_CATEGORY]"}
    with pytest.raises(RuntimeError, match="no table for SR_CATEGORY") as info:
        shaping.apply(CONTACT, value)
    source = shaping_module._SOURCES[(False, True, False)]
    frames = generated_frames(info.value, source.filename)
    assert [(frame.name, frame.line) for frame in frames] == [
        ("walk_ContactEntity", "n = walk_Category(v, ops)"),
        ("walk_Category", "n = texts(v)"),
    ]
    shown = "".join(traceback.format_exception(info.value))
    assert source.filename in shown and "n = texts(v)" in shown


@pytest.mark.parametrize(
    ("headers", "mode"),
    [
        ({"SO-TimeZone": "US-NY"}, (True, False, False)),
        ({"SO-TimeZone": "US-NY, includeTZOffset"}, (True, False, True)),
        ({"SO-Language": "nb"}, (False, True, False)),
        ({"SO-TimeZone": "NO", "Accept-Language": "de"}, (True, True, False)),
    ],
)
def test_walkers_read_well_with_named_constants(
    headers: dict[str, str], mode: tuple[bool, bool, bool]
) -> None:
    Shaping.from_headers(headers).apply(CONTACT, CONTACT.default())
    source = shaping_module._SOURCES[mode]
    lines = source.source.splitlines()
    assert "def walk_ContactEntity(d, ops):" in lines
    assert NUMBERED.search(source.source) is None
    if mode[0]:
        assert source.namespace["DATETIME_DEFAULT"] == "0001-01-01T00:00:00"
        assert "    if type(v) is str and v != DATETIME_DEFAULT:" in lines
        assert "        n = times(v)" in lines
        # CreatedDate / UpdatedDate: never converted, visited only to be tagged as UTC
        assert ("        n = created(v)" in lines) is mode[2]
        assert ("    v = d.get('CreatedDate')" in lines) is mode[2]
    else:
        assert "DATETIME_DEFAULT" not in source.source
    if mode[1]:
        assert "def walk_dict_string(v, ops):" in lines
        assert "        n = texts(v)" in lines
    # The list walker of a carrier writes the items' fields inline (no call per item).
    items = source.source.split("def walk_list_SelectableMDOListItem(items, ops):\n", 1)[1]
    items = items.split("\n\n", 1)[0]
    assert "        if type(d) is not dict: continue" in items.splitlines()
    assert "n = walk_list_SelectableMDOListItem(v, ops)" in items  # ChildItems, recursive
    assert "walk_SelectableMDOListItem(" not in items
    # A walker that only passes values on does not unpack the leaf functions.
    request = source.source.split("def walk_EnrichContactEntityRequest(d, ops):\n", 1)[1]
    request = request.split("\n\n", 1)[0]
    assert "n = walk_ContactEntity(v, ops)" in request
    assert ("= ops" in request) is mode[1]  # its own strings are translated
