"""The server under hostile clients: the worker pool, read deadlines, size and concurrency limits.

Every test talks to a real uvicorn on 127.0.0.1 (in a thread, built with
:func:`negotiate.server.uvicorn_config`, or ``negotiate serve`` as a
subprocess) over plain sockets. Deadlines are configured short (half a
second) and waited for with generous bounds; no test asserts how fast
anything is, only what is answered and in which order.
"""

from __future__ import annotations

import http.client
import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import TOKEN, bearer, free_socket

from negotiate.asgi import ASGIAdapter
from negotiate.auth import ANONYMOUS, hash_password, token_digest
from negotiate.codecs import CodecRegistry, JsonCodec
from negotiate.http import App, Context, Operation
from negotiate.server import (
    ENRICH_PATH,
    PREVIEW_PATH,
    ServerConfig,
    asgi_app,
    create_app,
    launch,
    main,
    serve,
    uvicorn_config,
)

PARSERS = ["httptools", "h11"]
WAIT = 30.0  # the most any test waits for anything


class Serving:
    """uvicorn with negotiate's connection limits, in a thread on a free loopback port."""

    def __init__(self, asgi: Any, config: ServerConfig, http: str = "httptools") -> None:
        import uvicorn

        self.socket = free_socket()
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn_config(asgi, config, http=http, log_level="warning", access_log=False)
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> Serving:
        self.thread.start()
        deadline = time.monotonic() + WAIT
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=WAIT)
        self.socket.close()

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)
        return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (``WAIT`` at most)."""
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length, without waiting for the connection to close."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return head + b"\r\n\r\n" + body


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


SHORT = ServerConfig(
    tokens={"ci": token_digest(TOKEN)},
    header_timeout=0.5,
    body_timeout=0.5,
    keep_alive_timeout=3,
    max_header_size=16 * 1024,
)


@pytest.fixture(scope="module")
def reference() -> ASGIAdapter:
    return asgi_app(SHORT)


@pytest.fixture(params=PARSERS)
def limited(request: pytest.FixtureRequest, reference: ASGIAdapter) -> Iterator[Serving]:
    """The reference application with short deadlines, under each of uvicorn's parsers."""
    with Serving(reference, SHORT, http=request.param) as serving:
        yield serving


def request_bytes(
    path: str = PREVIEW_PATH, body: bytes = b'{"EnrichId": "NO-1"}', **headers: str
) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# -- the worker pool -----------------------------------------------------------------------


class Gate:
    """What the slow operation waits for, and what it tells the test."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.threads: dict[str, str] = {}


class SpinCodec(JsonCodec):
    """JSON that spins in Python, holding the GIL between switches, until released:
    a CPU-bound decode."""

    media_types = ("application/x-spin+json",)
    offered = False
    gate: Gate

    def _decode(self, body: bytes, schema: Any, media_type: Any, base: Any) -> Any:
        self.gate.threads["decode"] = threading.current_thread().name
        self.gate.started.set()
        deadline = time.monotonic() + WAIT
        spins = 0
        while not self.gate.release.is_set() and time.monotonic() < deadline:
            spins += sum(range(1000))  # pure Python: the loop gets the GIL only by switching
        return super()._decode(body, schema, media_type, base)


def gated_app(gate: Gate) -> App:
    def echo(value: Any, ctx: Context) -> Any:
        gate.threads[value["name"]] = threading.current_thread().name
        if value.get("wait"):
            gate.started.set()
            assert gate.release.wait(WAIT)
        return {"name": value["name"], "size": len(value.get("pad", ""))}

    spin = SpinCodec()
    spin.gate = gate
    return App(
        [Operation("/echo", echo, None, None)],
        authenticator=ANONYMOUS,
        registry=CodecRegistry([JsonCodec(), spin]),
    )


def post_json(port: int, value: Any, content_type: str = "application/json") -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request("POST", "/echo", orjson.dumps(value), {"Content-Type": content_type})
        response = conn.getresponse()
        return response.status, orjson.loads(response.read())
    finally:
        conn.close()


@pytest.mark.parametrize("slow", ["handler", "decode"])
def test_a_small_request_is_answered_while_a_big_one_is_in_the_pool(slow: str) -> None:
    gate = Gate()
    big: dict[str, Any] = {"name": "big", "pad": "x" * 200_000}  # over 64 KiB: the pool
    content_type = "application/json"
    if slow == "handler":
        big["wait"] = True
    else:
        content_type = "application/x-spin+json"
    with (
        Serving(ASGIAdapter(gated_app(gate)), ServerConfig()) as serving,
        ThreadPoolExecutor(1) as client,
    ):
        try:
            pending: Future[tuple[int, Any]] = client.submit(
                post_json, serving.port, big, content_type
            )
            assert gate.started.wait(WAIT), "the big request never started"
            # the big one is being decoded (spinning) or handled (waiting) in the pool;
            # were it on the event loop, this would not be answered until it ends
            assert post_json(serving.port, {"name": "small"}) == (200, {"name": "small", "size": 0})
            assert not pending.done()
        finally:
            gate.release.set()
        assert pending.result(WAIT) == (200, {"name": "big", "size": 200_000})
    assert gate.threads["big"].startswith("negotiate-asgi")
    assert not gate.threads["small"].startswith("negotiate-asgi")  # small bodies stay inline
    if slow == "decode":
        assert gate.threads["decode"].startswith("negotiate-asgi")


def test_the_threshold_is_a_parameter() -> None:
    gate = Gate()
    with Serving(ASGIAdapter(gated_app(gate), offload_above=0), ServerConfig()) as serving:
        assert post_json(serving.port, {"name": "tiny"})[0] == 200
    assert gate.threads["tiny"].startswith("negotiate-asgi")
    with pytest.raises(ValueError, match="offload_above"):
        ASGIAdapter(gated_app(gate), offload_above=-1)


# -- read deadlines ------------------------------------------------------------------------


def test_unfinished_headers_are_answered_408_and_closed(limited: Serving) -> None:
    with limited.connect() as sock:
        sock.sendall(f"POST {ENRICH_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n".encode())
        answer = read_all(sock)  # returns once the server closes the connection
    assert status_of(answer) == 408
    assert answer.endswith(b"The request headers did not arrive in time")


def test_a_connection_that_sends_nothing_is_closed(limited: Serving) -> None:
    with limited.connect() as sock:
        assert read_all(sock) == b""


def test_an_unfinished_body_is_answered_408_and_closed(limited: Serving) -> None:
    with limited.connect() as sock:
        whole = request_bytes(body=b'{"EnrichId": "NO-1"}' + b" " * 100, **bearer())
        sock.sendall(whole[:-50])
        answer = read_all(sock)
    assert status_of(answer) == 408
    assert answer.endswith(b"The request body did not arrive in time")


def test_a_body_trickling_after_an_early_answer_is_cut_off(limited: Serving) -> None:
    with limited.connect() as sock:
        whole = request_bytes(body=b"x" * 1000)  # no credentials: refused before the body
        sock.sendall(whole[:-900])
        first = read_response(sock)
        assert status_of(first) == 401
        assert read_all(sock) == b""  # closed once the body deadline passed


def test_deadlines_do_not_touch_a_kept_alive_connection(limited: Serving) -> None:
    with limited.connect() as sock:
        for _ in range(3):
            sock.sendall(request_bytes(**bearer()))
            assert status_of(read_response(sock)) == 404  # NO-1 is unknown
            time.sleep(0.8)  # longer than the header deadline, within the keep-alive
        # a request that arrives in pieces, each within the deadline of the whole
        whole = request_bytes(**bearer())
        for piece in (whole[:20], whole[20:60], whole[60:]):
            sock.sendall(piece)
            time.sleep(0.05)
        assert status_of(read_response(sock)) == 404


def test_an_idle_connection_is_closed_after_the_keep_alive(reference: ASGIAdapter) -> None:
    config = ServerConfig(tokens={"ci": TOKEN}, keep_alive_timeout=0.5, header_timeout=60)
    with Serving(reference, config) as serving, serving.connect() as sock:
        sock.sendall(request_bytes(**bearer()))
        assert status_of(read_response(sock)) == 404
        assert read_all(sock) == b""


# -- header size and concurrency -----------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["one-send", "1-KiB-sends"])
def test_oversized_headers_are_431(limited: Serving, chunked: bool) -> None:
    data = request_bytes(X_Big="y" * 20_000, **bearer())
    with limited.connect() as sock:
        if chunked:
            for start in range(0, len(data), 1024):
                try:
                    sock.sendall(data[start : start + 1024])
                except OSError:
                    break  # refused and closed while we were still sending
        else:
            sock.sendall(data)
        answer = read_all(sock)
    assert status_of(answer) == 431


def test_headers_within_the_limit_with_a_big_body_in_the_same_send(limited: Serving) -> None:
    # the head is 15 KiB, the bytes before its end fit; the body behind them do not count
    body = orjson.dumps({"EnrichId": "NO-1", "Pad": "z" * 300_000})
    data = request_bytes(body=body, X_Big="y" * 15_000, **bearer())
    with limited.connect() as sock:
        sock.sendall(data)
        assert status_of(read_response(sock)) == 404


def test_the_concurrency_limit_answers_503(reference: ASGIAdapter) -> None:
    config = ServerConfig(tokens={"ci": TOKEN}, limit_concurrency=2, header_timeout=60)
    with Serving(reference, config) as serving:
        idle = [serving.connect() for _ in range(2)]
        try:
            time.sleep(0.2)  # the server has accepted them
            with serving.connect() as sock:
                sock.sendall(request_bytes(**bearer()))
                assert status_of(read_response(sock)) == 503
        finally:
            for sock in idle:
                sock.close()
        deadline = time.monotonic() + WAIT
        while True:  # once the server has seen them go, requests are served again
            with serving.connect() as sock:
                sock.sendall(request_bytes(**bearer()))
                status = status_of(read_response(sock))
            if status != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == 404


# -- configuration -------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "negotiate.toml"
    path.write_text(text, encoding="utf-8")
    return path


class TestConfiguration:
    def test_the_server_table(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            "[server]\nkeep_alive_timeout = 2\nheader_timeout = 1.5\nbody_timeout = 30\n"
            "limit_concurrency = 64\nmax_header_size = 8192\n",
        )
        config = ServerConfig.from_toml(path)
        assert (config.keep_alive_timeout, config.header_timeout, config.body_timeout) == (
            2,
            1.5,
            30,
        )
        assert (config.limit_concurrency, config.max_header_size) == (64, 8192)
        built = uvicorn_config("negotiate.server:app_factory", config)
        assert (built.timeout_keep_alive, built.limit_concurrency) == (2, 64)
        assert built.h11_max_incomplete_event_size == 8192
        assert built.http.args[0] == launch._ConnectionLimits(1.5, 30, 8192, "auto")

    def test_defaults(self) -> None:
        config = ServerConfig()
        assert (config.keep_alive_timeout, config.header_timeout, config.body_timeout) == (
            5.0,
            10.0,
            60.0,
        )
        assert (config.limit_concurrency, config.max_header_size) == (128, 16384)

    @pytest.mark.parametrize(
        "line",
        [
            "header_timeout = 0",
            "body_timeout = -1",
            "limit_concurrency = 1.5",
            "max_header_size = true",
            "keep_alive_timeout = 'long'",
        ],
    )
    def test_bad_values(self, tmp_path: Path, line: str) -> None:
        with pytest.raises(ValueError, match="must be a positive number"):
            ServerConfig.from_toml(write(tmp_path, f"[server]\n{line}\n"))

    def test_flags_override_the_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        seen: list[Any] = []
        monkeypatch.setattr(
            launch, "_launch", lambda uvicorn, config, sock: seen.append(config) or 0
        )
        monkeypatch.setattr(sys, "stdout", io.StringIO())
        path = write(
            tmp_path,
            f'[auth]\ntokens = {{ ci = "{token_digest(TOKEN)}" }}\n'
            "[server]\nheader_timeout = 7\nlimit_concurrency = 9\n",
        )
        argv = ["--port", "0", "--config", str(path), "--header-timeout", "0.25"]
        argv += ["--body-timeout", "3", "--keep-alive-timeout", "4", "--max-header-size", "4096"]
        assert main(argv) == 0
        (config,) = seen
        assert config.http.args[0] == launch._ConnectionLimits(0.25, 3.0, 4096, "auto")
        assert (config.timeout_keep_alive, config.limit_concurrency) == (4.0, 9)
        assert main(["--port", "0", "--config", str(path), "--header-timeout", "0"]) == 2

    def test_unknown_parser(self) -> None:
        with pytest.raises(ValueError, match="http must be"):
            uvicorn_config("x:y", http="zttp")


class TestMalformedSecrets:
    @pytest.mark.parametrize(
        ("table", "message"),
        [
            (
                'tokens = { ci = "sha256:abc" }',
                r"\[auth\] tokens.ci: not a sha256 digest \(expected 'sha256:' and 64 hex "
                r"digits, got 'sha256:' and 3 characters",
            ),
            (
                f'tokens = {{ ci = "sha256:{"g" * 64}" }}',
                r"\[auth\] tokens.ci: not a sha256 digest",
            ),
            (
                'users = { tje0 = "scrypt$16384$8$1$nope" }',
                r"\[auth\] users.tje0: not a password hash from negotiate.auth.hash_password",
            ),
        ],
        ids=["short-digest", "not-hex", "bad-hash"],
    )
    def test_named_at_load(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        table: str,
        message: str,
    ) -> None:
        path = write(tmp_path, f"[auth]\n{table}\n")
        with pytest.raises(ValueError, match=message):
            ServerConfig.from_toml(path)
        assert serve(port=0, config=path, out=io.StringIO()) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"negotiate serve: {path}: [auth] ")

    def test_the_digest_itself_is_not_echoed(self, tmp_path: Path) -> None:
        secret = "sha256:" + "s3cr3t" * 5
        with pytest.raises(ValueError) as caught:
            ServerConfig.from_toml(write(tmp_path, f'[auth]\ntokens = {{ ci = "{secret}" }}\n'))
        assert "s3cr3t" not in str(caught.value)

    def test_a_good_configuration_still_loads(self, tmp_path: Path) -> None:
        text = (
            f'[auth]\nusers = {{ tje0 = "{hash_password("pw", salt=b"q" * 16)}" }}\n'
            f'tokens = {{ ci = "{token_digest(TOKEN)}", clear = "a-clear-token" }}\n'
        )
        assert ServerConfig.from_toml(write(tmp_path, text)).has_auth


# -- negotiate serve, as a user runs it ------------------------------------------------------


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGOTIATE_")}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).parent.parent), env.get("PYTHONPATH")])
    )
    return env


def test_a_port_in_use_is_one_line_and_no_token() -> None:
    taken = free_socket()
    taken.listen()
    port = taken.getsockname()[1]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "negotiate.server", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env=clean_env(),
        )
    finally:
        taken.close()
    assert done.returncode == 3
    assert done.stdout == ""  # no banner, so no token
    assert (
        done.stderr
        == f"negotiate serve: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def test_serve_applies_the_limits() -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "negotiate.server", "--port", str(port), "--log-level", "warning"]
        + ["--header-timeout", "0.5", "--max-header-size", "4096"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("negotiate: serving")  # printed once the port is bound
        deadline = time.monotonic() + WAIT
        while True:
            try:
                probe = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with probe:
            probe.sendall(request_bytes())
            assert status_of(read_response(probe)) == 401
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as slow:
            slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
            assert status_of(read_all(slow)) == 408
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as big:
            big.sendall(request_bytes(X_Big="y" * 5000))
            assert status_of(read_all(big)) == 431
    finally:
        process.terminate()
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize(
    "body",
    [
        b"<a:>" + b"<b/>" * 1_100_000 + b"</a:>",  # a root with no local name
        b"<R>" + b"<p:N/>" * 1_100_000 + b"</R>",  # an undeclared prefix past the count
    ],
    ids=["root without a local name", "undeclared prefix"],
)
def test_hostile_xml_past_the_node_count_is_a_400(body: bytes) -> None:
    """Bodies of 4-7 MB (within max_body) that reach the node count: both were a 500."""
    app = create_app(ServerConfig(tokens={"ci": TOKEN}))
    headers = {"Content-Type": "application/xml", "Accept": "application/json", **bearer()}
    response = app.handle("POST", ENRICH_PATH, "", headers, body)
    assert response.status == 400, response.body
    assert b"Over the limit of 1000000 nodes" in response.body
