"""The source builder: named constants, tracebacks that show generated lines, fresh signals."""

from __future__ import annotations

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
