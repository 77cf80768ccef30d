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
server (uvicorn for ASGI, waitress for WSGI), both up at once and loaded by
wrk over loopback one after the other, round by round (the order swapped
every round); the ratio is the median over the rounds of negotiate's
requests/s over the native side's in the same round, so that a neighbour's
load falls on both sides of a ratio alike. The table also gives each
server's CPU time per request (from ``/proc``, the median over the rounds)
and their ratio, native over negotiate: on a busy machine the steadier
figure of the two.
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
import os
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
_THREADS = "BENCH_WSGI_THREADS"
"""The environment variable the servers read waitress's thread count from."""


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
        import logging

        import waitress

        # NOTE: under wrk's 16 connections waitress logs "Task queue depth" per request
        # queued; the log line costs the server time and says nothing here.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        threads = int(os.environ.get(_THREADS, "4"))
        waitress.serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


def _reference_app() -> Any:
    from negotiate.server import ServerConfig, asgi_app

    return asgi_app(ServerConfig(insecure_no_auth=True))


def _request(module: str) -> tuple[str, dict[str, str], bytes]:
    name = "fastapi" if module == "reference" else module
    path, headers, body = importlib.import_module(f"benches.frameworks.{name}").REQUEST
    return path, dict(headers), body


def _wrk(
    url: str, headers: dict[str, str], body: bytes, args: argparse.Namespace
) -> tuple[float, int]:
    """(requests/s, requests answered) of one wrk run."""
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
    rate = count = None
    for line in text.splitlines():
        if line.startswith("Requests/sec:"):
            rate = float(line.split()[1])
        elif " requests in " in line:
            count = int(line.split()[0])
    if rate is None or not count:
        raise RuntimeError(f"wrk failed: {done.stderr or text}")
    return rate, count


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux ``/proc``), or ``None``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # NOTE: utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _check(url: str, headers: dict[str, str], body: bytes) -> Any:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")
        return json.loads(response.read())


class _Server:
    """One side of one module served in a subprocess on a free port."""

    def __init__(self, module: str, side: str) -> None:
        self.module = module
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benches.bench_frameworks",
                "--serve",
                module,
                side,
                str(self.port),
            ]
        )

    def __enter__(self) -> _Server:
        _wait(self.port, time.monotonic() + 30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(10)

    def check(self) -> Any:
        """The answer to the bench's request (checked to be a 200)."""
        path, headers, body = _request(self.module)
        return _check(f"http://127.0.0.1:{self.port}{path}", headers, body)

    def load(self, args: argparse.Namespace) -> tuple[float, float | None]:
        """Requests/s of one wrk run, and the server's CPU µs per request in it."""
        path, headers, body = _request(self.module)
        before = _cpu_seconds(self.process.pid)
        rate, count = _wrk(f"http://127.0.0.1:{self.port}{path}", headers, body, args)
        after = _cpu_seconds(self.process.pid)
        cpu = None if before is None or after is None else (after - before) / count * 1e6
        return rate, cpu


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _compare(
    ours: tuple[str, str], theirs: tuple[str, str], args: argparse.Namespace
) -> tuple[float, float, float, float | None, float | None]:
    """The two sides loaded round by round, interleaved.

    NOTE: both servers are up at once (an idle one costs nothing) and each round
    loads one side right after the other, the order swapped every round, so that a
    neighbour's load on the shared machine falls on both sides of a ratio alike.
    The servers' CPU time per request is the steadier figure there: a busy machine
    slows a request down, but hardly changes the work it takes.

    Returns:
        (best req/s ours, best req/s theirs, median of the rounds' req/s ratios,
        median CPU µs per request ours, theirs; ``None`` without ``/proc``).
    """
    with _Server(*ours) as mine, _Server(*theirs) as peer:
        if mine.check().get("Name") != peer.check().get("Name"):
            raise RuntimeError(f"{ours[0]}: the two sides answer different contacts")
        rounds: list[tuple[tuple[float, float | None], tuple[float, float | None]]] = []
        for index in range(args.rounds):
            if index % 2:
                theirs_run = peer.load(args)
                ours_run = mine.load(args)
            else:
                ours_run = mine.load(args)
                theirs_run = peer.load(args)
            rounds.append((ours_run, theirs_run))
    ratio = _median([o[0] / t[0] for o, t in rounds])
    ours_cpu = [o[1] for o, _ in rounds if o[1] is not None]
    theirs_cpu = [t[1] for _, t in rounds if t[1] is not None]
    return (
        max(o[0] for o, _ in rounds),
        max(t[0] for _, t in rounds),
        ratio,
        _median(ours_cpu) if ours_cpu else None,
        _median(theirs_cpu) if theirs_cpu else None,
    )


def main(argv: list[str] | None = None) -> int:
    """Run every module's two sides and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="wrk runs per side, interleaved (ratio: median)"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--wsgi-threads", type=int, default=4, help="waitress's threads (4: its default)"
    )
    parser.add_argument("--only", help="comma-separated modules (and 'reference')")
    parser.add_argument(
        "--serve", nargs=3, metavar=("MODULE", "SIDE", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve[0], args.serve[1], int(args.serve[2]))
        return 0
    os.environ[_THREADS] = str(args.wsgi_threads)  # the servers' subprocesses inherit it
    if shutil.which("wrk") is None:
        print("SKIP bench_frameworks: wrk is not installed (Debian: apt-get install -y wrk)")
        return 0
    rows = [(m, "negotiate", "native") for m in _modules()] + [("reference", "ref", "native")]
    if args.only:
        wanted = set(args.only.split(","))
        rows = [row for row in rows if row[0] in wanted]
    lines = [
        "| integration | negotiate req/s | native | native req/s | ratio | goal "
        "| CPU µs/req negotiate | native | CPU ratio |",
        "|---|--:|---|--:|--:|---|--:|--:|--:|",
    ]
    for module, ours, theirs in rows:
        native_module = "fastapi" if module == "reference" else module
        ours_rps, theirs_rps, ratio, ours_cpu, theirs_cpu = _compare(
            (module, ours if module != "reference" else "-"), (native_module, theirs), args
        )
        goal = 2.0 if module == "reference" else 1.0
        label = "reference server vs FastAPI + pydantic" if module == "reference" else module
        native = "FastAPI + pydantic" if module in ("reference", "fastapi") else "native"
        verdict = "met" if ratio >= goal else "MISSED"
        cpu = "| - | - | - |"
        if ours_cpu and theirs_cpu:
            cpu = f"| {ours_cpu:,.0f} | {theirs_cpu:,.0f} | {theirs_cpu / ours_cpu:.2f}× |"
        lines.append(
            f"| {label} | {ours_rps:,.0f} | {native} | {theirs_rps:,.0f} | {ratio:.2f}× "
            f"| ≥ {goal:g}× {verdict} {cpu}"
        )
        print(lines[-1], file=sys.stderr)
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "frameworks.md").write_text(
        f"# frameworks\n\nwrk -t1 -c{args.connections} -d{args.duration}s, {args.rounds} "
        "rounds, the sides interleaved; req/s: the best round, ratio: the median of the "
        "rounds' ratios; CPU: the server's user + system time per request (median), "
        f"the ratio native over negotiate; {time.strftime('%Y-%m-%d')}\n\n{table}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
