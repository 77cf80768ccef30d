"""The house: the package's import graph, read from source, follows DESIGN.md.

Every ``negotiate/**/*.py`` is parsed (``ast``; nothing is imported) and each
``import`` of the package becomes an edge, of one of three kinds:

- ``module``: at module level (``try``/``if`` blocks included), run on import;
- ``lazy``: inside a function, run when it is called;
- ``typing``: under ``if TYPE_CHECKING:``, never run.

``from P import name`` is an edge to ``P.name`` when that is a module, else to
``P``; an edge to a module also reaches the packages above it that the
importer is not inside (their ``__init__`` runs first). The checks:

- no cycle among ``module`` and ``lazy`` edges. ``typing`` edges are left out
  of the cycle check (mypy resolves them, nothing runs them); the layer check
  below still sees them, so an upward type-only import must be listed in
  :data:`TYPE_ONLY_UPWARD` with its reason;
- the layers of DESIGN.md ("errors, options <- media, schema <- codecs <-
  pipeline, select, shaping <- http <- asgi, wsgi, integrations <- server <-
  cli"): a module imports only its own layer and those below;
- the client (beside http, never on the server) reaches none of the server's
  machinery, even transitively; a format codec never imports another format
  codec;
- errors have one home: every public error class is defined in
  :mod:`negotiate.errors`, and nothing in the package, its tests, benches or
  scripts imports an error from anywhere else (the package's own public
  surface, ``negotiate``, aside);
- in a fresh interpreter, ``import negotiate.client`` (and ``negotiate``,
  ``negotiate.cli``) loads none of the server's modules, nor SQLite or uvicorn.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import negotiate.errors

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "negotiate"

LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "negotiate.errors",
        "negotiate.options",
        "negotiate.superoffice",
        "negotiate.resources",
        "negotiate._codegen",
    ),
    ("negotiate.media",),
    ("negotiate.schema",),
    ("negotiate.codecs",),
    ("negotiate.pipeline", "negotiate.select", "negotiate.shaping", "negotiate.coding"),
    ("negotiate.http",),
    (
        "negotiate",
        "negotiate.asgi",
        "negotiate.wsgi",
        "negotiate.integrations",
        "negotiate.client",
        "negotiate.auth",
        "negotiate.enrich",
    ),
    ("negotiate.server",),
    ("negotiate.cli",),
)
"""Lowest first. An entry is a module and everything under it (``negotiate``
itself: the package's ``__init__`` only, the public surface)."""

TYPE_ONLY_UPWARD: dict[tuple[str, str], str] = {
    ("negotiate.http.app", "negotiate.auth"): (
        "App annotates with auth's Authenticator protocol and Principal; http never loads auth"
    ),
    ("negotiate.http.messages", "negotiate.auth"): (
        "Context annotates with auth's Principal; http never loads auth"
    ),
}
"""``typing`` edges allowed to point to a higher layer, each with its reason."""

CLIENT_NEVER = (
    "negotiate.server",
    "negotiate.asgi",
    "negotiate.wsgi",
    "negotiate.auth",
    "negotiate.enrich",
    "negotiate.integrations",
    "negotiate.http",
    "negotiate.cli",
)
"""What the client must not reach: the server's machinery (and http: beside it)."""

CODECS = "negotiate.codecs"
SHARED_CODEC_MODULES = frozenset({"base", "registry", "_text", "_nodes"})
"""Modules of ``negotiate.codecs`` that every format may use; the rest are formats."""


class KnownCrossImport(Exception):
    """The one failure a strict xfail below expects: an edge already on record."""


KNOWN_CROSS_FORMAT: dict[str, tuple[tuple[str, str], str]] = {}
"""Format codecs that import another format codec today: the exact edge, and why."""


# -- the graph -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """One import of the package by one of its modules."""

    source: str
    target: str
    kind: str  # "module", "lazy" or "typing"
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.kind}, line {self.line})"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("negotiate", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(source: str, node: ast.ImportFrom) -> str:
    """The module an ``from ... import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    parts = source.split(".") if _is_package(source) else source.split(".")[:-1]
    parts = parts[: len(parts) - node.level + 1]
    return ".".join([*parts, node.module] if node.module else parts)


def _targets(source: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = _absolute(source, node)
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    for name in names:
        if name != "negotiate" and not name.startswith("negotiate."):
            continue
        yield name
        # The packages above the target run first, unless the importer is inside them.
        parts = name.split(".")
        for depth in range(len(parts) - 1, 1, -1):
            parent = ".".join(parts[:depth])
            if not (source == parent or source.startswith(parent + ".")):
                yield parent


def _edges(source: str) -> list[Edge]:
    tree = ast.parse(MODULES[source].read_text(encoding="utf-8"), filename=str(MODULES[source]))
    found: list[Edge] = []

    def walk(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for item in child.body:
                    walk_one(item, "typing")
                for item in child.orelse:
                    walk_one(item, kind)
            else:
                walk_one(child, kind)

    def walk_one(node: ast.AST, kind: str) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _targets(source, node):
                found.append(Edge(source, target, kind, node.lineno))
            return
        inner = kind
        if kind == "module" and isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        ):
            inner = "lazy"
        walk(node, inner)

    walk(tree, "module")
    return found


EDGES = [edge for name in MODULES for edge in _edges(name) if edge.target != edge.source]
RUNTIME = [edge for edge in EDGES if edge.kind != "typing"]


def _layer(name: str) -> int | None:
    for rank, entries in enumerate(LAYERS):
        for entry in entries:
            if name == entry or (entry != "negotiate" and name.startswith(entry + ".")):
                return rank
    return None


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


# -- the graph reader itself ------------------------------------------------------------------


def test_the_reader_sees_every_kind_of_edge() -> None:
    """A check of the checker: edges this package is known to have, each of its kind."""
    found = {(e.source, e.target, e.kind) for e in EDGES}
    assert ("negotiate.http.app", "negotiate.auth", "typing") in found
    assert ("negotiate.cli", "negotiate.server", "lazy") in found
    assert ("negotiate.server.operations", "negotiate.server.config", "module") in found
    # `from negotiate.codecs.base import ...` also runs negotiate.codecs first
    assert ("negotiate.http.app", "negotiate.codecs", "module") in found
    # ...but not the package the importer is in (it is already running)
    assert ("negotiate.server.launch", "negotiate.server", "module") not in found
    assert ("negotiate.cli", "negotiate", "lazy") in found  # named outright, it is an edge


# -- cycles ------------------------------------------------------------------------------------


def _cycles(edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_cycles_are_found() -> None:
    """A check of the checker: the cycle the review found (auth <-> http) is one."""
    made = [
        Edge("negotiate.auth", "negotiate.http", "module", 1),
        Edge("negotiate.http", "negotiate.auth", "lazy", 1),
    ]
    assert _cycles(made) == [["negotiate.auth", "negotiate.http"]]


def test_no_import_cycle() -> None:
    cycles = _cycles(RUNTIME)
    edges = {str(e) for e in RUNTIME if any({e.source, e.target} <= set(c) for c in cycles)}
    assert cycles == [], "\n".join(sorted(edges))


# -- layers ------------------------------------------------------------------------------------


def test_every_module_has_a_layer() -> None:
    # A new module needs a place in DESIGN.md's direction of imports, and in LAYERS.
    assert [name for name in MODULES if _layer(name) is None] == []


def test_imports_point_down_the_layers() -> None:
    upward = []
    for edge in EDGES:
        source, target = _layer(edge.source), _layer(edge.target)
        assert source is not None and target is not None, edge
        if target > source and (
            edge.kind != "typing" or (edge.source, edge.target) not in TYPE_ONLY_UPWARD
        ):
            upward.append(str(edge))
    assert upward == []


def test_a_type_only_upward_import_closes_no_cycle() -> None:
    # The review's auth <-> http: auth imported http, http imported auth for its types.
    closing = [
        " -> ".join(path)
        for source, target in TYPE_ONLY_UPWARD
        if (path := _paths_from(target, RUNTIME).get(source)) is not None
    ]
    assert closing == []


def test_every_type_only_allowance_is_used() -> None:
    typing = {(e.source, e.target) for e in EDGES if e.kind == "typing"}
    assert sorted(set(TYPE_ONLY_UPWARD) - typing) == []


def test_the_endpoint_facts_import_nothing() -> None:
    assert [str(e) for e in EDGES if e.source == "negotiate.superoffice"] == []


def _paths_from(start: str, edges: list[Edge]) -> dict[str, list[str]]:
    """Every module ``start`` reaches, with one shortest path to it."""
    out: dict[str, list[str]] = {}
    for edge in edges:
        out.setdefault(edge.source, []).append(edge.target)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(out.get(node, [])):
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return paths


def test_the_client_reaches_no_server_machinery() -> None:
    reached = _paths_from("negotiate.client", RUNTIME)
    assert [" -> ".join(path) for name, path in reached.items() if _under(name, CLIENT_NEVER)] == []


FORMATS = sorted(
    {
        name.split(".")[2]
        for name in MODULES
        if name.startswith(CODECS + ".") and name.split(".")[2] not in SHARED_CODEC_MODULES
    }
)


def _format(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) < 3 or parts[:2] != CODECS.split(".") or parts[2] in SHARED_CODEC_MODULES:
        return None
    return parts[2]


@pytest.mark.parametrize(
    "fmt",
    [
        pytest.param(
            fmt,
            marks=pytest.mark.xfail(
                strict=True,
                raises=KnownCrossImport,
                reason=f"{' -> '.join(KNOWN_CROSS_FORMAT[fmt][0])}: {KNOWN_CROSS_FORMAT[fmt][1]}",
            ),
        )
        if fmt in KNOWN_CROSS_FORMAT
        else fmt
        for fmt in FORMATS
    ],
)
def test_a_format_codec_imports_no_other_format(fmt: str) -> None:
    # A format's package (codecs/patch/...) counts as one: its modules share the edge.
    foreign = {
        (f"{CODECS}.{fmt}", f"{CODECS}.{_format(e.target)}")
        for e in EDGES
        if _format(e.source) == fmt and _format(e.target) not in (None, fmt)
    }
    known = {KNOWN_CROSS_FORMAT[fmt][0]} if fmt in KNOWN_CROSS_FORMAT else set()
    assert sorted(foreign - known) == []  # a new one is a plain failure, never expected
    if foreign:
        raise KnownCrossImport(f"{sorted(foreign)}: {KNOWN_CROSS_FORMAT[fmt][1]}")


# -- errors have one home ----------------------------------------------------------------------

ERROR_NAMES = frozenset(
    name
    for name in negotiate.errors.__all__
    if isinstance(getattr(negotiate.errors, name), type) or name == "error_class"
)


def test_error_names_cover_the_tree() -> None:
    assert {"NegotiateError", "Unauthorized", "ServiceUnavailable", "error_class"} <= ERROR_NAMES
    assert negotiate.errors.error_class(503) is negotiate.errors.ServiceUnavailable
    assert issubclass(negotiate.errors.TooManyPasswordChecks, negotiate.errors.ServiceUnavailable)


def test_every_public_error_class_is_defined_in_errors() -> None:
    elsewhere = []
    for name, path in MODULES.items():
        if name == "negotiate.errors":
            continue
        errors = set(ERROR_NAMES)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                bases = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                }
                if bases & errors:
                    errors.add(node.name)  # its subclasses are errors too
                    if not node.name.startswith("_"):
                        elsewhere.append(f"{name}.{node.name}")
    assert elsewhere == []


def _python_files() -> Iterator[Path]:
    for folder in ("negotiate", "tests", "benches", "scripts"):
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_errors_are_imported_from_errors() -> None:
    wrong = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            home = node.module in ("negotiate.errors", "negotiate")
            if node.module.startswith("negotiate.") and not home:
                names = [a.name for a in node.names if a.name in ERROR_NAMES]
                if names:
                    where = path.relative_to(ROOT)
                    wrong.append(f"{where}:{node.lineno}: {', '.join(names)} from {node.module}")
    assert wrong == []


# -- what an import loads ----------------------------------------------------------------------

SERVER_MACHINERY = (
    "negotiate.server",
    "negotiate.asgi",
    "negotiate.wsgi",
    "negotiate.auth",
    "negotiate.enrich",
    "sqlite3",
    "uvicorn",
)


WSGI_NEVER = ("negotiate.asgi", "negotiate.server", "negotiate.enrich", "sqlite3", "uvicorn")


def _loaded(module: str, names: tuple[str, ...]) -> list[str]:
    """The modules of ``names`` (or under them) that importing ``module`` loads, afresh."""
    code = (
        f"import sys, {module}\n"
        f"names = {names!r}\n"
        "print(sorted(m for m in sys.modules if any(m == n or m.startswith(n + '.') "
        "for n in names)))"
    )
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": path},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    loaded = ast.literal_eval(result.stdout.strip())
    assert isinstance(loaded, list)
    return loaded


@pytest.mark.parametrize(
    ("module", "never"),
    [
        ("negotiate.client", SERVER_MACHINERY),
        ("negotiate.cli", SERVER_MACHINERY),
        ("negotiate", (*SERVER_MACHINERY, "negotiate.client", "httpx")),
        # the WSGI integrations load no ASGI adapter and no reference server (the
        # core they build on does load negotiate.auth, for App's authenticator)
        ("negotiate.integrations.flask", WSGI_NEVER),
        ("negotiate.integrations.falcon", WSGI_NEVER),
    ],
)
def test_an_import_loads_no_server_machinery(module: str, never: tuple[str, ...]) -> None:
    assert _loaded(module, never) == []


def test_the_server_does_load_it() -> None:
    """A check of the check: the server loads the machinery (uvicorn only when serving)."""
    loaded = _loaded("negotiate.server", SERVER_MACHINERY)
    assert {"negotiate.auth", "negotiate.enrich", "negotiate.asgi", "sqlite3"} <= set(loaded)
    assert "uvicorn" not in loaded
