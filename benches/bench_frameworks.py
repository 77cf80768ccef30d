"""Requests per second of the EnrichContactEntity JSON round trip, per framework integration.

The question (issue 13): inside a framework, does negotiate cost more than the
framework's own way of doing the same round trip? Each module of
``benches/frameworks/`` defines ``APPS = {"negotiate": (kind, app), "native":
(kind, app)}``: two applications serving ``POST
/api/v1/Agents/Contact/EnrichContactEntity`` with the same work (decode the
full sample request, enrich from the embedded provider, encode), one through
``negotiate.integrations.<framework>``, one the framework's usual way
(FastAPI with pydantic v2 models, DRF's JSONParser/JSONRenderer with a
serializer, Flask's ``request.get_json()``, Falcon's JSON handler); and
``REQUEST = (path, headers, body)``. Both sides of a row run on the same
server (uvicorn for ASGI, waitress for WSGI), one at a time, loaded by wrk
over loopback; the ratio is negotiate's requests/s over the native side's.
The last row is the reference server (``negotiate.server``, authentication
off) against FastAPI + pydantic.

Caveats first: loopback on a shared 2-core machine; wrk and the server
compete for the cores (one server process, one wrk thread); the native sides
validate less than negotiate does (pydantic binds names case-sensitively and
leaves calendar dates unchecked; the others validate nothing), so a ratio at
1 means negotiate validates more for the same cost. Run it on a quiet
machine; ratios move by a few percent run to run.

Reproduce::

    apt-get install -y wrk
    pip install -e '.[server,fastapi,django,flask,falcon]' waitress
    python -m benches.bench_frameworks --duration 5 --rounds 3
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benches.bench_http import _free_port, _wait

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _modules() -> list[str]:
    package = importlib.import_module("benches.frameworks")
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__))


def _serve(module: str, side: str, port: int) -> None:
    """Serve one side of one module on ``port`` (runs in the server subprocess)."""
    if module == "reference":
        kind, app = "asgi", _reference_app()
    else:
        kind, app = importlib.import_module(f"benches.frameworks.{module}").APPS[side]
    if kind == "asgi":
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    else:
        import waitress

        waitress.serve(app, host="127.0.0.1", port=port, threads=4, _quiet=True)


def _reference_app() -> Any:
    from negotiate.server import ServerConfig, asgi_app

    return asgi_app(ServerConfig(insecure_no_auth=True))


def _request(module: str) -> tuple[str, dict[str, str], bytes]:
    name = "fastapi" if module == "reference" else module
    path, headers, body = importlib.import_module(f"benches.frameworks.{name}").REQUEST
    return path, dict(headers), body


def _wrk(url: str, headers: dict[str, str], body: bytes, args: argparse.Namespace) -> float:
    with tempfile.TemporaryDirectory() as folder:
        body_file = Path(folder) / "body"
        body_file.write_bytes(body)
        script = Path(folder) / "post.lua"
        lines = ['wrk.method = "POST"']
        lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
        lines += [
            f'local f = assert(io.open("{body_file}", "rb"))',
            'wrk.body = f:read("*all")',
            "f:close()",
        ]
        script.write_text("\n".join(lines))
        done = subprocess.run(
            ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "-s", str(script), url],
            capture_output=True,
            text=True,
            timeout=args.duration + 60,
        )
    text = done.stdout
    if "Non-2xx" in text:
        raise RuntimeError(f"non-2xx answers from {url}:\n{text}")
    for line in text.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise RuntimeError(f"wrk failed: {done.stderr or text}")


def _check(url: str, headers: dict[str, str], body: bytes) -> Any:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")
        return json.loads(response.read())


def _measure(module: str, side: str, args: argparse.Namespace) -> tuple[float, Any]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "benches.bench_frameworks", "--serve", module, side, str(port)]
    )
    try:
        _wait(port, time.monotonic() + 30)
        path, headers, body = _request(module)
        url = f"http://127.0.0.1:{port}{path}"
        answer = _check(url, headers, body)
        best = max(_wrk(url, headers, body, args) for _ in range(args.rounds))
        return best, answer
    finally:
        server.terminate()
        server.wait(10)


def main(argv: list[str] | None = None) -> int:
    """Run every module's two sides and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per side (best kept)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", help="comma-separated modules (and 'reference')")
    parser.add_argument(
        "--serve", nargs=3, metavar=("MODULE", "SIDE", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve[0], args.serve[1], int(args.serve[2]))
        return 0
    if shutil.which("wrk") is None:
        print("SKIP bench_frameworks: wrk is not installed (Debian: apt-get install -y wrk)")
        return 0
    rows = [(m, "negotiate", "native") for m in _modules()] + [("reference", "ref", "native")]
    if args.only:
        wanted = set(args.only.split(","))
        rows = [row for row in rows if row[0] in wanted]
    lines = [
        "| integration | negotiate req/s | native | native req/s | ratio | goal |",
        "|---|--:|---|--:|--:|---|",
    ]
    for module, ours, theirs in rows:
        native_module = "fastapi" if module == "reference" else module
        ours_rps, ours_answer = _measure(module, ours if module != "reference" else "-", args)
        theirs_rps, theirs_answer = _measure(native_module, theirs, args)
        if ours_answer.get("Name") != theirs_answer.get("Name"):
            raise RuntimeError(f"{module}: the two sides answer different contacts")
        goal = 2.0 if module == "reference" else 1.0
        ratio = ours_rps / theirs_rps
        label = "reference server vs FastAPI + pydantic" if module == "reference" else module
        native = "FastAPI + pydantic" if module in ("reference", "fastapi") else "native"
        verdict = "met" if ratio >= goal else "MISSED"
        lines.append(
            f"| {label} | {ours_rps:,.0f} | {native} | {theirs_rps:,.0f} | {ratio:.2f}× "
            f"| ≥ {goal:g}× {verdict} |"
        )
        print(lines[-1], file=sys.stderr)
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "frameworks.md").write_text(
        f"# frameworks\n\nwrk -t1 -c{args.connections} -d{args.duration}s, best of "
        f"{args.rounds}; {time.strftime('%Y-%m-%d')}\n\n{table}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
