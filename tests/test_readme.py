"""The README runs as written.

Every ```` ```python ```` block is pasted into a file of its own and run in a
fresh interpreter (cwd a temporary directory): it must exit 0, and where a
line is ``print(...)  # text``, its output must be that text, line for line.
A block that reads ``NEGOTIATE_URL`` / ``NEGOTIATE_TOKEN`` gets the reference
server on loopback in its environment, as a reader who ran ``negotiate
serve`` and exported the printed token would. A block that names an
application with ``# uvicorn module:NAME`` is then imported as that module
and its application asked over ASGI: the reference endpoints answer (401
without credentials) and its own routes answer too.

The ``negotiate convert`` lines of the ``sh`` blocks run in a shell whose
``.venv/bin/negotiate`` (also on ``PATH``, as in an activated venv) is this
checkout's command line: a ``$ command`` line must print exactly the lines
that follow it, a bare ``.venv/bin/negotiate convert`` line must succeed and
write the bundled sample in the ``--to`` format.

The patch-response claim in the prose is checked against the reference
application.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import CONTACT, REGISTRY, SAMPLE, TOKEN, bearer, decode_response

from negotiate.http import App

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TIMEOUT = 120
ENRICH = "/api/v1/Agents/Contact/EnrichContactEntity"


@dataclass(frozen=True)
class Block:
    """A fenced block of the README."""

    lang: str
    heading: str
    line: int
    code: str


def _blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    heading = "top"
    fence: tuple[str, int, list[str]] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if fence is None:
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
            elif line.startswith("```"):
                fence = (line[3:].strip(), number + 1, [])
        elif line.startswith("```"):
            lang, start, lines = fence
            blocks.append(Block(lang, heading, start, "\n".join(lines) + "\n"))
            fence = None
        else:
            fence[2].append(line)
    assert fence is None, f"README.md: the fence opened at line {fence[1] - 1} is never closed"
    return blocks


def _slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


def _params(items: list[tuple[Block, Any]] | list[Block]) -> list[Any]:
    """``pytest.param``s with ids from the headings (``-2``, ``-3`` for a heading's later ones)."""
    seen: dict[str, int] = {}
    params = []
    for item in items:
        values = item if isinstance(item, tuple) else (item,)
        slug = _slug(values[0].heading)
        seen[slug] = seen.get(slug, 0) + 1
        name = slug if seen[slug] == 1 else f"{slug}-{seen[slug]}"
        params.append(pytest.param(*values, id=name))
    return params


BLOCKS = _blocks(README.read_text(encoding="utf-8"))
PYTHON = [b for b in BLOCKS if b.lang == "python"]


def _sessions(block: Block) -> list[tuple[str, list[str]]]:
    """The ``$ command`` lines of a shell block, each with the output lines that follow."""
    sessions: list[tuple[str, list[str]]] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            sessions.append((line[2:], []))
        elif sessions:
            sessions[-1][1].append(line)
    return sessions


SESSIONS = [
    (block, session)
    for block in BLOCKS
    if block.lang == "sh"
    for session in _sessions(block)
    if "negotiate convert" in session[0]
]
CONVERT_LINES = [
    (block, line)
    for block in BLOCKS
    if block.lang == "sh"
    for line in block.code.splitlines()
    if line.startswith(".venv/bin/negotiate convert")
]

_EXPECTED = re.compile(r"^\s*print\(.*\)  # (.*)$")


def _env(**extra: str) -> dict[str, str]:
    """The environment for a block: this checkout first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _run_python(script: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, script.name],
        cwd=script.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


_PROBE = textwrap.dedent(
    """
    import asyncio, sys

    import httpx

    import module

    async def main(name, own_paths):
        transport = httpx.ASGITransport(app=getattr(module, name))
        async with httpx.AsyncClient(transport=transport, base_url="http://readme") as client:
            answer = await client.post({enrich!r}, json={{"EnrichId": "NO-800099668"}})
            assert answer.status_code == 401, (answer.status_code, answer.text)
            assert "WWW-Authenticate" in answer.headers
            for path in own_paths:
                answer = await client.get(path)
                assert answer.status_code == 200, (path, answer.status_code, answer.text)
        print("probed")

    asyncio.run(main(sys.argv[1], sys.argv[2:]))
    """
).format(enrich=ENRICH)


def test_the_readme_has_its_examples() -> None:
    headings = {block.heading for block in PYTHON}
    assert {"Formats", "In a server", "In a client"} <= headings
    assert SESSIONS and CONVERT_LINES


@pytest.mark.parametrize("block", _params(PYTHON))
def test_python_block_runs(block: Block, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    extra: dict[str, str] = {}
    if "NEGOTIATE_URL" in block.code or "NEGOTIATE_TOKEN" in block.code:
        server = request.getfixturevalue("asgi_server")
        extra = {"NEGOTIATE_URL": server.url, "NEGOTIATE_TOKEN": TOKEN}
    script = tmp_path / "module.py"
    script.write_text(block.code, encoding="utf-8")
    result = _run_python(script, _env(**extra))
    where = f"README.md line {block.line} ({block.heading})"
    assert result.returncode == 0, f"{where} failed:\n{result.stderr}"
    expected = [m.group(1) for m in map(_EXPECTED.match, block.code.splitlines()) if m]
    if expected:
        assert result.stdout.splitlines() == expected, where
    for name in re.findall(r"# uvicorn module:(\w+)", block.code):
        own = re.findall(r'Route\("(/[^"]*)"', block.code)
        probe = tmp_path / "probe.py"
        probe.write_text(_PROBE, encoding="utf-8")
        probed = subprocess.run(
            [sys.executable, probe.name, name, *own],
            cwd=tmp_path,
            env=_env(**extra),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert probed.returncode == 0, f"{where}: module:{name} over ASGI:\n{probed.stderr}"
        assert probed.stdout.splitlines()[-1] == "probed"


@pytest.fixture
def shell_dir(tmp_path: Path) -> Path:
    """A directory whose ``.venv/bin/negotiate`` is this checkout's command line."""
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    shim = bin_dir / "negotiate"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m negotiate.cli "$@"\n')
    shim.chmod(0o755)
    return tmp_path


def _shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = _env(PATH=os.pathsep.join([str(cwd / ".venv" / "bin"), os.environ.get("PATH", "")]))
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize(("block", "session"), _params(SESSIONS))
def test_shell_session_prints_what_the_readme_shows(
    block: Block, session: tuple[str, list[str]], shell_dir: Path
) -> None:
    command, expected = session
    result = _shell(command, shell_dir)
    assert result.stdout.splitlines() == expected, f"README.md line {block.line}: {command}"


@pytest.mark.parametrize(("block", "line"), _params(CONVERT_LINES))
def test_convert_line_writes_the_sample(block: Block, line: str, shell_dir: Path) -> None:
    result = _shell(line, shell_dir)
    assert result.returncode == 0, result.stdout
    args = shlex.split(line)
    target = args[args.index("--to") + 1] if "--to" in args else "application/json"
    codec, media_type = REGISTRY.for_content_type(target)
    written = codec.decode(result.stdout.encode(), CONTACT, media_type=media_type)
    assert written == CONTACT.normalize(orjson.loads(SAMPLE.read_bytes()))


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7396 MergePatch, as section 2 writes it (independent of the codec under test)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = _merge(result.get(name), value)
    return result


def _apply_json_patch(document: Any, operations: list[dict[str, Any]]) -> Any:
    import jsonpatch

    return jsonpatch.apply_patch(document, operations)


@pytest.mark.parametrize(
    "sent",
    [
        {"Name": "Nordvik"},
        {"Name": "Nordvik", "Phones": [{"Value": "22 96 81 51"}], "Address": {"Formatted": "x"}},
        None,
    ],
    ids=["name", "phones-and-address", "null"],
)
def test_the_patch_response_claim_holds(app: App, sent: Any) -> None:
    """README: a JSON Patch applied to the normalised contact sent is the JSON answer; a
    merge patch applied to what was sent is, once normalised."""
    body = orjson.dumps({"ContactEntity": sent, "EnrichId": "NO-800099668"})

    def raw(accept: str) -> bytes:
        response = app.handle(
            "POST",
            ENRICH,
            "",
            {**bearer(), "Content-Type": "application/json", "Accept": accept},
            body,
        )
        assert response.status == 200, response.body
        return response.body

    json_answer = orjson.loads(raw("application/json"))
    normalised = CONTACT.normalize(sent) if sent is not None else CONTACT.default()
    json_patch = orjson.loads(raw("application/json-patch+json"))
    assert _apply_json_patch(normalised, json_patch) == json_answer
    merge_patch = orjson.loads(raw("application/merge-patch+json"))
    assert CONTACT.normalize(_merge(sent if sent is not None else {}, merge_patch)) == json_answer
    # "decoding the response with the codec and base= what was sent does both"
    for media_type in ("application/json-patch+json", "application/merge-patch+json"):
        assert decode_response(media_type, raw(media_type), sent) == json_answer
