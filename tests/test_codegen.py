"""The source builder: named constants, tracebacks that show generated lines, fresh signals."""

from __future__ import annotations

import gc
import linecache
import traceback

import pytest

from negotiate._codegen import SlowPath, Source


def test_constants_are_named_and_shared_per_object() -> None:
    source = Source("test constants")
    keys = ["A", "B"]
    assert source.constant(keys, "keys_Contact") == "keys_Contact"
    assert source.constant(keys, "other") == "keys_Contact"
    assert source.constant(["C"], "keys_Contact") == "keys_Contact_2"
    assert source.constant(1, "9 lives!") == "c_9_lives_"


def test_the_compiled_code_runs_in_its_namespace() -> None:
    source = Source("test run", {"double": lambda x: 2 * x})
    limit = source.constant(10, "limit")
    source.add("def f(x):", f"    return double(x) + {limit}")
    namespace = source.compile()
    assert namespace["f"](1) == 12
    assert "return double(x) + limit" in source.source


def test_a_traceback_shows_the_generated_line() -> None:
    source = Source("test traceback")
    source.add("def g(d):", "    return d['missing key here']")
    g = source.compile()["g"]
    with pytest.raises(KeyError, match="missing key here") as info:
        g({})
    shown = "".join(traceback.format_exception(info.value))
    assert source.filename in shown
    assert "return d['missing key here']" in shown


def test_the_slow_path_signal_is_a_fresh_exception_each_time() -> None:
    source = Source("test signal")
    source.add("def h():", "    raise SlowPath")
    h = source.compile()["h"]
    caught = []
    for _ in range(2):
        with pytest.raises(SlowPath) as info:
            h()
        caught.append(info.value)
    assert caught[0] is not caught[1]


def test_every_source_gets_its_own_file_name() -> None:
    first, second = Source("same"), Source("same")
    first.compile()
    second.compile()
    assert first.filename != second.filename


def test_reserved_names_and_constants_never_clash() -> None:
    source = Source("test names")
    assert source.name("walk_Contact") == "walk_Contact"
    assert source.name("walk_Contact") == "walk_Contact_2"
    assert source.constant(["x"], "walk_Contact") == "walk_Contact_3"
    assert source.name("list[str]") == "list_str_"
    assert source.name("class") == "class_"
    assert source.constant(0, "None") == "None_"
    walk = source.name("walk_Contact")
    source.add(f"def {walk}(): return walk_Contact_3", "def class_(): return None_")
    namespace = source.compile()
    assert namespace[walk]() == ["x"] and namespace["class_"]() == 0


def test_forget_with_drops_the_text_when_the_owner_dies() -> None:
    source = Source("test forget")
    source.add("def f():", "    return 1")
    f = source.compile()["f"]
    source.forget_with(f)
    assert linecache.getline(source.filename, 2) == "    return 1\n"
    del f
    source.namespace.clear()  # the function and its globals: gone
    gc.collect()
    assert source.filename not in linecache.cache
    assert source.source == "def f():\n    return 1\n"  # the text stays with the Source


def test_forget_with_takes_an_unhashable_owner() -> None:
    class Owner:
        __hash__ = None  # type: ignore[assignment]

    source = Source("test forget unhashable")
    source.add("x = 1")
    source.compile()
    owner = Owner()
    source.forget_with(owner)
    assert source.filename in linecache.cache
    del owner
    assert source.filename not in linecache.cache
