"""The generated normalisers as code: named constants, readable tracebacks, fresh signals."""

from __future__ import annotations

import re
import threading
import traceback
from pathlib import Path
from typing import Any

import orjson
import pytest

from negotiate._codegen import SlowPath
from negotiate.errors import InvalidValue
from negotiate.options import Options
from negotiate.schema import get_schema
from negotiate.schema.compiled import normalizer_source
from negotiate.schema.values import (
    DATETIMES_SEEN,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    check_datetime,
    datetime_ok,
)

DATA = Path(__file__).parent / "data" / "superoffice"
CONTACT = get_schema("ContactEntity")


def generated(name: str) -> Any:
    """A function (or constant) of the generated normalisers' namespace."""
    return CONTACT.normalizer.__globals__[name]


def normalised_sample() -> dict[str, Any]:
    return CONTACT.normalize(orjson.loads((DATA / "contact-sample.json").read_bytes()))


def test_constants_are_named_for_what_they_are() -> None:
    source = normalizer_source()
    assert "if list(d) != keys_ContactEntity: d = rebind_ContactEntity(d, opts)" in source
    assert generated("keys_ContactEntity") == list(CONTACT.names)
    assert generated("rebind_ContactEntity") == CONTACT.rebind
    assert "enum_UserType.normalize" in source
    # No numbered constants (K1, R2, E3, V4) nor numbered helpers (h0) are left.
    assert re.findall(r"\b(?:[KREV]\d+|h\d+)\b", source) == []


def test_the_int32_bounds_come_from_the_constants() -> None:
    assert f"v > {INT32_MAX} or v < {INT32_MIN}" in normalizer_source()
    assert (INT32_MIN, INT32_MAX) == (-(2**31), 2**31 - 1)
    assert (INT64_MIN, INT64_MAX) == (-(2**63), 2**63 - 1)


@pytest.mark.parametrize(
    ("value", "fits"),
    [(INT32_MAX, True), (INT32_MIN, True), (INT32_MAX + 1, False), (INT32_MIN - 1, False)],
)
def test_the_fast_path_checks_int32_exactly_at_the_bounds(value: int, fits: bool) -> None:
    carrier = normalised_sample()
    carrier["ContactId"] = value
    fast = generated("f_ContactEntity")
    if fits:
        assert fast(carrier, 0, Options())["ContactId"] == value
    else:
        with pytest.raises(SlowPath):
            fast(carrier, 0, Options())
        with pytest.raises(InvalidValue, match="out of range") as info:
            CONTACT.normalize(carrier)
        assert info.value.location == "/ContactId"


def test_a_traceback_through_a_normaliser_shows_the_generated_line() -> None:
    with pytest.raises(InvalidValue) as info:
        CONTACT.normalize({"Persons": [{"Mrmrs": 5}]})
    assert info.value.location == "/Persons/0/Mrmrs"
    shown = "".join(traceback.format_exception(info.value))
    assert "<negotiate generated: schema normalizers #" in shown
    assert "raise _not_container(v, 'string', 'Mrmrs')" in shown
    assert "raise e.at('Persons') from None" in shown


def test_the_slow_path_signal_is_fresh_per_raise() -> None:
    fast = generated("f_ContactEntity")
    caught = []
    for bad in ("not an int", 2**40):
        carrier = normalised_sample()
        carrier["ContactId"] = bad
        with pytest.raises(SlowPath) as info:
            fast(carrier, 0, Options())
        caught.append((info.value, info.value.__traceback__))
    (first, first_tb), (second, _) = caught
    assert first is not second
    assert first.__traceback__ is first_tb, "a later raise rewrote an earlier signal's traceback"


def test_two_threads_on_the_slow_path_get_their_own_signals() -> None:
    fast = generated("f_ContactEntity")
    barrier = threading.Barrier(2)
    caught: dict[int, BaseException] = {}

    def hit(slot: int) -> None:
        carrier = normalised_sample()
        carrier["ContactId"] = f"bad {slot}"
        barrier.wait()
        try:
            fast(carrier, 0, Options())
        except SlowPath as exc:
            caught[slot] = exc

    threads = [threading.Thread(target=hit, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(caught) == {0, 1}
    assert caught[0] is not caught[1]


def test_a_normaliser_is_still_correct_when_the_slow_path_runs() -> None:
    carrier = normalised_sample()
    carrier["contactid"] = carrier.pop("ContactId")  # same size: the fast path meets a KeyError
    result = CONTACT.normalize(carrier)
    assert list(result) == list(CONTACT.names)
    assert result["ContactId"] == normalised_sample()["ContactId"]


# -- datetime_ok: one memo for every codec -------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2015-11-08T11:24:47.8282933+01:00", "2016-01-04T13:27:28", "2020-02-29T00:00Z"],
)
def test_datetime_ok_accepts_what_check_datetime_accepts(value: str) -> None:
    assert check_datetime(value) == value
    assert datetime_ok(value) is True
    assert value in DATETIMES_SEEN
    assert datetime_ok(value) is True


@pytest.mark.parametrize(
    "value", ["2019-02-29T00:00:00", "0000-01-01T00:00:00", "yesterday", "", None, 5, ["x"]]
)
def test_datetime_ok_refuses_what_check_datetime_refuses(value: Any) -> None:
    with pytest.raises(ValueError):
        check_datetime(value)
    assert datetime_ok(value) is False
    if type(value) is str:
        assert value not in DATETIMES_SEEN


def test_the_datetime_memo_is_bounded() -> None:
    texts = [
        f"2021-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00"
        for month in range(1, 13)
        for day in range(1, 29)
        for hour in range(24)
        for minute in range(0, 60, 15)
    ]
    assert len(texts) > 30_000
    for text in texts:
        assert datetime_ok(text)
    assert 0 < len(DATETIMES_SEEN) <= 8192
    assert texts[-1] in DATETIMES_SEEN


def test_an_error_from_the_slow_path_does_not_chain_the_fast_paths_signal() -> None:
    carrier = normalised_sample()
    carrier["ContactId"] = "not an int"
    with pytest.raises(InvalidValue) as info:
        CONTACT.normalize(carrier)
    chained = []
    error: BaseException | None = info.value
    while error is not None:
        chained.append(type(error))
        error = error.__context__
    assert SlowPath not in chained
    assert "SlowPath" not in "".join(traceback.format_exception(info.value))
