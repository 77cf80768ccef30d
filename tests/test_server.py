"""The reference server: its operations through the core, configuration, and `serve` end to end.

The core's own tests (test_http, test_asgi, test_wsgi) run against the house
application; what the reference server's operations do through the core
(enrichment under ``$select``, its errors in every codec, its patch bases, its
ASGI and WSGI applications) is tested here.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import orjson
import pytest
from helpers import (
    CONTACT,
    PATCH_REQUEST_TYPES,
    PATCH_RESPONSE_TYPES,
    RESPONSE_TYPES,
    TOKEN,
    bearer,
    decode_response,
    error_of,
    free_socket,
    is_patch,
    selected_over_asgi,
)

from negotiate.auth import ANONYMOUS, hash_password, token_digest
from negotiate.http import App
from negotiate.server import (
    CONFIG_ENV,
    ENRICH_PATH,
    PREVIEW_PATH,
    ServerConfig,
    app_factory,
    asgi_app,
    create_app,
    launch as server_launch,
    load_config,
    serve,
    wsgi_app,
)

JSON = {"Content-Type": "application/json"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "negotiate.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the operations ------------------------------------------------------------------------


class TestOperations:
    @pytest.mark.parametrize("enrich_id", [None, "", "   "], ids=["null", "empty", "blank"])
    def test_a_missing_enrich_id_is_400(self, app: App, enrich_id: str | None) -> None:
        for path in (ENRICH_PATH, PREVIEW_PATH):
            body = orjson.dumps({"EnrichId": enrich_id})
            response = app.handle("POST", path, b"", {**JSON, **bearer()}, body)
            assert response.status == 400
            error = orjson.loads(response.body)
            assert error["MessageDetail"] == "EnrichId is required - at /EnrichId"

    def test_an_unknown_enrich_id_is_404(self, app: App) -> None:
        body = orjson.dumps({"EnrichId": "SE-0000000000"})
        response = app.handle("POST", ENRICH_PATH, b"", {**JSON, **bearer()}, body)
        assert response.status == 404
        assert orjson.loads(response.body)["MessageDetail"] == (
            "Unknown EnrichId 'SE-0000000000': the enrichment provider has no such company"
            " - at /EnrichId"
        )

    def test_the_documented_sample_request(self, app: App, enrich_id: str) -> None:
        # SuperOffice's sample: {"ContactEntity": null, "EnrichId": "qui"}, Accept with a charset
        body = orjson.dumps({"ContactEntity": None, "EnrichId": enrich_id})
        headers = {
            **bearer(),
            "Accept": "application/json; charset=utf-8",
            "Accept-Language": "*",
            "Content-Type": "application/json; charset=utf-8",
        }
        response = app.handle("POST", ENRICH_PATH, b"", headers, body)
        assert response.status == 200
        result = orjson.loads(response.body)
        assert result["ContactId"] == 0 and result["Address"]["Street"]["Address1"]

    def test_preview(self, app: App, enrich_id: str, provider: Any) -> None:
        body = orjson.dumps({"EnrichId": enrich_id})
        response = app.handle("POST", PREVIEW_PATH, b"$select=Name", {**JSON, **bearer()}, body)
        assert response.status == 200
        result = orjson.loads(response.body)
        assert result["Name"] == provider.lookup(enrich_id).name
        assert result["Address"] is None and result["CountryId"] == 0  # not selected

    def test_the_operations(self, app: App) -> None:
        assert app.handles(ENRICH_PATH.lower())
        paths = [op.path for op in app.operations]
        assert paths == [ENRICH_PATH, PREVIEW_PATH, "/api/v1/openapi.json"]
        assert app.blocking is False  # the embedded provider: a local lookup, no thread needed


# -- the operations through the core --------------------------------------------------------


def enrich(app: App, body: Any, query: bytes = b"", **headers: str) -> Any:
    """POST a body (given as data, JSON-encoded) to EnrichContactEntity; ``Content_Type=``."""
    sent = {**JSON, **bearer(), **{k.replace("_", "-"): v for k, v in headers.items()}}
    return app.handle("POST", ENRICH_PATH, query, sent, orjson.dumps(body))


class TestThroughTheCore:
    def test_select_keeps_what_enrichment_added(
        self, app: App, sample: dict[str, Any], enrich_id: str
    ) -> None:
        body = {"ContactEntity": sample, "EnrichId": enrich_id}
        response = enrich(app, body, b"$select=Name,Phones,Address/Formatted")
        assert response.status == 200, response.body
        result = orjson.loads(response.body)
        assert result["Name"] == sample["Name"]
        assert len(result["Phones"]) > len(sample["Phones"])  # the company's phones added
        assert result["Address"]["Formatted"] and result["Address"]["Street"] is None
        assert result["ContactId"] == 0  # not selected

    @pytest.mark.parametrize("accept", RESPONSE_TYPES)
    def test_an_unknown_enrich_id_in_every_response_type(self, app: App, accept: str) -> None:
        response = enrich(app, {"EnrichId": "NO-000000000"}, Accept=accept)
        assert response.status == 404
        content_type = response.header("content-type")
        assert content_type is not None
        assert content_type.startswith("application/json" if is_patch(accept) else accept)
        error = error_of(response)
        assert "Unknown EnrichId 'NO-000000000'" in error["MessageDetail"]
        assert error["Location"] == "/EnrichId"

    @pytest.mark.parametrize("content_type", PATCH_REQUEST_TYPES)
    def test_a_patch_request_applies_to_the_wrapper_default(
        self, app: App, enrich_id: str, content_type: str
    ) -> None:
        if content_type.startswith("application/json-patch"):
            body: Any = [
                {"op": "add", "path": "/EnrichId", "value": enrich_id},
                {"op": "add", "path": "/ContactEntity", "value": {"Name": "Nordvik"}},
            ]
        else:
            body = {"EnrichId": enrich_id, "ContactEntity": {"Name": "Nordvik"}}
        response = enrich(app, body, Content_Type=content_type)
        assert response.status == 200, response.body
        assert orjson.loads(response.body)["Name"] == "Nordvik"

    @pytest.mark.parametrize("accept", PATCH_RESPONSE_TYPES)
    def test_a_patch_response_is_the_diff_from_what_was_sent(
        self, app: App, sample: dict[str, Any], enrich_id: str, accept: str
    ) -> None:
        for contact in (None, sample):
            body = {"ContactEntity": contact, "EnrichId": enrich_id}
            expected = orjson.loads(enrich(app, body).body)
            response = enrich(app, body, Accept=accept)
            assert response.status == 200
            base = contact if contact is not None else CONTACT.default()
            assert decode_response(accept, response.body, base) == expected

    def test_the_asgi_app(
        self, config: ServerConfig, sample: dict[str, Any], enrich_id: str
    ) -> None:
        selected_over_asgi(asgi_app(config), ENRICH_PATH, sample, enrich_id)

    def test_the_wsgi_app(self, config: ServerConfig, enrich_id: str) -> None:
        body = orjson.dumps({"EnrichId": enrich_id})
        environ: dict[str, Any] = {}
        setup_testing_defaults(environ)
        environ.update(
            {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": PREVIEW_PATH,
                "CONTENT_TYPE": "application/json",
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_AUTHORIZATION": bearer()["Authorization"],
                "wsgi.input": io.BytesIO(body),
            }
        )
        statuses: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
            statuses.append(status)

        out = b"".join(wsgi_app(config)(environ, start_response))
        assert statuses == ["200 OK"] and orjson.loads(out)["Name"]


# -- configuration ---------------------------------------------------------------------------


class TestConfig:
    def test_full_toml(self, tmp_path: Path) -> None:
        digest = token_digest("t")
        path = write(
            tmp_path,
            f"""
[auth]
users = {{ tje0 = "{hash_password("pw", salt=b"x" * 16)}" }}
tokens = {{ ci = "{digest}" }}

[enrichment]
url = "http://127.0.0.1:9/companies/{{id}}"
timeout = 0.5
retries = 1
headers = {{ "X-Api-Key" = "k" }}

[limits]
max_body = 1000
max_depth = 10
max_items = 20
unknown = "error"
""",
        )
        config = ServerConfig.from_toml(path)
        assert config.tokens == {"ci": digest}
        assert config.enrichment_url == "http://127.0.0.1:9/companies/{id}"
        assert (config.enrichment_timeout, config.enrichment_retries) == (0.5, 1)
        options = config.options()
        assert (options.max_body, options.max_depth, options.max_items, options.unknown) == (
            1000,
            10,
            20,
            "error",
        )
        provider = config.provider()
        assert type(provider).__name__ == "HttpProvider"
        assert ServerConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("[nope]\nx = 1", r"unknown section \[nope\]"),
            ("[auth]\npasswords = {}", "unknown key 'passwords'"),
            ("[auth]\nusers = { a = 1 }", "users must be a table of strings"),
            ("[limits]\nmax_body = -1", "max_body must be a non-negative number"),
            ("[limits]\nmax_body = true", "max_body must be a non-negative number"),
            ("[limits]\nunknown = 'maybe'", "unknown must be 'ignore' or 'error'"),
            ("[enrichment]\nurl = 5", "enrichment_url must be a string"),
            ("[auth]\ninsecure_no_auth = 'yes'", "insecure_no_auth must be true or false"),
            ("[auth", "Expected"),
            ("auth = 1", r"unknown section \[auth\]"),
        ],
        ids=[
            "section",
            "key",
            "users",
            "negative",
            "bool-number",
            "unknown-policy",
            "url-type",
            "insecure-type",
            "toml-syntax",
            "not-a-table",
        ],
    )
    def test_bad_toml(self, tmp_path: Path, text: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            ServerConfig.from_toml(write(tmp_path, text))

    def test_from_dict_refuses_unknown_keys(self) -> None:
        with pytest.raises(ValueError, match="unknown configuration keys: nope"):
            ServerConfig.from_dict({"nope": 1})

    def test_load_config_sources(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(CONFIG_ENV, raising=False)
        assert load_config() == ServerConfig()
        path = write(tmp_path, '[auth]\ntokens = { a = "b" }')
        monkeypatch.setenv(CONFIG_ENV, str(path))
        assert load_config().tokens == {"a": "b"}
        given = ServerConfig(insecure_no_auth=True)
        assert load_config(given) is given

    def test_no_credentials_is_refused(self) -> None:
        with pytest.raises(ValueError, match="no users or tokens configured"):
            create_app(ServerConfig())

    def test_insecure_means_anonymous(self, enrich_id: str) -> None:
        app = create_app(ServerConfig(insecure_no_auth=True))
        assert app.authenticator is ANONYMOUS
        body = orjson.dumps({"EnrichId": enrich_id})
        assert app.handle("POST", PREVIEW_PATH, b"", JSON, body).status == 200

    def test_app_factory_reads_the_environment(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(
            server_launch._RESOLVED_ENV, json.dumps(ServerConfig(tokens={"x": "y"}).to_dict())
        )
        assert app_factory().app.handles(ENRICH_PATH)
        monkeypatch.delenv(server_launch._RESOLVED_ENV)
        monkeypatch.setenv(CONFIG_ENV, str(write(tmp_path, "[auth]\ninsecure_no_auth = true")))
        assert app_factory().app.authenticator is ANONYMOUS


# -- serve -------------------------------------------------------------------------------------


class TestServe:
    def test_bad_configuration_is_exit_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert serve(config=write(tmp_path, "[nope]")) == 2
        assert "unknown section" in capsys.readouterr().err
        assert serve(config=tmp_path / "missing.toml") == 2

    def test_missing_uvicorn_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "uvicorn", None)
        with pytest.raises(ImportError, match=re.escape("pip install 'negotiate[server]'")):
            serve()

    def test_banner_and_uvicorn_arguments(self, monkeypatch: pytest.MonkeyPatch) -> None:
        calls: list[Any] = []

        def launch(uvicorn: Any, config: Any, sock: Any) -> int:
            calls.append(config)
            calls.append(
                ServerConfig.from_dict(json.loads(os.environ[server_launch._RESOLVED_ENV]))
            )
            return 0

        monkeypatch.setattr(server_launch, "_launch", launch)
        out = io.StringIO()
        assert serve("0.0.0.0", 0, 3, out=out) == 0
        port = calls[0].port
        banner = out.getvalue()
        token = re.search(r"demo token \(valid until this server stops\): (\S+)", banner)
        assert token is not None
        assert f"-H 'Authorization: Bearer {token[1]}'" in banner
        assert (
            f"curl -s -X POST 'http://127.0.0.1:{port}/api/v1/Agents/Contact/EnrichContactEntity"
            in banner
        )
        assert calls[0].app == "negotiate.server:app_factory"
        assert (calls[0].host, calls[0].workers) == ("0.0.0.0", 3)
        assert calls[0].factory is True
        assert calls[1].tokens == {"demo": token_digest(token[1])}
        assert server_launch._RESOLVED_ENV not in os.environ

    def test_insecure_banner_warns(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(server_launch, "_launch", lambda *args: 0)
        out = io.StringIO()
        assert serve(port=0, insecure_no_auth=True, out=out) == 0
        assert "authentication is OFF" in out.getvalue()
        assert "Authorization" not in out.getvalue()

    def test_uvicorn_exit_status_is_returned(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import uvicorn

        class Server:
            def __init__(self, config: Any) -> None:
                pass

            def run(self, sockets: Any) -> None:
                raise SystemExit(3)

        fake = type("U", (), {"Config": uvicorn.Config, "Server": Server})
        monkeypatch.setattr(server_launch, "_uvicorn", lambda: fake)
        assert serve(port=0, config=ServerConfig(tokens={"a": TOKEN}), out=io.StringIO()) == 3


@pytest.mark.skipif(shutil.which("curl") is None, reason="the printed command needs curl")
@pytest.mark.parametrize("workers", [1, 2], ids=["one-worker", "two-workers"])
def test_the_printed_curl_command_works(workers: int) -> None:
    """`python -m negotiate.server` as a new user runs it: start, copy the curl, run it."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEGOTIATE_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "negotiate.server",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("  -d "):
                break
        banner = "".join(lines)
        command = banner[banner.index("curl ") :].replace("\\\n", " ")
        deadline = time.monotonic() + 30
        while True:
            done = subprocess.run(
                shlex.split(command) + ["-w", "\n%{http_code}"],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if done.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)  # the workers are still starting
        body, _, status = done.stdout.rpartition("\n")
        assert status == "200", done.stdout + done.stderr
        result = json.loads(body)
        assert result["Name"] and result["Address"]["Formatted"]
        assert result["Phones"] and result["Emails"]
        assert result["ContactId"] == 0  # not selected
        # without the token: 401
        anonymous = subprocess.run(
            [
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-X",
                "POST",
                f"http://127.0.0.1:{port}{ENRICH_PATH}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert anonymous.stdout == "401"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()
