"""Authentication: secrets, the built-in authenticators, and refusals over the App."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import pytest
from helpers import PASSWORD, TICKET, TOKEN, USER, basic, bearer

from negotiate.auth import (
    ANONYMOUS,
    Authenticator,
    Chain,
    CredentialAuthenticator,
    Principal,
    XsrfAuthenticator,
    credentials as credentials_module,
    hash_password,
    new_token,
    parse_cookies,
    token_digest,
    verify_password,
)
from negotiate.errors import Unauthorized
from negotiate.http import REALM, App, Headers
from negotiate.server import ENRICH_PATH

HASH = hash_password(PASSWORD, salt=b"s" * 16)


@pytest.fixture(scope="module")
def credentials() -> CredentialAuthenticator:
    return CredentialAuthenticator(
        users={USER: HASH}, tokens={"ci": token_digest(TOKEN), "ticket": TICKET}
    )


def headers(**values: str) -> Headers:
    return Headers({k.replace("_", "-"): v for k, v in values.items()})


# -- secrets ---------------------------------------------------------------------


class TestSecrets:
    def test_password_round_trip(self) -> None:
        assert verify_password(PASSWORD, HASH)
        assert not verify_password(PASSWORD + "x", HASH)
        assert not verify_password("", HASH)

    def test_hash_format_and_fresh_salt(self) -> None:
        first, second = hash_password("pw"), hash_password("pw")
        assert first != second  # a new salt each time
        assert first.startswith("scrypt$16384$8$1$")
        assert verify_password("pw", first) and verify_password("pw", second)

    @pytest.mark.parametrize(
        "encoded",
        [
            "",
            "plain",
            "pbkdf2$1$2$3$AAAA$AAAA",
            "scrypt$16384$8$1$!!!$AAAA",
            "scrypt$1000$8$1$AAAA$AAAA",  # n not a power of two
            "scrypt$16384$8$1$AAAA$",
            "scrypt$x$8$1$AAAA$AAAA",
        ],
        ids=["empty", "plain", "other-scheme", "bad-base64", "bad-n", "no-digest", "word-n"],
    )
    def test_malformed_hashes_never_verify(self, encoded: str) -> None:
        assert not verify_password("anything", encoded)

    def test_token_digest(self) -> None:
        digest = token_digest("abc")
        assert digest == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

    def test_new_tokens_are_random_and_long(self) -> None:
        tokens = {new_token() for _ in range(20)}
        assert len(tokens) == 20
        assert all(len(t) >= 43 for t in tokens)

    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            (None, {}),
            ("", {}),
            ("a=1", {"a": "1"}),
            ("a=1; b=2", {"a": "1", "b": "2"}),
            ('a="quoted"; b=x=y', {"a": "quoted", "b": "x=y"}),
            ("a=1; a=2", {"a": "1"}),
            ("junk; =x; b=2", {"b": "2"}),
        ],
        ids=["none", "empty", "one", "two", "quoted-and-equals", "first-wins", "junk"],
    )
    def test_parse_cookies(self, header: str | None, expected: dict[str, str]) -> None:
        assert parse_cookies(header) == expected


# -- the credential authenticator ----------------------------------------------------------


class TestCredentials:
    def test_no_header_is_none(self, credentials: CredentialAuthenticator) -> None:
        assert credentials.authenticate(headers()) is None

    def test_bearer(self, credentials: CredentialAuthenticator) -> None:
        assert credentials.authenticate(Headers(bearer())) == Principal("ci", "Bearer")

    def test_soticket(self, credentials: CredentialAuthenticator) -> None:
        found = credentials.authenticate(headers(Authorization=f"SOTicket {TICKET}"))
        assert found == Principal("ticket", "SOTicket")

    @pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
    def test_scheme_is_case_insensitive(
        self, credentials: CredentialAuthenticator, scheme: str
    ) -> None:
        found = credentials.authenticate(headers(Authorization=f"{scheme} {TOKEN}"))
        assert found is not None and found.name == "ci"

    def test_basic(self, credentials: CredentialAuthenticator) -> None:
        assert credentials.authenticate(Headers(basic())) == Principal(USER, "Basic")

    @pytest.mark.parametrize(
        "value",
        [
            "Bearer nope",
            f"Bearer {TOKEN}x",
            "Bearer ",
            "SOTicket nope",
            f"SOTicket {TOKEN[:-1]}",
        ],
        ids=["wrong", "longer", "empty", "wrong-ticket", "prefix"],
    )
    def test_wrong_tokens_are_refused(
        self, credentials: CredentialAuthenticator, value: str
    ) -> None:
        with pytest.raises(Unauthorized):
            credentials.authenticate(headers(Authorization=value))

    @pytest.mark.parametrize(
        ("user", "password"),
        [(USER, "wrong"), ("nobody", PASSWORD), (USER.upper(), PASSWORD), (USER, "")],
        ids=["wrong-password", "unknown-user", "user-case", "empty-password"],
    )
    def test_wrong_basic_credentials_are_refused(
        self, credentials: CredentialAuthenticator, user: str, password: str
    ) -> None:
        with pytest.raises(Unauthorized, match="Invalid user name or password"):
            credentials.authenticate(Headers(basic(user, password)))

    @pytest.mark.parametrize(
        "value",
        [
            "Basic !!!",
            "Basic " + base64.b64encode(b"no-colon").decode(),
            "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        ],
        ids=["not-base64", "no-colon", "not-utf8"],
    )
    def test_malformed_basic_is_refused(
        self, credentials: CredentialAuthenticator, value: str
    ) -> None:
        with pytest.raises(Unauthorized, match="Malformed Basic"):
            credentials.authenticate(headers(Authorization=value))

    def test_unknown_scheme_is_left_to_others(self, credentials: CredentialAuthenticator) -> None:
        assert credentials.authenticate(headers(Authorization="Digest abc")) is None

    def test_a_verified_basic_header_is_remembered(self, monkeypatch: pytest.MonkeyPatch) -> None:
        checker = CredentialAuthenticator(users={USER: HASH})
        calls: list[str] = []
        real = credentials_module.verify_password

        def counting(password: str, encoded: str) -> bool:
            calls.append(password)
            return real(password, encoded)

        monkeypatch.setattr(credentials_module, "verify_password", counting)
        for _ in range(3):
            assert checker.authenticate(Headers(basic())) == Principal(USER, "Basic")
        assert calls == [PASSWORD]
        for _ in range(2):
            with pytest.raises(Unauthorized):
                checker.authenticate(Headers(basic(USER, "wrong")))
        assert calls == [PASSWORD, "wrong"]  # a failed pair is remembered too (no second hash)

    @pytest.mark.parametrize("scheme", ["Bearer", "SOTicket"])
    def test_a_verified_token_header_is_remembered(
        self, monkeypatch: pytest.MonkeyPatch, scheme: str
    ) -> None:
        checker = CredentialAuthenticator(tokens={"ci": token_digest(TOKEN)})
        checks: list[str] = []
        real = checker._token

        def counting(credentials: str, name: str) -> Principal:
            checks.append(credentials)
            return real(credentials, name)

        monkeypatch.setattr(checker, "_token", counting)
        for _ in range(3):
            found = checker.authenticate(headers(Authorization=f"{scheme} {TOKEN}"))
            assert found == Principal("ci", scheme)
        assert checks == [TOKEN]
        for _ in range(2):
            with pytest.raises(Unauthorized):
                checker.authenticate(headers(Authorization=f"{scheme} wrong"))
        assert checks == [TOKEN, "wrong", "wrong"]  # failures are never remembered

    def test_the_remembered_values_are_bounded_oldest_out(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(credentials_module, "_CACHE_LIMIT", 3)
        checker = CredentialAuthenticator(tokens=[TOKEN])
        checks: list[str] = []
        real = checker._token

        def counting(credentials: str, name: str) -> Principal:
            checks.append(credentials)
            return real(credentials, name)

        monkeypatch.setattr(checker, "_token", counting)
        # four spellings of one token (the value is trimmed): four remembered values
        values = [f"Bearer {TOKEN}" + " " * n for n in range(4)]
        for value in values:
            checker.authenticate(headers(Authorization=value))
        assert len(checks) == 4
        checker.authenticate(headers(Authorization=values[3]))  # still remembered
        checker.authenticate(headers(Authorization=values[1]))  # still remembered
        assert len(checks) == 4
        checker.authenticate(headers(Authorization=values[0]))  # dropped first: checked again
        assert len(checks) == 5

    def test_unknown_users_still_cost_a_hash(self, monkeypatch: pytest.MonkeyPatch) -> None:
        checker = CredentialAuthenticator(users={USER: HASH})
        calls: list[str] = []
        monkeypatch.setattr(
            credentials_module, "verify_password", lambda p, e: calls.append(p) or False
        )
        with pytest.raises(Unauthorized):
            checker.authenticate(Headers(basic("nobody", "pw")))
        assert calls == ["pw"]

    def test_iterable_tokens_and_bad_user_hash(self) -> None:
        checker = CredentialAuthenticator(tokens=["a-token"])
        assert checker.authenticate(headers(Authorization="Bearer a-token")) == Principal(
            "token", "Bearer"
        )
        with pytest.raises(ValueError, match="hash_password"):
            CredentialAuthenticator(users={"x": "plaintext"})


# -- sessions, chains, anonymous -------------------------------------------------------------


def sessions(cookies: Mapping[str, str]) -> Principal | None:
    return Principal("web-user", "Session") if cookies.get("session") == "s1" else None


class TestXsrf:
    xsrf = XsrfAuthenticator(sessions)

    def test_matching_header_and_cookie(self) -> None:
        found = self.xsrf.authenticate(
            headers(Cookie="session=s1; XSRF-TOKEN=abc", X_XSRF_TOKEN="abc")
        )
        assert found == Principal("web-user", "Session")

    @pytest.mark.parametrize(
        "values",
        [
            {"Cookie": "session=s1; XSRF-TOKEN=abc", "X-XSRF-TOKEN": "abd"},
            {"Cookie": "session=s1; XSRF-TOKEN=abc"},
            {"Cookie": "session=s1", "X-XSRF-TOKEN": "abc"},
            {"Cookie": "session=s2; XSRF-TOKEN=abc", "X-XSRF-TOKEN": "abc"},
        ],
        ids=["mismatch", "no-header", "no-cookie", "unknown-session"],
    )
    def test_refusals(self, values: dict[str, str]) -> None:
        with pytest.raises(Unauthorized):
            self.xsrf.authenticate(Headers(values))

    def test_not_a_session_request(self) -> None:
        assert self.xsrf.authenticate(headers()) is None
        assert (
            self.xsrf.authenticate(
                headers(Authorization="Bearer x", Cookie="XSRF-TOKEN=a", X_XSRF_TOKEN="a")
            )
            is None
        )

    def test_custom_names(self) -> None:
        custom = XsrfAuthenticator(sessions, cookie="csrf", header="X-CSRF")
        found = custom.authenticate(headers(Cookie="session=s1; csrf=t", X_CSRF="t"))
        assert found is not None


class TestChain:
    def test_first_principal_wins(self, credentials: CredentialAuthenticator) -> None:
        chain = Chain(credentials, XsrfAuthenticator(sessions))
        assert chain.authenticate(Headers(bearer())) == Principal("ci", "Bearer")
        found = chain.authenticate(headers(Cookie="session=s1; XSRF-TOKEN=t", X_XSRF_TOKEN="t"))
        assert found == Principal("web-user", "Session")
        assert chain.authenticate(headers()) is None

    def test_unknown_scheme_is_refused(self, credentials: CredentialAuthenticator) -> None:
        with pytest.raises(Unauthorized, match="Unsupported authorization scheme 'Digest'"):
            Chain(credentials).authenticate(headers(Authorization="Digest abc"))

    def test_rejection_ends_the_chain(self, credentials: CredentialAuthenticator) -> None:
        with pytest.raises(Unauthorized):
            Chain(credentials, ANONYMOUS).authenticate(headers(Authorization="Bearer nope"))

    def test_anonymous(self) -> None:
        assert ANONYMOUS.authenticate(headers()) == Principal("anonymous", "Anonymous")
        assert isinstance(ANONYMOUS, Authenticator)


# -- over the App ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "auth_headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "SOTicket wrong"},
        {"Authorization": "Basic " + base64.b64encode(f"{USER}:wrong".encode()).decode()},
        {"Authorization": "Basic garbage!"},
        {"Authorization": "Negotiate abc"},
        {"Cookie": "XSRF-TOKEN=a", "X-XSRF-TOKEN": "a"},
    ],
    ids=["none", "bearer", "ticket", "basic", "basic-garbage", "other-scheme", "session"],
)
def test_the_app_refuses_with_401_and_the_realm(
    app: App, enrich_id: str, auth_headers: dict[str, str]
) -> None:
    body = b'{"EnrichId": "%s"}' % enrich_id.encode()
    response = app.handle(
        "POST", ENRICH_PATH, b"", {"Content-Type": "application/json", **auth_headers}, body
    )
    assert response.status == 401
    assert response.header("www-authenticate") == f'Basic realm="{REALM}"'


@pytest.mark.parametrize(
    "auth_headers",
    [bearer(), {"Authorization": f"SOTicket {TICKET}"}, basic()],
    ids=["bearer", "ticket", "basic"],
)
def test_the_app_lets_valid_credentials_in(
    app: App, enrich_id: str, auth_headers: dict[str, str]
) -> None:
    body = b'{"EnrichId": "%s"}' % enrich_id.encode()
    response = app.handle(
        "POST", ENRICH_PATH, b"", {"Content-Type": "application/json", **auth_headers}, body
    )
    assert response.status == 200
