"""SO-AppToken: partner application tokens on the server (over real HTTP) and in the client."""

from __future__ import annotations

import asyncio
import hmac
import io
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from helpers import PASSWORD, TICKET, TOKEN, USER, UvicornThread, basic, bearer

from negotiate.asgi import ASGIAdapter
from negotiate.auth import (
    AppTokens,
    Chain,
    CredentialAuthenticator,
    Principal,
    RequireAppToken,
    XsrfAuthenticator,
    app_tokens as app_tokens_module,
    hash_password,
    token_digest,
)
from negotiate.client import AsyncClient, Client, Ticket
from negotiate.enrich import EmbeddedProvider
from negotiate.errors import Unauthorized
from negotiate.http import App, Context, Headers, Operation
from negotiate.server import (
    ENRICH_PATH,
    ServerConfig,
    app_factory,
    create_app,
    enrich_operations,
    launch,
    serve,
)
from negotiate.superoffice import APP_TOKEN_HEADER

APP_TOKEN = "partner-app-token-5f1c0a"
OTHER_TOKEN = "other-app-token-93d2e7"
WHOAMI = "/whoami"
JSON = {"Content-Type": "application/json", "Accept": "application/json"}
MISSING = "need an SO-AppToken header"
INVALID = "Invalid SO-AppToken: not the token of a registered partner application"


def ticket(value: str = TICKET) -> dict[str, str]:
    return {"Authorization": f"SOTicket {value}"}


def app_token(value: str = APP_TOKEN) -> dict[str, str]:
    return {APP_TOKEN_HEADER: value}


# Every credential scheme, as the Authorization header and the Principal it makes.
SCHEMES = {
    "Basic": (basic(), USER),
    "Bearer": (bearer(), "ci"),
    "SOTicket": (ticket(), "ticket"),
}
# Token values that are not a registered application's token: none of them may pass,
# and all must be refused with the same message.
WRONG_TOKENS = {
    "unknown": "not-a-partner-token",
    "digest-of-valid": token_digest(APP_TOKEN),  # the stored form is not the token
    "valid-plus-one": APP_TOKEN + "x",
    "prefix-of-valid": APP_TOKEN[:-1],
    "upper-case": APP_TOKEN.upper(),
    "comma-joined": f"{APP_TOKEN}, {OTHER_TOKEN}",  # two headers, joined (RFC 9110)
    "long": "x" * 4000,
    "non-ascii": "pärtner-tøken",
}


def whoami(value: Any, ctx: Context) -> dict[str, Any]:
    principal = ctx.principal
    assert principal is not None
    return {"name": principal.name, "scheme": principal.scheme, "app": principal.app}


def config(**app_tokens: str) -> ServerConfig:
    return ServerConfig(
        users={USER: hash_password(PASSWORD, salt=b"a" * 16)},
        tokens={"ci": token_digest(TOKEN), "ticket": TICKET},
        app_tokens=app_tokens,
    )


def make_app(cfg: ServerConfig, provider: EmbeddedProvider) -> App:
    """The reference operations plus one that answers who the server thinks is calling."""
    return App(
        [*enrich_operations(provider), Operation(WHOAMI, whoami, None, None)],
        authenticator=cfg.authenticator(),
    )


@pytest.fixture(scope="module")
def configured(provider: EmbeddedProvider) -> App:
    # one application by digest (recommended), one in clear
    return make_app(config(acme=token_digest(APP_TOKEN), globex=OTHER_TOKEN), provider)


@pytest.fixture(scope="module")
def unconfigured(provider: EmbeddedProvider) -> App:
    return make_app(config(), provider)


@pytest.fixture(scope="module")
def with_apps(configured: App) -> Iterator[UvicornThread]:
    with UvicornThread(ASGIAdapter(configured)) as running:
        yield running


@pytest.fixture(scope="module")
def without_apps(unconfigured: App) -> Iterator[UvicornThread]:
    with UvicornThread(ASGIAdapter(unconfigured)) as running:
        yield running


def post(server_: UvicornThread, headers: Mapping[str, Any], path: str = WHOAMI) -> httpx.Response:
    return httpx.post(server_.url + path, headers={**JSON, **headers}, content=b"", timeout=10)


def refused(response: httpx.Response) -> str:
    """The message of a 401, after checking it is one with the challenge."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    message: str = response.json()["MessageDetail"]
    return message


# -- over real HTTP: a server with application tokens ----------------------------------------


class TestConfigured:
    @pytest.mark.parametrize("scheme", ["Bearer", "SOTicket"])
    def test_token_credentials_without_the_header_are_401(
        self, with_apps: UvicornThread, scheme: str
    ) -> None:
        message = refused(post(with_apps, SCHEMES[scheme][0]))
        assert MISSING in message and scheme in message

    @pytest.mark.parametrize("scheme", ["Bearer", "SOTicket"])
    @pytest.mark.parametrize("empty", [""], ids=["empty"])
    def test_an_empty_header_is_a_missing_one(
        self, with_apps: UvicornThread, scheme: str, empty: str
    ) -> None:
        assert MISSING in refused(post(with_apps, {**SCHEMES[scheme][0], **app_token(empty)}))

    @pytest.mark.parametrize("scheme", list(SCHEMES))
    @pytest.mark.parametrize("wrong", list(WRONG_TOKENS.values()), ids=list(WRONG_TOKENS))
    def test_a_wrong_token_is_401_with_one_message(
        self, with_apps: UvicornThread, scheme: str, wrong: str
    ) -> None:
        # bytes: httpx sends them as they are (a str header value must be ASCII)
        headers = {**SCHEMES[scheme][0], APP_TOKEN_HEADER: wrong.encode()}
        message = refused(post(with_apps, headers))
        assert message == INVALID
        for secret in ("acme", "globex", APP_TOKEN, OTHER_TOKEN, wrong):
            assert secret not in message

    @pytest.mark.parametrize("scheme", list(SCHEMES))
    @pytest.mark.parametrize(
        ("token", "app"), [(APP_TOKEN, "acme"), (OTHER_TOKEN, "globex")], ids=["digest", "clear"]
    )
    def test_a_valid_token_names_the_application(
        self, with_apps: UvicornThread, scheme: str, token: str, app: str
    ) -> None:
        headers, name = SCHEMES[scheme]
        response = post(with_apps, {**headers, **app_token(token)})
        assert response.status_code == 200, response.text
        assert response.json() == {"name": name, "scheme": scheme, "app": app}

    def test_basic_needs_no_application_token(self, with_apps: UvicornThread) -> None:
        response = post(with_apps, basic())
        assert response.status_code == 200, response.text
        assert response.json() == {"name": USER, "scheme": "Basic", "app": None}

    def test_the_real_operation_with_and_without(
        self, with_apps: UvicornThread, enrich_id: str
    ) -> None:
        body = orjson.dumps({"ContactEntity": {"Name": "Nordvik"}, "EnrichId": enrich_id})
        url = with_apps.url + ENRICH_PATH
        ok = httpx.post(url, headers={**JSON, **bearer(), **app_token()}, content=body)
        assert ok.status_code == 200 and ok.json()["Name"] == "Nordvik"
        assert MISSING in refused(httpx.post(url, headers={**JSON, **bearer()}, content=body))

    def test_remembered_credentials_still_need_the_header(self, with_apps: UvicornThread) -> None:
        # The Authorization value is remembered after its first success; the application
        # token is checked on every request regardless.
        assert post(with_apps, {**bearer(), **app_token()}).status_code == 200
        assert MISSING in refused(post(with_apps, bearer()))
        assert refused(post(with_apps, {**bearer(), **app_token("nope")})) == INVALID
        assert post(with_apps, {**bearer(), **app_token(OTHER_TOKEN)}).json()["app"] == "globex"

    def test_credentials_are_checked_first(self, with_apps: UvicornThread) -> None:
        # a valid application token does not stand in for credentials, nor rescue wrong ones
        assert refused(post(with_apps, app_token())) == "Authentication required"
        message = refused(post(with_apps, {**bearer("wrong"), **app_token()}))
        assert message == "Invalid Bearer credentials"
        message = refused(post(with_apps, {**bearer("wrong"), **app_token("wrong")}))
        assert message == "Invalid Bearer credentials"

    def test_the_header_name_is_case_insensitive(self, with_apps: UvicornThread) -> None:
        response = post(with_apps, {**bearer(), "so-apptoken": APP_TOKEN})
        assert response.json()["app"] == "acme"


# -- over real HTTP: a server without them ---------------------------------------------------


class TestUnconfigured:
    @pytest.mark.parametrize("scheme", list(SCHEMES))
    @pytest.mark.parametrize("sent", [None, APP_TOKEN, "anything"], ids=["none", "a-token", "junk"])
    def test_the_header_is_accepted_and_ignored(
        self, without_apps: UvicornThread, scheme: str, sent: str | None
    ) -> None:
        headers, name = SCHEMES[scheme]
        extra = app_token(sent) if sent is not None else {}
        response = post(without_apps, {**headers, **extra})
        assert response.status_code == 200, response.text
        assert response.json() == {"name": name, "scheme": scheme, "app": None}

    def test_the_reference_server_ignores_it(
        self, asgi_server: UvicornThread, enrich_id: str
    ) -> None:
        body = orjson.dumps({"EnrichId": enrich_id})
        response = httpx.post(
            asgi_server.url + ENRICH_PATH,
            headers={**JSON, **bearer(), **app_token("whatever")},
            content=body,
        )
        assert response.status_code == 200, response.text

    def test_the_authenticator_is_not_wrapped(self) -> None:
        assert isinstance(config().authenticator(), CredentialAuthenticator)
        assert isinstance(config(acme=APP_TOKEN).authenticator(), RequireAppToken)


# -- the App directly ------------------------------------------------------------------------


def call(app: App, headers: Mapping[str, str]) -> tuple[int, Any]:
    response = app.handle("POST", WHOAMI, b"", {**JSON, **headers}, b"")
    return response.status, orjson.loads(response.body)


class TestApp:
    @pytest.mark.parametrize("scheme", list(SCHEMES))
    def test_each_scheme(self, configured: App, scheme: str) -> None:
        headers, name = SCHEMES[scheme]
        assert call(configured, {**headers, **app_token()}) == (
            200,
            {"name": name, "scheme": scheme, "app": "acme"},
        )
        status, body = call(configured, {**headers, **app_token("no")})
        assert (status, body["MessageDetail"]) == (401, INVALID)
        status, body = call(configured, headers)
        assert status == (200 if scheme == "Basic" else 401)

    def test_a_web_session_is_like_basic(self) -> None:
        sessions = {"s1": Principal("web-user", "Session")}
        authenticator = RequireAppToken(
            Chain(
                CredentialAuthenticator(tokens={"ci": TOKEN}),
                XsrfAuthenticator(lambda cookies: sessions.get(cookies.get("sid", ""))),
            ),
            {"acme": token_digest(APP_TOKEN)},
        )
        app = App([Operation(WHOAMI, whoami, None, None)], authenticator=authenticator)
        session = {"Cookie": "sid=s1; XSRF-TOKEN=x1", "X-XSRF-TOKEN": "x1"}
        assert call(app, session) == (200, {"name": "web-user", "scheme": "Session", "app": None})
        assert call(app, {**session, **app_token()})[1]["app"] == "acme"
        assert call(app, {**session, **app_token("no")})[0] == 401
        assert call(app, {**bearer(), **app_token()})[1]["app"] == "acme"
        assert MISSING in call(app, bearer())[1]["MessageDetail"]

    def test_required_schemes_are_configurable(self) -> None:
        inner = CredentialAuthenticator(
            users={USER: hash_password(PASSWORD, salt=b"b" * 16)}, tokens={"ci": TOKEN}
        )
        authenticator = RequireAppToken(inner, {"acme": APP_TOKEN}, required=["Basic"])
        with pytest.raises(Unauthorized, match="Basic credentials need an SO-AppToken header"):
            authenticator.authenticate(Headers(basic()))
        assert authenticator.authenticate(Headers(bearer())) == Principal("ci", "Bearer")

    def test_no_credentials_is_none(self) -> None:
        authenticator = RequireAppToken(CredentialAuthenticator(tokens=[TOKEN]), {"a": APP_TOKEN})
        assert authenticator.authenticate(Headers(app_token())) is None


# -- an embedding application's own check ----------------------------------------------------


class TestCustomCheck:
    def test_a_callable_decides(self) -> None:
        asked: list[str] = []

        def lookup(token: str) -> str | None:
            asked.append(token)
            return {"t-1": "acme"}.get(token)

        authenticator = RequireAppToken(CredentialAuthenticator(tokens={"ci": TOKEN}), lookup)
        principal = authenticator.authenticate(Headers({**bearer(), **app_token("t-1")}))
        assert principal == Principal("ci", "Bearer", "acme")
        with pytest.raises(Unauthorized, match=re.escape(INVALID)):
            authenticator.authenticate(Headers({**bearer(), **app_token("t-2")}))
        assert asked == ["t-1", "t-2"]

    def test_its_refusal_and_its_bug(self) -> None:
        def revoked(token: str) -> str | None:
            if token == "revoked":
                raise Unauthorized("This partner application has been revoked")
            raise RuntimeError("the partner registry is down")

        authenticator = RequireAppToken(CredentialAuthenticator(tokens={"ci": TOKEN}), revoked)
        app = App([Operation(WHOAMI, whoami, None, None)], authenticator=authenticator)
        status, body = call(app, {**bearer(), **app_token("revoked")})
        assert (status, body["MessageDetail"]) == (401, "This partner application has been revoked")
        status, body = call(app, {**bearer(), **app_token("globex")})
        assert status == 500 and "registry" not in body["MessageDetail"]

    def test_an_inner_principal_with_an_app_is_overridden(self) -> None:
        class Fixed:
            def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
                return Principal("svc", "Bearer", "claimed")

        authenticator = RequireAppToken(Fixed(), {"acme": APP_TOKEN})
        found = authenticator.authenticate(Headers(app_token()))
        assert found == Principal("svc", "Bearer", "acme")


class TestAppTokens:
    def test_lookup(self) -> None:
        tokens = AppTokens({"acme": token_digest(APP_TOKEN), "globex": OTHER_TOKEN})
        assert tokens(APP_TOKEN) == "acme"
        assert tokens(OTHER_TOKEN) == "globex"
        assert tokens(token_digest(APP_TOKEN)) is None
        assert tokens("") is None
        digest = token_digest(APP_TOKEN)
        assert AppTokens({"up": "sha256:" + digest[7:].upper()})(APP_TOKEN) == "up"

    def test_every_digest_is_compared(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # constant time: a match on the first digest does not stop the comparisons
        names = [f"app{i}" for i in range(5)]
        tokens = AppTokens({name: f"token-{name}" for name in names})
        calls: list[bytes] = []
        compare = hmac.compare_digest

        def counting(a: bytes, b: bytes) -> bool:
            calls.append(b)
            return compare(a, b)

        monkeypatch.setattr(app_tokens_module.hmac, "compare_digest", counting)
        for name in (names[0], names[-1], None):
            calls.clear()
            assert tokens(f"token-{name}" if name else "nobody") == name
            assert len(calls) == len(names)
        # a token that matched is remembered; one that did not is checked afresh
        calls.clear()
        assert tokens(f"token-{names[0]}") == names[0]
        assert calls == []
        assert tokens("nobody") is None
        assert len(calls) == len(names)

    @pytest.mark.parametrize(
        ("tokens", "message"),
        [
            ({"p": "sha256:abc"}, "application 'p': expected sha256: and 64 hex digits"),
            ({"p": "sha256:" + "zz" * 32}, "application 'p': expected sha256: and 64 hex"),
            ({"p": "sha256:" + "ab " * 21 + "a"}, "application 'p': expected sha256: and 64 hex"),
            ({"p": "sha256:" + "ab" * 33}, "application 'p': expected sha256: and 64 hex"),
            ({"p": "sha256:"}, "application 'p': expected sha256: and 64 hex"),
            ({"": APP_TOKEN}, "non-empty application name"),
            ({"a": APP_TOKEN, "b": token_digest(APP_TOKEN)}, "'a' and 'b' share a token"),
        ],
        ids=["short", "not-hex", "spaced", "long", "empty-digest", "no-name", "shared"],
    )
    def test_malformed(self, tokens: dict[str, str], message: str) -> None:
        with pytest.raises(ValueError, match=re.escape(message)):
            AppTokens(tokens)
        with pytest.raises(ValueError, match=re.escape(message)):
            RequireAppToken(CredentialAuthenticator(tokens=[TOKEN]), tokens)


# -- configuration ---------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "negotiate.toml"
    path.write_text(text, encoding="utf-8")
    return path


class TestConfig:
    def test_toml(self, tmp_path: Path) -> None:
        digest = token_digest(APP_TOKEN)
        path = write(
            tmp_path,
            f'[auth]\ntokens = {{ ci = "{token_digest(TOKEN)}" }}\n'
            f'app_tokens = {{ acme = "{digest}", "other app" = "{OTHER_TOKEN}" }}\n',
        )
        cfg = ServerConfig.from_toml(path)
        assert cfg.app_tokens == {"acme": digest, "other app": OTHER_TOKEN}
        assert ServerConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
        app = create_app(cfg)
        response = app.handle("POST", ENRICH_PATH, b"", {**JSON, **bearer()}, b"{}")
        assert response.status == 401 and MISSING in orjson.loads(response.body)["MessageDetail"]
        response = app.handle(
            "POST", ENRICH_PATH, b"", {**JSON, **bearer(), **app_token(OTHER_TOKEN)}, b"{}"
        )
        assert response.status == 400  # past authentication: the EnrichId is missing

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ('app_tokens = { p = "sha256:9f86d0" }', "app_tokens: application 'p': expected"),
            (f'app_tokens = {{ p = "sha256:{"g" * 64}" }}', "application 'p': expected sha256:"),
            ("app_tokens = { p = 42 }", "app_tokens must be a table of strings"),
            ('app_tokens = "sha256:00"', "app_tokens must be a table of strings"),
            (f'app_tokens = {{ "" = "{APP_TOKEN}" }}', "non-empty application name"),
            (
                f'app_tokens = {{ a = "{APP_TOKEN}", b = "{APP_TOKEN}" }}',
                "app_tokens: applications 'a' and 'b' share a token",
            ),
            ('app_token = { p = "x" }', "unknown key 'app_token' in [auth]"),
        ],
        ids=["short-digest", "not-hex", "not-a-string", "not-a-table", "no-name", "shared", "typo"],
    )
    def test_bad_toml(self, tmp_path: Path, text: str, message: str) -> None:
        path = write(tmp_path, f'[auth]\ntokens = {{ ci = "{TOKEN}" }}\n{text}\n')
        with pytest.raises(ValueError, match=re.escape(message)) as caught:
            ServerConfig.from_toml(path)
        assert str(caught.value).startswith(f"{path}: ")

    def test_a_malformed_digest_given_directly_fails_at_create_app(self) -> None:
        with pytest.raises(ValueError, match="application 'p': expected sha256:"):
            create_app(ServerConfig(tokens={"ci": TOKEN}, app_tokens={"p": "sha256:00"}))

    def test_app_tokens_are_not_credentials(self) -> None:
        with pytest.raises(ValueError, match="no users or tokens configured"):
            create_app(ServerConfig(app_tokens={"acme": APP_TOKEN}))

    def test_insecure_no_auth_checks_nothing(self) -> None:
        app = create_app(ServerConfig(app_tokens={"acme": APP_TOKEN}, insecure_no_auth=True))
        response = app.handle("POST", ENRICH_PATH, b"", {**JSON, **app_token("junk")}, b"{}")
        assert response.status == 400  # the EnrichId, not the application token

    def test_worker_processes_get_them(self, monkeypatch: pytest.MonkeyPatch) -> None:
        cfg = ServerConfig(tokens={"ci": TOKEN}, app_tokens={"acme": token_digest(APP_TOKEN)})
        monkeypatch.setenv(launch._RESOLVED_ENV, json.dumps(cfg.to_dict()))
        authenticator = app_factory().app.authenticator
        assert authenticator.authenticate(Headers({**bearer(), **app_token()})) == Principal(
            "ci", "Bearer", "acme"
        )
        with pytest.raises(Unauthorized, match=MISSING):
            authenticator.authenticate(Headers(bearer()))

    def test_the_banner_shows_the_header(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(launch, "_launch", lambda *args: 0)
        out = io.StringIO()
        cfg = ServerConfig(app_tokens={"acme": token_digest(APP_TOKEN)})
        assert serve(port=0, config=cfg, out=out) == 0
        banner = out.getvalue()
        assert (
            "-H 'Authorization: Bearer " in banner
        )  # a demo token: app tokens are not credentials
        assert "-H 'SO-AppToken: <your application token>'" in banner
        out = io.StringIO()
        assert serve(port=0, config=ServerConfig(tokens={"ci": TOKEN}), out=out) == 0
        assert "SO-AppToken" not in out.getvalue()


# -- the client --------------------------------------------------------------------------------


class TestClient:
    def test_sync(self, with_apps: UvicornThread, enrich_id: str) -> None:
        with Client(with_apps.url, auth=TOKEN, app_token=APP_TOKEN) as client:
            assert client.enrich({"Name": "Nordvik"}, enrich_id)["Name"] == "Nordvik"
            assert client.preview(enrich_id)["Name"]
            # every request carries it, also one made on the underlying httpx client
            assert client.http.post(WHOAMI, content=b"").json()["app"] == "acme"
        with Client(with_apps.url, auth=TOKEN) as client:
            with pytest.raises(Unauthorized, match=MISSING):
                client.enrich(None, enrich_id)
        with Client(with_apps.url, auth=Ticket(TICKET), app_token="wrong") as client:
            with pytest.raises(Unauthorized, match=re.escape(INVALID)):
                client.preview(enrich_id)

    def test_sync_schemes(self, with_apps: UvicornThread) -> None:
        for auth_, scheme in (((USER, PASSWORD), "Basic"), (Ticket(TICKET), "SOTicket")):
            with Client(with_apps.url, auth=auth_, app_token=OTHER_TOKEN) as client:
                found = client.http.post(WHOAMI, content=b"").json()
                assert (found["scheme"], found["app"]) == (scheme, "globex")

    def test_async(self, with_apps: UvicornThread, enrich_id: str) -> None:
        async def run() -> tuple[Any, Any, str]:
            async with AsyncClient(with_apps.url, auth=TOKEN, app_token=APP_TOKEN) as client:
                contact = await client.enrich({"Name": "Nordvik"}, enrich_id)
                who = (await client.http.post(WHOAMI, content=b"")).json()
            async with AsyncClient(with_apps.url, auth=Ticket(TICKET)) as client:
                try:
                    await client.preview(enrich_id)
                except Unauthorized as exc:
                    refusal = str(exc)
                else:
                    refusal = ""
            return contact, who, refusal

        contact, who, refusal = asyncio.run(run())
        assert contact["Name"] == "Nordvik"
        assert who == {"name": "ci", "scheme": "Bearer", "app": "acme"}
        assert MISSING in refusal

    def test_app_token_wins_over_headers(self, with_apps: UvicornThread) -> None:
        with Client(
            with_apps.url,
            auth=TOKEN,
            app_token=OTHER_TOKEN,
            headers={"so-apptoken": APP_TOKEN, "X-Other": "kept"},
        ) as client:
            assert client.http.headers["x-other"] == "kept"
            assert client.http.post(WHOAMI, content=b"").json()["app"] == "globex"

    @pytest.mark.parametrize("bad", ["", " t", "t "], ids=["empty", "leading", "trailing"])
    def test_a_bad_app_token_is_refused_before_sending(self, bad: str) -> None:
        with pytest.raises(ValueError, match="app_token must be a non-empty token"):
            Client("http://127.0.0.1:9", app_token=bad)
        with pytest.raises(ValueError, match="app_token must be a non-empty token"):
            AsyncClient("http://127.0.0.1:9", app_token=bad)

    def test_against_a_server_without_app_tokens(self, without_apps: UvicornThread) -> None:
        with Client(without_apps.url, auth=TOKEN, app_token=APP_TOKEN) as client:
            assert client.http.post(WHOAMI, content=b"").json()["app"] is None
