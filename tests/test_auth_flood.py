"""Basic auth under a flood: no hash without users, failures remembered, a budget of checks.

The unit tests drive :class:`CredentialAuthenticator` directly (with a fake
clock for the budget); the last ones flood the reference application under
uvicorn on 127.0.0.1 and count the scrypt runs that the server did.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest
from helpers import PASSWORD, TOKEN, USER, UvicornThread, basic, bearer

from negotiate.asgi import ASGIAdapter
from negotiate.auth import (
    Chain,
    CredentialAuthenticator,
    Principal,
    XsrfAuthenticator,
    credentials as credentials_module,
    hash_password,
    passwords,
    token_digest,
)
from negotiate.errors import TooManyPasswordChecks, Unauthorized
from negotiate.http import Headers
from negotiate.server import PREVIEW_PATH, ServerConfig, create_app

HASH = hash_password(PASSWORD, salt=b"f" * 16)


class Counter:
    """Counts the calls of a function it wraps, and the threads they ran on."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.threads: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.threads.append(threading.current_thread().name)
        return self.real(*args, **kwargs)

    @property
    def calls(self) -> int:
        with self.lock:
            return len(self.threads)


@pytest.fixture
def scrypt(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Every ``hashlib.scrypt`` run in this process, counted."""
    counter = Counter(hashlib.scrypt)
    monkeypatch.setattr(hashlib, "scrypt", counter)
    return counter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The budget's clock, frozen until a test moves it."""
    fake = Clock()
    monkeypatch.setattr(credentials_module, "_clock", fake)
    return fake


def refuse(checker: CredentialAuthenticator, headers: dict[str, str]) -> Exception:
    with pytest.raises((Unauthorized, TooManyPasswordChecks)) as caught:
        checker.authenticate(Headers(headers))
    return caught.value


# -- the authenticator -----------------------------------------------------------------------


class TestNoUsers:
    def test_basic_without_users_hashes_nothing(self, scrypt: Counter) -> None:
        checker = CredentialAuthenticator(tokens={"ci": token_digest(TOKEN)})
        for password in ("wrong", PASSWORD, ""):
            error = refuse(checker, basic(USER, password))
            assert isinstance(error, Unauthorized)
            assert error.message == "Invalid user name or password"
        assert scrypt.calls == 0
        assert not checker.costly(Headers(basic()))

    def test_construction_hashes_nothing(self, scrypt: Counter) -> None:
        CredentialAuthenticator(users={USER: HASH}, tokens=[TOKEN])
        assert scrypt.calls == 0


class TestRememberedFailures:
    def test_a_failed_pair_is_refused_again_without_a_hash(self, scrypt: Counter) -> None:
        checker = CredentialAuthenticator(users={USER: HASH})
        first = refuse(checker, basic(USER, "wrong"))
        assert scrypt.calls == 1
        assert checker.costly(Headers(basic(USER, "wrong"))) is False
        for _ in range(20):
            again = refuse(checker, basic(USER, "wrong"))
            assert (type(again), str(again)) == (type(first), str(first))
        assert scrypt.calls == 1
        # another password, and the right one, are still checked
        refuse(checker, basic(USER, "wrong too"))
        assert checker.authenticate(Headers(basic())) == Principal(USER, "Basic")
        assert scrypt.calls == 3

    def test_unknown_and_known_users_look_the_same(self, scrypt: Counter) -> None:
        checker = CredentialAuthenticator(users={USER: HASH})
        answers = []
        for user in (USER, "nobody"):
            for _ in range(2):  # the first check, then the remembered failure
                error = refuse(checker, basic(user, "wrong"))
                answers.append((user, type(error), str(error), error.status))
        assert scrypt.calls == 2  # one scrypt run each, the unknown user's too
        assert len({answer[1:] for answer in answers}) == 1

    def test_an_unknown_user_costs_the_configured_parameters(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # a hash with other parameters than hash_password's: the unknown user's dummy
        # hash must cost the same, or timing would tell the names apart
        salt = b"p" * 16
        digest = hashlib.scrypt(b"pw", salt=salt, n=2**12, r=4, p=2, dklen=24)
        encoded = "$".join(
            [
                "scrypt",
                "4096",
                "4",
                "2",
                base64.b64encode(salt).decode(),
                base64.b64encode(digest).decode(),
            ]
        )
        checker = CredentialAuthenticator(users={"ann": encoded})
        seen: list[str] = []
        real = credentials_module.verify_password
        monkeypatch.setattr(
            credentials_module, "verify_password", lambda p, e: seen.append(e) or real(p, e)
        )
        assert checker.authenticate(Headers(basic("ann", "pw"))) == Principal("ann", "Basic")
        refuse(checker, basic("bob", "pw"))
        assert [e.split("$")[1:4] for e in seen] == [["4096", "4", "2"], ["4096", "4", "2"]]
        known, unknown = (passwords._parse_hash(e) for e in seen)
        assert known is not None and unknown is not None
        assert (len(known[3]), len(known[4])) == (len(unknown[3]), len(unknown[4]))

    def test_the_failure_table_is_bounded_least_recent_out(
        self, monkeypatch: pytest.MonkeyPatch, scrypt: Counter
    ) -> None:
        monkeypatch.setattr(credentials_module, "_FAILURE_LIMIT", 3)
        checker = CredentialAuthenticator(users={USER: HASH})
        for password in ("a", "b", "c"):
            refuse(checker, basic(USER, password))
        refuse(checker, basic(USER, "a"))  # seen again: now the most recent
        assert scrypt.calls == 3
        refuse(checker, basic(USER, "d"))  # one too many: "b" goes
        assert len(checker._failed) == 3
        refuse(checker, basic(USER, "a"))
        refuse(checker, basic(USER, "c"))
        assert scrypt.calls == 4
        refuse(checker, basic(USER, "b"))  # forgotten: checked again
        assert scrypt.calls == 5

    def test_no_password_is_kept_in_clear(self) -> None:
        checker = CredentialAuthenticator(users={USER: HASH})
        refuse(checker, basic(USER, "near-miss-of-the-password"))
        (digest,) = checker._failed
        assert isinstance(digest, bytes) and len(digest) == 16
        assert b"near-miss" not in digest


class TestBudget:
    def test_new_checks_beyond_the_budget_are_503_without_a_hash(
        self, clock: Clock, scrypt: Counter
    ) -> None:
        checker = CredentialAuthenticator(users={USER: HASH}, check_rate=2)
        answers = [type(refuse(checker, basic(USER, f"guess-{i}"))) for i in range(10)]
        # the bucket holds twice the rate: four checks, then refusals without a hash
        assert answers == [Unauthorized] * 4 + [TooManyPasswordChecks] * 6
        assert scrypt.calls == 4
        error = refuse(checker, basic("nobody", "x"))  # the same for an unknown user
        assert isinstance(error, TooManyPasswordChecks) and error.status == 503
        # the right password too: the budget is spent for everyone, for now
        assert isinstance(refuse(checker, basic()), TooManyPasswordChecks)
        clock.now += 0.5  # one check more per half second at 2 a second
        assert checker.authenticate(Headers(basic())) == Principal(USER, "Basic")
        assert isinstance(refuse(checker, basic(USER, "guess-10")), TooManyPasswordChecks)
        assert scrypt.calls == 5

    def test_remembered_answers_cost_no_budget(self, clock: Clock, scrypt: Counter) -> None:
        checker = CredentialAuthenticator(users={USER: HASH}, check_rate=1)
        assert checker.authenticate(Headers(basic())) == Principal(USER, "Basic")
        refuse(checker, basic(USER, "wrong"))
        for _ in range(10):  # the budget (2) is spent, the remembered answers still come
            assert checker.authenticate(Headers(basic())) == Principal(USER, "Basic")
            assert isinstance(refuse(checker, basic(USER, "wrong")), Unauthorized)
        assert scrypt.calls == 2

    def test_tokens_are_not_rate_limited(self, clock: Clock) -> None:
        checker = CredentialAuthenticator(users={USER: HASH}, tokens=[TOKEN], check_rate=1)
        for i in range(5):
            refuse(checker, basic(USER, f"guess-{i}"))
        assert checker.authenticate(Headers(bearer())) == Principal("token", "Bearer")
        assert isinstance(refuse(checker, {"Authorization": "Bearer nope"}), Unauthorized)

    @pytest.mark.parametrize("rate", [0, -1.0])
    def test_the_rate_must_be_positive(self, rate: float) -> None:
        with pytest.raises(ValueError, match="check_rate must be a positive number"):
            CredentialAuthenticator(users={USER: HASH}, check_rate=rate)

    def test_no_limit(self, clock: Clock) -> None:
        checker = CredentialAuthenticator(users={USER: HASH}, check_rate=None)
        for i in range(6):
            assert isinstance(refuse(checker, basic(USER, f"guess-{i}")), Unauthorized)


class TestCostly:
    def test_only_a_new_well_formed_basic_pair_with_users_is_costly(self) -> None:
        checker = CredentialAuthenticator(users={USER: HASH}, tokens=[TOKEN])
        assert checker.costly(Headers(basic(USER, "wrong")))
        assert not checker.costly(Headers({}))
        assert not checker.costly(Headers(bearer()))
        assert not checker.costly(Headers({"Authorization": "Basic !!!"}))
        assert not checker.costly(Headers({"Authorization": "Digest abc"}))
        checker.authenticate(Headers(basic()))
        assert not checker.costly(Headers(basic()))  # remembered good
        refuse(checker, basic(USER, "wrong"))
        assert not checker.costly(Headers(basic(USER, "wrong")))  # remembered failed

    def test_a_chain_asks_its_members(self) -> None:
        checker = CredentialAuthenticator(users={USER: HASH})
        chain = Chain(XsrfAuthenticator(lambda cookies: None), checker)
        assert chain.costly(Headers(basic()))
        assert not chain.costly(Headers(bearer()))
        assert not Chain(XsrfAuthenticator(lambda cookies: None)).costly(Headers(basic()))


# -- over a real server ----------------------------------------------------------------------


def post(port: int, headers: dict[str, str], path: str = PREVIEW_PATH) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        body = orjson.dumps({"EnrichId": "NO-1"})
        conn.request("POST", path, body, {"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def flood(port: int, headers: list[dict[str, str]]) -> list[tuple[int, bytes]]:
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda h: post(port, h), headers))


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[UvicornThread]:
    """The reference application with the configuration the test is parametrised with."""
    config: ServerConfig = request.param
    with UvicornThread(ASGIAdapter(create_app(config), threads=2)) as server:
        yield server


NO_USERS = ServerConfig(tokens={"ci": token_digest(TOKEN)})
ONE_USER = ServerConfig(users={USER: HASH}, tokens={"ci": token_digest(TOKEN)})


@pytest.mark.parametrize("served", [NO_USERS], indirect=True, ids=["no-users"])
def test_a_basic_flood_without_users_runs_no_scrypt(served: UvicornThread, scrypt: Counter) -> None:
    answers = flood(served.port, [basic(USER, f"wrong-{i % 7}") for i in range(100)])
    assert {status for status, _ in answers} == {401}
    assert scrypt.calls == 0
    assert post(served.port, bearer())[0] == 404  # the token still works (NO-1 is unknown)


@pytest.mark.parametrize("served", [ONE_USER], indirect=True, ids=["one-user"])
def test_a_flood_of_one_wrong_pair_runs_scrypt_at_most_once_per_pool_thread(
    served: UvicornThread, scrypt: Counter
) -> None:
    answers = flood(served.port, [basic(USER, "wrong")] * 100)
    assert {status for status, _ in answers} == {401}
    assert len({body for _, body in answers}) == 1
    # the first failure is remembered: only requests already in one of the two pool
    # threads by then ran scrypt, and they ran it there, off the event loop
    assert 1 <= scrypt.calls <= 2
    assert all(name.startswith("negotiate-asgi") for name in scrypt.threads)


@pytest.mark.parametrize("served", [ONE_USER], indirect=True, ids=["one-user"])
def test_a_flood_of_distinct_guesses_is_held_to_the_budget(
    served: UvicornThread, scrypt: Counter, clock: Clock
) -> None:
    # the clock is frozen: the bucket (twice the rate of 10 a second) never refills
    answers = flood(served.port, [basic(USER, f"guess-{i}") for i in range(60)])
    statuses = [status for status, _ in answers]
    assert statuses.count(401) == 20 and statuses.count(503) == 40
    assert scrypt.calls == 20
    error = orjson.loads(next(body for status, body in answers if status == 503))
    assert error["Status"] == 503 and "retry" in error["MessageDetail"]
    assert post(served.port, bearer())[0] == 404  # tokens are not held back (NO-1 is unknown)


def test_an_app_token_wrapper_passes_the_inner_cost_on() -> None:
    from negotiate.auth import CredentialAuthenticator, RequireAppToken, hash_password

    inner = CredentialAuthenticator(users={"u": hash_password("p")})
    wrapped = RequireAppToken(inner, {"partner": "a-token"})
    basic = {"authorization": "Basic " + __import__("base64").b64encode(b"u:p").decode()}
    assert wrapped.costly(basic) is inner.costly(basic) is True
    assert wrapped.costly({"authorization": "Bearer x"}) is False
