"""The public surface: one sorted ``__all__``, every name importable and re-exported."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import negotiate

MODULES = [
    "negotiate.errors",
    "negotiate.media",
    "negotiate.options",
    "negotiate.schema",
    "negotiate.codecs",
    "negotiate.select",
    "negotiate.shaping",
    "negotiate.http",
]


def test_all_is_sorted_and_unique() -> None:
    # Upper-case constants first, then classes, then functions: ruff's RUF022 order.
    key = [(0 if n.isupper() else 1 if n[:1].isupper() else 2, n) for n in negotiate.__all__]
    assert key == sorted(key)
    assert len(set(negotiate.__all__)) == len(negotiate.__all__)


def test_every_name_in_all_exists() -> None:
    for name in negotiate.__all__:
        assert hasattr(negotiate, name), name


def test_public_names_of_the_modules_are_exported() -> None:
    public = {name for name in vars(negotiate) if not name.startswith("_")}
    assert set(negotiate.__all__) <= public


@pytest.mark.parametrize("module", MODULES)
def test_module_all_names_exist(module: str) -> None:
    loaded = importlib.import_module(module)
    for name in loaded.__all__:
        assert hasattr(loaded, name), f"{module}.{name}"


def test_optional_extras_are_not_imported_by_the_package() -> None:
    code = (
        "import sys, negotiate, negotiate.cli; "
        "print(sorted(m for m in ('uvicorn', 'httpx', 'starlette') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
