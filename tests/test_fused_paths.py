"""The usual request's fused paths against the step-by-step paths they stand for.

Issue 14 fuses what the usual request does into fewer calls: the JSON codec's bound
reader (:meth:`JsonCodec.reader`), a plan's fused steps (``Plan.steps``), the
application's memo of usual requests (``App.start``) and the merge of a null
contact (``_Prepared.new_contact``). Each must answer exactly what the path it
stands for answers, errors included, on random input.
"""

from __future__ import annotations

import codecs as _codecs
import dataclasses
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from helpers import CONTACT, TOKEN, WRAPPER, bearer, encode_request
from hypothesis import given, settings, strategies as st
from strategies import carriers, mutated

from negotiate.codecs import CodecRegistry, default_registry
from negotiate.codecs.json import JsonCodec
from negotiate.enrich import EmbeddedProvider
from negotiate.enrich.merge import enrich_contact
from negotiate.errors import NegotiateError
from negotiate.http import App, Exchange, Response
from negotiate.http.messages import raw_headers
from negotiate.media import parse_content_type
from negotiate.options import Options
from negotiate.pipeline import Pipeline
from negotiate.schema import get_schema
from negotiate.server import ENRICH_PATH, PREVIEW_PATH, ServerConfig, create_app


def _outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """What a call gives: its value (by repr: order and types count) or its error."""
    try:
        return ("value", repr(call()))
    except NegotiateError as exc:
        return ("error", type(exc), exc.status, exc.message, exc.location, exc.to_dict())


# -- the JSON codec's bound reader -----------------------------------------------------------

_PROVIDER = EmbeddedProvider()
_IDS = _PROVIDER.ids(4)
_SCHEMAS = [WRAPPER, CONTACT, get_schema("PreviewContact")]
_MEDIA = [
    None,
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=UTF-8; q=1",
    "text/json; charset=us-ascii",
    "application/json; charset=utf-16",
    "application/json; charset=latin-1",
]
_MARKS = [b"", _codecs.BOM_UTF8, _codecs.BOM_UTF16_LE, b" ", b"\n\t", b"\x00"]
_TOKENS = (b"{", b"}", b"[", b"]", b",", b":", b'"', b"null", b"\\u00e9", b"1e400", b"-0")
_OPTIONS = [Options(), Options(max_nodes=8), Options(max_body=64), Options(unknown="ignore")]


@st.composite
def _json_bodies(draw: st.DrawFn, schema: Any) -> bytes:
    body = orjson.dumps(draw(carriers(schema, depth=2)))
    kind = draw(st.sampled_from(["as is", "mutated", "blank", "marked"]))
    if kind == "mutated":
        body = draw(mutated(body, _TOKENS))
    elif kind == "blank":
        body = draw(st.sampled_from([b"", b" ", b"\r\n", b"\t \n"]))
    elif kind == "marked":
        body = draw(st.sampled_from(_MARKS)) + body
    return body


@settings(max_examples=300)
@given(data=st.data())
def test_the_json_reader_answers_what_decode_answers(data: st.DataObject) -> None:
    schema = data.draw(st.sampled_from(_SCHEMAS))
    options = data.draw(st.sampled_from(_OPTIONS))
    header = data.draw(st.sampled_from(_MEDIA))
    media_type = parse_content_type(header) if header is not None else None
    body = data.draw(_json_bodies(schema))
    codec = JsonCodec(options)
    read = codec.reader(schema, media_type)
    fused = _outcome(lambda: read(body))
    assert fused == _outcome(lambda: codec.decode(body, schema, media_type=media_type))


def test_the_json_reader_takes_decode_where_it_cannot_fuse() -> None:
    """A decimal schema, a transcoded charset or an overridden decode: the plain path."""

    class Loud(JsonCodec):
        def _decode(self, body: bytes, schema: Any, media_type: Any, base: Any) -> Any:
            return "overridden"

    value = Loud().reader(WRAPPER, None)(b'{"EnrichId": "x"}')
    assert value == "overridden"
    utf16 = '{"EnrichId": "é"}'.encode("utf-16")
    media_type = parse_content_type("application/json; charset=utf-16")
    assert JsonCodec().reader(WRAPPER, media_type)(utf16)["EnrichId"] == "é"


# -- a plan's fused steps, and the memo of usual requests --------------------------------


def _step_by_step(app: App) -> App:
    """``app`` with every plan run step by step (so no request is memoised either)."""
    for operation in app.operations:
        pipeline = app._methods(operation.path)[operation.method][1]  # type: ignore[index]
        pipeline._fused = lambda *args: None  # type: ignore[method-assign]
    return app


_CONFIG = ServerConfig(tokens={"ci": TOKEN})
_FUSED = create_app(_CONFIG)
_PLAIN = _step_by_step(create_app(_CONFIG))


def _same(a: Response, b: Response) -> None:
    assert (a.status, a.headers, a.body) == (b.status, b.headers, b.body)


_REQUEST_TYPES = ["application/json", "application/json; charset=utf-8", "application/xml"]
_ACCEPTS = [
    "application/json",
    "application/xml",
    "*/*",
    "application/merge-patch+json",
    "text/plain",
    "application/json;q=0.5, application/xml",
]


@settings(max_examples=150)
@given(data=st.data())
def test_fused_steps_and_the_memo_answer_what_the_steps_answer(data: st.DataObject) -> None:
    fused, plain = _FUSED, _PLAIN
    for _ in range(data.draw(st.integers(1, 4))):
        content_type = data.draw(st.sampled_from(_REQUEST_TYPES))
        wrapper = {
            "ContactEntity": data.draw(st.none() | carriers(CONTACT, depth=1)),
            "EnrichId": data.draw(st.sampled_from([*_IDS, "no such id", ""])),
        }
        body = encode_request(content_type.partition(";")[0], wrapper)
        if data.draw(st.booleans()):
            body = data.draw(mutated(body, _TOKENS))
        headers = {
            "Content-Type": content_type,
            "Accept": data.draw(st.sampled_from(_ACCEPTS)),
            "Content-Length": str(len(body)),
            **bearer(data.draw(st.sampled_from([TOKEN, "wrong"]))),
        }
        path = data.draw(st.sampled_from([ENRICH_PATH, ENRICH_PATH.lower() + "/", PREVIEW_PATH]))
        query = data.draw(st.sampled_from(["", "$select=Name", "x=1"]))
        method = data.draw(st.sampled_from(["POST", "post", "GET"]))
        # NOTE: twice on the fused app: the second is answered from the memo.
        first = fused.handle(method, path, query, headers, body)
        _same(first, plain.handle(method, path, query, headers, body))
        _same(first, fused.handle(method, path, query, headers, body))


@settings(max_examples=150)
@given(data=st.data())
def test_finish_raw_answers_what_finish_answers(data: st.DataObject) -> None:
    """The ASGI adapter's ``finish_raw``: ``finish``'s answer, its pairs in Latin-1 bytes."""
    wrapper = {
        "ContactEntity": data.draw(st.none() | carriers(CONTACT, depth=1)),
        "EnrichId": data.draw(st.sampled_from([*_IDS, "no such id"])),
    }
    content_type = data.draw(st.sampled_from(_REQUEST_TYPES))
    body = encode_request(content_type.partition(";")[0], wrapper)
    if data.draw(st.booleans()):
        body = data.draw(mutated(body, _TOKENS))
    headers = {"Content-Type": content_type, "Accept": data.draw(st.sampled_from(_ACCEPTS))}
    headers.update(bearer())
    extra = data.draw(
        st.sampled_from(
            [{}, {"Accept-Encoding": "gzip"}, {"SO-Language": "de"}, {"SO-TimeZone": "UTC+1"}]
        )
    )
    query = data.draw(st.sampled_from(["", "$select=Name,Phones"]))
    started = [_FUSED.start("POST", ENRICH_PATH, query, {**headers, **extra}) for _ in "ab"]
    if isinstance(started[0], Response):
        return  # refused before the body: both adapters send that Response alike
    assert isinstance(started[1], Exchange)
    response = started[0].finish(body)
    status, raw, out = started[1].finish_raw(body)
    assert (status, raw, out) == (response.status, raw_headers(response.headers), response.body)


def test_the_memo_keeps_every_check_of_the_request(app: App) -> None:
    body = encode_request("application/json", {"ContactEntity": None, "EnrichId": _IDS[0]})
    headers = {"Content-Type": "application/json", "Accept": "application/json", **bearer()}
    assert app.handle("POST", ENRICH_PATH, "", headers, body).status == 200
    assert app.handle("POST", ENRICH_PATH, "", headers, body).status == 200  # from the memo
    assert app.handle("POST", ENRICH_PATH, "", {**headers, **bearer("no")}, body).status == 401
    without = {k: v for k, v in headers.items() if k != "Authorization"}
    assert app.handle("POST", ENRICH_PATH, "", without, body).status == 401
    too_long = {**headers, "Content-Length": str(app.options.max_body + 1)}
    assert app.handle("POST", ENRICH_PATH, "", too_long, body).status == 413
    assert (
        app.handle("POST", ENRICH_PATH, "", {**headers, "Content-Length": "x"}, b"").status == 400
    )
    assert app.handle("POST", ENRICH_PATH, "", headers, b"{").status == 400


def test_a_codec_registered_later_is_used_by_usual_requests() -> None:
    """The memo of usual requests follows the registry: ``register`` starts it again."""

    class Indented(JsonCodec):
        def encode(self, value: Any, schema: Any, *, base: Any = None) -> bytes:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2)

    registry: CodecRegistry = default_registry()
    app = create_app(ServerConfig(tokens={"ci": TOKEN}), registry=registry)
    body = encode_request("application/json", {"ContactEntity": None, "EnrichId": _IDS[0]})
    headers = {"Content-Type": "application/json", "Accept": "application/json", **bearer()}
    before = app.handle("POST", ENRICH_PATH, "", headers, body)
    assert app.handle("POST", ENRICH_PATH, "", headers, body).body == before.body
    generation = registry.generation
    registry.register(Indented())
    assert registry.generation > generation
    after = app.handle("POST", ENRICH_PATH, "", headers, body)
    assert after.status == 200 and after.body != before.body
    assert orjson.loads(after.body) == orjson.loads(before.body)
    assert b"\n  " in after.body


@pytest.mark.parametrize("name", ["registry", "options", "resources"])
def test_what_the_pipelines_were_built_with_cannot_be_swapped(name: str) -> None:
    """A registry, options or resources set later would reach some steps and not
    others (the memo, the writer lookup, the pipelines): setting one is refused."""
    app = create_app(ServerConfig(tokens={"ci": TOKEN}))
    kept = getattr(app, name)
    with pytest.raises(AttributeError, match=f"App.{name} is fixed"):
        setattr(app, name, kept)
    assert getattr(app, name) is kept
    body = encode_request("application/json", {"ContactEntity": None, "EnrichId": _IDS[0]})
    headers = {"Content-Type": "application/json", "Accept": "application/json", **bearer()}
    assert app.handle("POST", ENRICH_PATH, "", headers, body).status == 200


def test_the_authenticator_may_be_swapped() -> None:
    app = create_app(ServerConfig(tokens={"ci": TOKEN}))
    body = encode_request("application/json", {"ContactEntity": None, "EnrichId": _IDS[0]})
    headers = {"Content-Type": "application/json", "Accept": "application/json", **bearer()}
    assert app.handle("POST", ENRICH_PATH, "", headers, body).status == 200
    app.authenticator = create_app(ServerConfig(tokens={"ci": "another-token"})).authenticator
    assert app.handle("POST", ENRICH_PATH, "", headers, body).status == 401


def test_plans_with_more_steps_are_not_fused(app: App) -> None:
    body = encode_request("application/json", {"ContactEntity": None, "EnrichId": _IDS[0]})
    headers = {"Content-Type": "application/json", "Accept": "application/json", **bearer()}
    steps = [
        app.start("POST", ENRICH_PATH, query, {**headers, **extra}).plan.steps  # type: ignore[union-attr]
        for query, extra in [
            ("", {}),
            ("$select=Name", {}),
            ("", {"SO-TimeZone": "UTC+2"}),
            ("", {"Accept": "application/json-patch+json"}),
        ]
    ]
    assert steps[0] is not None
    assert steps[1:] == [None, None, None]
    exchange = app.start("POST", ENRICH_PATH, "", headers)
    unfused = dataclasses.replace(exchange.plan, steps=None)  # type: ignore[union-attr]
    assert exchange.pipeline.run(unfused, body, exchange.context) == exchange.finish(body).body  # type: ignore[union-attr]


# -- the merge of a null contact -------------------------------------------------------------


@pytest.mark.parametrize("enrich_id", _PROVIDER.ids(40))
def test_a_null_contact_is_enriched_as_the_default_would_be(enrich_id: str) -> None:
    company = _PROVIDER.lookup(enrich_id)
    assert company is not None
    fresh = enrich_contact(None, company)
    assert repr(fresh) == repr(enrich_contact(CONTACT.default(), company))
    # NOTE: nothing shared between answers: a caller may change what it was given.
    again = enrich_contact(None, company)
    for name, value in fresh.items():
        if isinstance(value, (dict, list)):
            assert value is not again[name]
    for name in ("Phones", "Emails"):
        for one, other in zip(fresh[name] or [], again[name] or [], strict=True):
            assert one is not other
    address = fresh["Address"]
    assert address["Street"] is not again["Address"]["Street"]
    fresh["Name"] = "changed"
    address["Street"]["City"] = "changed"
    assert repr(enrich_contact(None, company)) == repr(again)


def test_a_pipeline_that_overrides_a_step_runs_it() -> None:
    """A subclass's own ``decode`` or ``encode`` step is never skipped by the fused steps."""

    class Tagged(Pipeline[None]):
        def encode(self, writer: Any, value: Any, base: Any) -> bytes:
            return b"tagged:" + super().encode(writer, value, base)

    registry = default_registry()
    for kind in (Pipeline, Tagged):
        pipeline = kind(WRAPPER, WRAPPER, registry=registry)
        plan = pipeline.plan(registry.writer_for_accept("application/json"), "application/json")
        body = pipeline.run(plan, b'{"EnrichId": "x"}', None)
        assert (plan.steps is None) == (kind is Tagged)
        assert body.startswith(b"tagged:") == (kind is Tagged)


def test_a_protocol_codec_runs_step_by_step() -> None:
    """A codec that only follows the Codec protocol (the pipeline holds its bodies to the
    limit itself) is run step by step, an attribute named ``reader`` of its own unused."""

    class Upper:
        media_types = ("text/upper",)
        offered = True
        reader = "not a method"

        def decode(self, body: bytes, schema: Any, *, media_type: Any = None, base: Any = None):  # type: ignore[no-untyped-def]
            return body.decode().upper()

        def encode(self, value: Any, schema: Any, *, base: Any = None) -> bytes:
            return value.encode()

        def content_type(self, media_type: str) -> str:
            return media_type

    registry = CodecRegistry([Upper()])
    pipeline: Pipeline[None] = Pipeline(None, None, registry=registry)
    plan = pipeline.plan(registry.writer_for_accept("text/upper"), "text/upper")
    assert plan.steps is None
    assert pipeline.run(plan, b"shout", None) == b"SHOUT"
