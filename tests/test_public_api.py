"""The public surface: one sorted ``__all__``, every name importable, no drift either way.

The package's ``__init__`` and every module are read as source (``ast``), so
what a module binds is compared with what its ``__all__`` says without
trusting either: a name re-exported but missing from ``__all__``, a name in
``__all__`` that nothing binds, and a public class or function a module
defines but does not list are each a failure.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import negotiate

PACKAGE = Path(negotiate.__file__).resolve().parent

MODULES = [
    "negotiate.errors",
    "negotiate.media",
    "negotiate.options",
    "negotiate.resources",
    "negotiate.schema",
    "negotiate.codecs",
    "negotiate.select",
    "negotiate.shaping",
    "negotiate.http",
]
"""The modules ``negotiate/__init__.py`` re-exports from (checked below)."""

WITHOUT_ALL = {
    # The TypedDict declarations: imported by name where needed; what they
    # compile to is public through negotiate.schema.
    "negotiate.schema.carriers",
}
"""Modules that have no ``__all__``, on purpose; every other module has one."""

# Public here, but not in the module's __all__: drift outside these tests' files.
KNOWN_DRIFT: dict[str, str] = {}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_path(name: str) -> Path:
    parts = name.split(".")[1:]
    package = PACKAGE.joinpath(*parts, "__init__.py")
    return package if package.exists() else PACKAGE.joinpath(*parts).with_suffix(".py")


def _module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(("negotiate", *parts)))
    return names


def _imports(tree: ast.Module) -> dict[str, list[ast.alias]]:
    """Module -> the names imported from it at top level (``__future__`` aside)."""
    found: dict[str, list[ast.alias]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            assert node.module is not None and node.level == 0, ast.dump(node)
            found.setdefault(node.module, []).extend(node.names)
        elif isinstance(node, ast.Import):
            found.setdefault("", []).extend(node.names)
    return found


def _bound(tree: ast.Module) -> set[str]:
    """Every name bound at a module's top level, by import, definition or assignment."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _declared_all(tree: ast.Module) -> list[str] | None:
    """The literal ``__all__`` of a module, or ``None`` when it has none."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list), "__all__ is a literal list"
            return value
    return None


def _defined(tree: ast.Module) -> list[str]:
    """Public classes and functions a module defines at top level."""
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("_")
    ]


INIT = _tree(PACKAGE / "__init__.py")
REEXPORTS = _imports(INIT)
FUTURE = {
    alias.name
    for node in INIT.body
    if isinstance(node, ast.ImportFrom) and node.module == "__future__"
    for alias in node.names
}


def test_all_is_sorted_and_unique() -> None:
    # Upper-case constants first, then classes, then functions: ruff's RUF022 order.
    key = [(0 if n.isupper() else 1 if n[:1].isupper() else 2, n) for n in negotiate.__all__]
    assert key == sorted(key)
    assert len(set(negotiate.__all__)) == len(negotiate.__all__)


def test_every_name_in_all_exists() -> None:
    missing = [name for name in negotiate.__all__ if not hasattr(negotiate, name)]
    assert missing == []


def test_modules_are_the_ones_the_package_imports_from() -> None:
    assert sorted(REEXPORTS) == sorted(MODULES)


def test_every_import_in_the_package_is_an_explicit_reexport() -> None:
    # `X as X`: what mypy's implicit_reexport=False (and strict) needs to see it as public.
    implicit = [
        f"{module}.{alias.name}"
        for module, aliases in REEXPORTS.items()
        for alias in aliases
        if alias.asname != alias.name
    ]
    assert implicit == []


def test_nothing_public_in_the_package_is_left_out_of_all() -> None:
    public = {name for name in _bound(INIT) if not name.startswith("_")}
    assert sorted(public - set(negotiate.__all__)) == []
    assert sorted(set(negotiate.__all__) - public) == []
    # At run time too: whatever the import leaves on the package, submodules aside.
    loaded = {
        name
        for name, value in vars(negotiate).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name not in FUTURE
    }
    assert sorted(loaded - set(negotiate.__all__)) == []


@pytest.mark.parametrize("module", MODULES)
def test_reexported_names_are_public_in_their_module_and_the_package(module: str) -> None:
    loaded = importlib.import_module(module)
    names = [alias.name for alias in REEXPORTS.get(module, [])]
    assert names, f"negotiate/__init__.py imports nothing from {module}"
    assert [n for n in names if n not in loaded.__all__] == [], f"not in {module}.__all__"
    assert [n for n in names if n not in negotiate.__all__] == [], "not in negotiate.__all__"
    assert [n for n in names if getattr(negotiate, n) is not getattr(loaded, n)] == []


@pytest.mark.parametrize("module", MODULES)
def test_module_all_names_exist(module: str) -> None:
    loaded = importlib.import_module(module)
    missing = [name for name in loaded.__all__ if not hasattr(loaded, name)]
    assert missing == [], module


def test_every_module_but_the_declarations_has_an_all() -> None:
    without = {name for name in _module_names() if _declared_all(_tree(_module_path(name))) is None}
    assert without == WITHOUT_ALL


@pytest.mark.parametrize(
    "module",
    [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_DRIFT[name])]
            if name in KNOWN_DRIFT
            else [],
        )
        for name in _module_names()
        if name not in WITHOUT_ALL
    ],
)
def test_module_all_is_complete_and_bound(module: str) -> None:
    tree = _tree(_module_path(module))
    declared = _declared_all(tree)
    assert declared is not None
    assert len(set(declared)) == len(declared), "duplicates in __all__"
    bound = _bound(tree)
    assert [name for name in declared if name not in bound] == [], "in __all__, never bound"
    explicit = [
        alias.name
        for aliases in _imports(tree).values()
        for alias in aliases
        if alias.asname == alias.name
    ]
    assert [name for name in _defined(tree) + explicit if name not in declared] == [], (
        "public, not in __all__"
    )


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
