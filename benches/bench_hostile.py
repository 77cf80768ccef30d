"""Hostile requests against the reference server: their cost, and whether others get through.

The question (issue 9): can one request freeze the server or blow its memory?
One ``negotiate serve`` (one uvicorn worker, loopback, Basic users and a Bearer
token configured) is started as a subprocess; each hostile input below is sent
on its own connection, and while it is being processed a normal JSON
EnrichContactEntity request (the bundled sample contact) is sent on another.
Each row reports:

* the hostile request's answer (status) and its own wall time;
* the slowest of the good requests sent back to back while the hostile one is
  in flight (the first 20 ms after it started), and how many completed (n);
  each must answer 200, or the column says which status it got;
* the size of the hostile request's answer;
* the server's resident memory after the row and its peak during the row
  (``VmRSS`` and ``VmHWM`` from ``/proc/<pid>/status``; the peak is reset before
  each row by writing ``5`` to ``/proc/<pid>/clear_refs``, and where that is not
  allowed the column is the peak so far and says so).

Caveats first: loopback on a shared 2-core machine, where the client (this
script) and the server compete for the cores; the times are wall times of
single requests, so they move by tens of milliseconds run to run. These are
measurements, not tests: the tests assert the typed answers and the budgets.

Reproduce::

    pip install -e '.[server]'
    python -m benches.bench_hostile                  # the tree on sys.path
    PYTHONPATH=/path/to/other/checkout python -m benches.bench_hostile --out before.md

``--only`` runs a subset of rows (comma-separated names, see ``--list``).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENRICH = "/api/v1/Agents/Contact/EnrichContactEntity"
TOKEN = "hostile-bench-token-not-a-secret"
USER, PASSWORD = "tje0", "correct horse battery staple"
MIB = 1024 * 1024
GZIP_BOMB = 1024 * MIB  # decoded size of the gzip-bomb row
SAMPLE = (HERE.parent / "tests" / "data" / "superoffice" / "contact-sample.json").read_bytes()
GOOD_BODY = b'{"ContactEntity": ' + SAMPLE + b', "EnrichId": "NO-800099668"}'


@dataclass
class Hostile:
    """One hostile input: how to send it, and what it is."""

    name: str
    what: str
    send: Callable[[int], tuple[int, int]]  # port -> (status, answer bytes)


@dataclass
class Result:
    name: str
    what: str
    status: str
    seconds: float
    good_latency: float | None
    good_status: int | None
    answer_bytes: int
    rss_mb: float
    peak_mb: float
    notes: list[str] = field(default_factory=list)
    good_count: int = 0


# -- the requests ------------------------------------------------------------------


def _bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def _post(
    port: int,
    body: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
    timeout: float = 120,
) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        all_headers = {"Content-Type": content_type, "Accept": "application/json", **_bearer()}
        all_headers.update(headers or {})
        conn.request("POST", ENRICH, body=body, headers=all_headers)
        response = conn.getresponse()
        return response.status, len(response.read())
    except (ConnectionError, http.client.HTTPException, TimeoutError, OSError) as exc:
        return -1, len(str(exc))
    finally:
        conn.close()


def _filled(unit: bytes, head: bytes, tail: bytes, size: int = 16 * MIB - 4096) -> bytes:
    count = (size - len(head) - len(tail)) // len(unit)
    return head + unit * count + tail


def _move_patch(source: str, target: str) -> bytes:
    phones = [{"Value": f"+47 2{i:07d}"} for i in range(10_000)]
    ops: list[dict[str, object]] = [
        {"op": "add", "path": "/EnrichId", "value": "NO-800099668"},
        {"op": "add", "path": "/ContactEntity", "value": {"Name": "Moves", "Phones": phones}},
    ]
    ops += [{"op": "move", "from": source, "path": target} for _ in range(300)]
    return json.dumps(ops).encode()


def _rows() -> Iterator[Hostile]:
    move = _move_patch("/ContactEntity/Phones/0", "/ContactEntity/Phones/-")
    yield Hostile(
        "patch-moves",
        f"JSON Patch: 300 item `move`s in a 10,000-item array ({len(move) // 1024} KB)",
        lambda port: _post(port, move, "application/json-patch+json"),
    )
    whole = _move_patch("/ContactEntity/Phones", "/ContactEntity/Phones")
    yield Hostile(
        "patch-moves-whole",
        f"JSON Patch: 300 `move`s of a 10,000-item array onto itself ({len(whole) // 1024} KB)",
        lambda port: _post(port, whole, "application/json-patch+json"),
    )

    def basic_flood(port: int) -> tuple[int, int]:
        wrong = base64.b64encode(f"{USER}:wrong".encode()).decode()

        def one(_: int) -> tuple[int, int]:
            return _post(port, GOOD_BODY, "application/json", {"Authorization": f"Basic {wrong}"})

        with ThreadPoolExecutor(100) as pool:
            answers = list(pool.map(one, range(100)))
        statuses = sorted({s for s, _ in answers})
        return (statuses[0] if len(statuses) == 1 else -2), sum(n for _, n in answers)

    yield Hostile("basic-flood", "100 concurrent requests with a wrong Basic password", basic_flood)
    keys = []
    size = 0
    i = 0
    while size < 16 * MIB - 4096:
        key = f"k{i}=".encode()
        keys.append(key)
        size += len(key) + 1
        i += 1
    form = b"&".join(keys)
    yield Hostile(
        "form-keys",
        f"form: {len(keys) / 1e6:.1f}M distinct unknown keys (16 MiB)",
        lambda port: _post(port, form, "application/x-www-form-urlencoded"),
    )
    patch_add = _filled(b"[],", b'[{"op":"add","path":"/EnrichId","value":[', b"[]]}]")
    yield Hostile(
        "patch-add-arrays",
        f"JSON Patch `add` of {(len(patch_add) // 3) / 1e6:.1f}M empty arrays (16 MiB)",
        lambda port: _post(port, patch_add, "application/json-patch+json"),
    )
    xml = _filled(b"<x/>", b"<EnrichContactEntityRequest>", b"</EnrichContactEntityRequest>")
    yield Hostile(
        "xml-siblings",
        f"XML: {(len(xml) // 4) / 1e6:.1f}M empty sibling elements (16 MiB)",
        lambda port: _post(port, xml, "application/xml", {"Accept": "application/xml"}),
    )
    arrays = _filled(b"[],", b'{"Unknown":[', b'[]],"EnrichId":"NO-800099668"}')
    yield Hostile(
        "json-arrays",
        f"JSON: {(len(arrays) // 3) / 1e6:.1f}M empty arrays in an unknown field (16 MiB)",
        lambda port: _post(port, arrays, "application/json"),
    )
    yield Hostile(
        "timezone-15k",
        "a 15 KB `SO-TimeZone` header (under the header limit)",
        lambda port: _post(port, GOOD_BODY, "application/json", {"SO-TimeZone": "x" * 15_000}),
    )
    yield Hostile(
        "timezone-60k",
        "a 60 KB `SO-TimeZone` header",
        lambda port: _post(port, GOOD_BODY, "application/json", {"SO-TimeZone": "x" * 60_000}),
    )
    small_accept = ", ".join(f"application/x-{i}" for i in range(800))
    yield Hostile(
        "accept-800",
        f"an 800-item `Accept` ({len(small_accept) // 1024} KB, under the header limit)",
        lambda port: _post(port, GOOD_BODY, "application/json", {"Accept": small_accept}),
    )
    accept = ", ".join(f"application/x-{i}" for i in range(5000))
    yield Hostile(
        "accept-5000",
        f"a 5,000-item `Accept` ({len(accept) // 1024} KB)",
        lambda port: _post(port, GOOD_BODY, "application/json", {"Accept": accept}),
    )
    yield Hostile(
        "header-1mb",
        "a 1 MB header",
        lambda port: _post(port, GOOD_BODY, "application/json", {"X-Big": "y" * MIB}),
    )
    yield from _body_rows()
    digits = b"<EnrichContactEntityRequest><ContactEntity><ContactId>" + b"9" * 5000
    digits += b"</ContactId></ContactEntity></EnrichContactEntityRequest>"
    yield Hostile(
        "xml-bigint",
        "XML: a 5,000-digit integer",
        lambda port: _post(port, digits, "application/xml"),
    )

    def slowloris(port: int) -> tuple[int, int]:
        """Half a request line and headers, then silence: when does the server hang up?"""
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST " + ENRICH.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n")
        sock.settimeout(30)
        try:
            data = sock.recv(65536)
            return (0 if not data else int(data.split()[1])), len(data)
        except TimeoutError:
            return -3, 0  # still open after 30 s
        except OSError:
            return 0, 0
        finally:
            sock.close()

    yield Hostile("slowloris", "unfinished headers, then silence (30 s at most)", slowloris)


def _attributes(count: int, size: int) -> bytes:
    """One element with ``count`` distinct attributes, padded by their values to ``size``."""
    head, tail = b"<EnrichContactEntityRequest><ContactEntity", b"/></EnrichContactEntityRequest>"
    width = (size - len(head) - len(tail)) // count - len(b' a00000=""')
    value = b"v" * width
    names = (f" a{i:05d}=".encode() for i in range(count))
    return head + b"".join(name + b'"' + value + b'"' for name in names) + tail


def _gzip_bomb(decoded: int) -> bytes:
    """A gzip member of ``decoded`` bytes of JSON string (spaces): about 1/1000 on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    block = b" " * MIB
    parts = [packer.compress(b'{"EnrichId":"')]
    parts += [packer.compress(block) for _ in range(decoded // MIB)]
    parts += [packer.compress(b'"}'), packer.flush()]
    return b"".join(parts)


def _body_rows() -> Iterator[Hostile]:
    """Bodies of 10-16 MiB that are parsed (or inflated) before they are refused."""
    from negotiate.options import DEFAULT_OPTIONS

    max_body = DEFAULT_OPTIONS.max_body  # the bench's server configures no other
    xml_type = {"Accept": "application/xml"}
    attributes = _attributes(80_000, 10 * MIB)
    yield Hostile(
        "xml-attributes",
        f"XML: one element with 80,000 attributes ({len(attributes) / MIB:.0f} MiB)",
        lambda port: _post(port, attributes, "application/xml", xml_type),
    )
    # NOTE: the body is just under max_body (16 MiB), so it is parsed (in libxml2's
    # huge mode, over 10 MB), accepted by the schema and echoed in the answer.
    text = _filled(
        b"x",
        b"<EnrichContactEntityRequest><ContactEntity><Name>",
        b"</Name></ContactEntity><EnrichId>NO-800099668</EnrichId></EnrichContactEntityRequest>",
        max_body - 1,
    )
    yield Hostile(
        "xml-text",
        f"XML: one text node of {len(text) / MIB:.2f} MiB (max_body - 1 bytes in all)",
        lambda port: _post(port, text, "application/xml"),
    )
    refs = _filled(
        b"&#233;",
        b"<EnrichContactEntityRequest><ContactEntity><Name>",
        b"</Name></ContactEntity><EnrichId>NO-800099668</EnrichId></EnrichContactEntityRequest>",
    )
    yield Hostile(
        "xml-text-refs",
        f"XML: one text node of {len(refs) / MIB:.0f} MiB, all character references (`&#233;`)",
        lambda port: _post(port, refs, "application/xml"),
    )
    deep = b"<a>" * 10_000 + b"</a>" * 10_000
    yield Hostile(
        "xml-deep",
        f"XML: elements nested 10,000 deep ({len(deep) // 1024} KB)",
        lambda port: _post(port, deep, "application/xml"),
    )
    # NOTE: over 10 MB the huge parser runs, whose own depth limit is 2048, not 256.
    deep_huge = b"<a>" * 10_000 + b"x" * (11 * MIB) + b"</a>" * 10_000
    yield Hostile(
        "xml-deep-huge",
        f"XML: nested 10,000 deep around 11 MiB of text ({len(deep_huge) / MIB:.0f} MiB)",
        lambda port: _post(port, deep_huge, "application/xml"),
    )
    form = _filled(b"x", b"EnrichId=NO-800099668&ContactEntity.Name=", b"")
    yield Hostile(
        "form-value",
        f"form: one value of {len(form) / MIB:.0f} MiB (`ContactEntity.Name`)",
        lambda port: _post(port, form, "application/x-www-form-urlencoded"),
    )
    escaped = _filled(b"%C3%A9", b"EnrichId=NO-800099668&ContactEntity.Name=", b"")
    yield Hostile(
        "form-value-escaped",
        f"form: one value of {len(escaped) / MIB:.0f} MiB, all percent-escapes (`%C3%A9`)",
        lambda port: _post(port, escaped, "application/x-www-form-urlencoded"),
    )
    string = _filled(b"x", b'{"ContactEntity":{"Name":"', b'"},"EnrichId":"NO-800099668"}')
    yield Hostile(
        "json-string",
        f"JSON: one string of {len(string) / MIB:.0f} MiB (`ContactEntity.Name`)",
        lambda port: _post(port, string, "application/json"),
    )
    string_escaped = _filled(
        b"\\u00e9", b'{"ContactEntity":{"Name":"', b'"},"EnrichId":"NO-800099668"}'
    )
    yield Hostile(
        "json-string-escaped",
        f"JSON: one string of {len(string_escaped) / MIB:.0f} MiB, all escapes (`\\u00e9`)",
        lambda port: _post(port, string_escaped, "application/json"),
    )
    unknown = _filled(b"x", b'{"Unknown":"', b'","EnrichId":"NO-800099668"}')
    yield Hostile(
        "json-string-unknown",
        f"JSON: one string of {len(unknown) / MIB:.0f} MiB in an unknown field",
        lambda port: _post(port, unknown, "application/json"),
    )
    bomb = _gzip_bomb(GZIP_BOMB)
    yield Hostile(
        "gzip-bomb",
        f"gzip: {len(bomb) // 1024} KB on the wire inflating to {GZIP_BOMB // MIB} MiB of JSON",
        lambda port: _post(port, bomb, "application/json", {"Content-Encoding": "gzip"}),
    )


# -- the server -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(folder: Path) -> Path:
    from negotiate.auth import hash_password, token_digest

    path = folder / "hostile.toml"
    path.write_text(
        "[auth]\n"
        f'users = {{ {USER} = "{hash_password(PASSWORD)}" }}\n'
        f'tokens = {{ bench = "{token_digest(TOKEN)}" }}\n'
    )
    return path


def _start(port: int, config: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "negotiate.server", "--port", str(port), "--config", str(config)]
        + ["--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server did not start: {server.stderr.read().decode()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start within 30 s")


def _reset_peak(pid: int) -> bool:
    """Reset the server's ``VmHWM`` to its current RSS; whether the kernel allowed it."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _memory(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _measure(row: Hostile, port: int, pid: int) -> Result:
    outcome: dict[str, tuple[int, int] | float] = {}
    done = threading.Event()

    def hostile() -> None:
        start = time.perf_counter()
        try:
            outcome["answer"] = row.send(port)
        finally:
            outcome["seconds"] = time.perf_counter() - start
            done.set()

    thread = threading.Thread(target=hostile)
    thread.start()
    # NOTE: good requests go back to back for as long as the hostile one is in flight
    # (the first one 20 ms after it started: its body is on the wire by then); the row
    # reports the slowest of them, which is what a client of the server would notice.
    latencies: list[float] = []
    statuses: set[int] = set()
    time.sleep(0.02)
    while not done.is_set():
        start = time.perf_counter()
        status, _ = _post(port, GOOD_BODY, "application/json")
        latencies.append(time.perf_counter() - start)
        statuses.add(status)
    thread.join()
    status, size = outcome["answer"]  # type: ignore[misc]
    rss, peak = _memory(pid)
    notes = [] if latencies else ["answered within 20 ms"]
    shown = {-1: "connection error", -2: "mixed", -3: "open after 30 s", 0: "closed"}.get(
        status, str(status)
    )
    return Result(
        row.name,
        row.what,
        shown,
        float(outcome["seconds"]),  # type: ignore[arg-type]
        max(latencies) if latencies else None,
        (statuses.pop() if len(statuses) == 1 else -2) if statuses else None,
        size,
        rss,
        peak,
        notes,
        len(latencies),
    )


def _table(results: list[Result], baseline: tuple[float, float], per_row: bool) -> str:
    lines = [
        f"Server memory at start: {baseline[0]:.0f} MB resident.",
        "",
        "| input | answer | its time | slowest good request meanwhile (n) | answer bytes "
        f"| RSS after | {'peak in the row' if per_row else 'peak so far'} |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        good = (
            "—"
            if r.good_latency is None
            else f"{r.good_latency * 1000:.0f} ms ({r.good_count})"
            + ("" if r.good_status == 200 else f" status {r.good_status}")
        )
        lines.append(
            f"| {r.what} | {r.status} | {r.seconds:.2f} s | {good} | {r.answer_bytes:,} "
            f"| {r.rss_mb:.0f} MB | {r.peak_mb:.0f} MB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the rows and print (and optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated row names")
    parser.add_argument("--list", action="store_true", help="list the row names")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    rows = list(_rows())
    if args.list:
        for row in rows:
            print(f"{row.name:20} {row.what}")
        return 0
    if args.only:
        wanted = set(args.only.split(","))
        rows = [row for row in rows if row.name in wanted]
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        server = _start(port, _config(Path(folder)))
        try:
            status, _ = _post(port, GOOD_BODY, "application/json")
            if status != 200:
                raise SystemExit(f"the good request answers {status}, not 200")
            baseline = _memory(server.pid)
            results = []
            per_row = True
            for row in rows:
                per_row = _reset_peak(server.pid) and per_row
                result = _measure(row, port, server.pid)
                print(f"{row.name}: {result.status} in {result.seconds:.2f} s", file=sys.stderr)
                results.append(result)
        finally:
            server.terminate()
            server.wait(10)
    import negotiate

    head = (
        f"negotiate from {Path(negotiate.__file__).parent}; Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores; "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n"
    )
    text = head + "\n" + _table(results, baseline, per_row) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
