"""The pipeline (negotiate.pipeline): plans, steps, trust, limits; and who runs it.

Built here with operations and handlers of these tests over catalogue
carriers; the reference server is not imported (only the CLI test imports
the CLI, which imports it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from negotiate.auth import ANONYMOUS
from negotiate.codecs import (
    BaseCodec,
    CodecRegistry,
    FormCodec,
    JsonCodec,
    JsonPatchCodec,
    MergePatchCodec,
    XmlCodec,
    default_registry,
)
from negotiate.errors import (
    BodyTooLarge,
    InvalidValue,
    MalformedBody,
    NegotiateError,
    NotFound,
    UnsupportedMediaType,
)
from negotiate.http import App, Context, Operation, Response
from negotiate.options import DEFAULT_OPTIONS, Options
from negotiate.pipeline import Pipeline, Plan, Writer
from negotiate.resources import ResourceTable
from negotiate.schema import Schema, get_schema
from negotiate.select import Projector
from negotiate.shaping import Shaping

CONTACT = get_schema("ContactEntity")
ELEMENT = get_schema("EntityElement")
REGISTRY = default_registry()
JSON = "application/json"
XML = "application/xml"
FORM = "application/x-www-form-urlencoded"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
SAMPLE = Path(__file__).resolve().parent.parent / "negotiate" / "data" / "contact-sample.json"


def sample() -> dict[str, Any]:
    """The bundled sample ContactEntity, normalised (a fresh copy)."""
    return CONTACT.normalize(orjson.loads(SAMPLE.read_bytes()))


def renamed(value: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """A handler: a new normalised contact, the request's with another name."""
    result = dict(value)
    result["Name"] = f"{value['Name']} (handled)"
    return result


def contact_pipeline(**kwargs: Any) -> Pipeline[Any]:
    return Pipeline(CONTACT, CONTACT, handler=renamed, registry=REGISTRY, **kwargs)


def json_writer() -> Writer:
    return REGISTRY.writer_for_accept(JSON)


# -- the plan ----------------------------------------------------------------------


def test_a_plan_names_what_the_headers_decided() -> None:
    pipeline = contact_pipeline()
    writer = REGISTRY.writer_for_accept("text/xml")
    plan = pipeline.plan(
        writer, "application/json; charset=utf-8", select="name", headers={"SO-TimeZone": "UTC"}
    )
    assert plan.writer is writer
    assert isinstance(plan.reader, JsonCodec)
    assert plan.request_type is not None and plan.request_essence == JSON
    assert isinstance(plan.projector, Projector) and plan.projector.text == "Name"
    assert isinstance(plan.shaping, Shaping) and plan.shaping.timezone_name == "UTC"
    with pytest.raises(AttributeError):
        plan.writer = json_writer()  # type: ignore[misc]


def test_plans_are_shared_by_what_they_were_resolved_from() -> None:
    pipeline = contact_pipeline()
    writer = json_writer()
    first = pipeline.plan(writer, JSON)
    assert pipeline.plan(writer, JSON) is first
    assert pipeline.plan(writer, XML) is not first
    selected = pipeline.plan(writer, JSON, select="Name")
    assert pipeline.plan(writer, JSON, select="Name") is selected is not first
    # an empty $select selects everything: the plan without one
    assert pipeline.plan(writer, JSON, select="") is first
    shaped = pipeline.plan(writer, JSON, headers={"SO-TimeZone": "UTC"})
    assert pipeline.plan(writer, JSON, headers={"SO-TimeZone": "UTC"}) is shaped
    assert pipeline.plan(writer, JSON, headers={"SO-TimeZone": "NO"}) is not shaped
    assert pipeline.plan(writer, JSON, headers={}) is first


def test_refusals_are_planned_not_raised_and_never_shared() -> None:
    pipeline = contact_pipeline()
    writer = json_writer()
    plan = pipeline.plan(writer, "text/plain", select="Nope")
    assert isinstance(plan.reader, UnsupportedMediaType)
    assert isinstance(plan.projector, InvalidValue) and plan.projector.location == "$select"
    again = pipeline.plan(writer, "text/plain", select="Nope")
    assert again is not plan and again.projector is not plan.projector
    refused = pipeline.plan(writer, JSON, headers={"SO-TimeZone": "Mars"})
    assert isinstance(refused.shaping, MalformedBody)
    assert pipeline.plan(writer, JSON, headers={"SO-TimeZone": "Mars"}) is not refused


def test_headers_without_shaping_plan_no_shaping() -> None:
    plan = contact_pipeline().plan(json_writer(), JSON, headers={"Accept": JSON})
    assert plan.shaping is None


def test_no_response_carrier_no_select_and_no_shaping() -> None:
    pipeline: Pipeline[Any] = Pipeline(None, None, registry=REGISTRY)
    plan = pipeline.plan(json_writer(), JSON, select="a", headers={"SO-TimeZone": "Mars"})
    assert isinstance(plan.projector, MalformedBody) and plan.projector.location == "$select"
    assert plan.shaping is None  # shaping needs a carrier: the header is not even read


# -- the steps -------------------------------------------------------------------


def run(
    pipeline: Pipeline[Any],
    body: bytes,
    *,
    content_type: str | None = JSON,
    accept: str = JSON,
    select: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    plan = pipeline.plan(
        REGISTRY.writer_for_accept(accept), content_type, select=select, headers=headers
    )
    return pipeline.run(plan, body, None)


def test_the_steps_in_order() -> None:
    contact = sample()
    body = REGISTRY.codec(JSON).encode(contact, CONTACT)
    out = run(
        contact_pipeline(),
        body,
        select="Name,DbiLastModified",
        headers={"SO-TimeZone": "US-NY, includeTZOffset"},
    )
    result = orjson.loads(out)
    assert result["Name"] == f"{contact['Name']} (handled)"  # handled, then selected
    assert result["Department"] is None and result["ContactId"] == 0  # not selected
    assert result["DbiLastModified"] != contact["DbiLastModified"]  # shaped: converted
    assert result["DbiLastModified"].endswith(("-0400", "-0500"))


def test_without_a_handler_the_value_passes_through() -> None:
    contact = sample()
    pipeline: Pipeline[Any] = Pipeline(CONTACT, CONTACT, registry=REGISTRY)
    out = run(pipeline, REGISTRY.codec(JSON).encode(contact, CONTACT), accept=XML)
    assert REGISTRY.codec(XML).decode(out, CONTACT) == contact


def test_an_empty_body_is_the_default_and_a_body_needs_a_content_type() -> None:
    pipeline: Pipeline[Any] = Pipeline(CONTACT, CONTACT, registry=REGISTRY)
    assert orjson.loads(run(pipeline, b" ", content_type=None)) == CONTACT.default()
    with pytest.raises(UnsupportedMediaType) as caught:
        run(pipeline, b"{}", content_type=None)
    assert caught.value.to_dict()["Supported"] == list(REGISTRY.request_types)


def test_a_body_fault_comes_before_a_select_fault() -> None:
    calls: list[Any] = []

    def keep(value: Any, ctx: Any) -> Any:
        calls.append(value)
        return value

    pipeline: Pipeline[Any] = Pipeline(CONTACT, CONTACT, handler=keep, registry=REGISTRY)
    with pytest.raises(MalformedBody) as caught:
        run(pipeline, b"{nope", select="Nope")
    assert caught.value.location != "$select"
    with pytest.raises(InvalidValue) as refused:
        run(pipeline, b"{}", select="Nope")
    assert refused.value.location == "$select"
    assert calls == []  # refused before the handler


def test_a_handler_error_comes_before_a_shaping_fault() -> None:
    def missing(value: Any, ctx: Any) -> Any:
        raise NotFound("no such contact")

    pipeline: Pipeline[Any] = Pipeline(CONTACT, CONTACT, handler=missing, registry=REGISTRY)
    with pytest.raises(NotFound):
        run(pipeline, b"{}", headers={"SO-TimeZone": "Mars/Olympus"})
    shaped: Pipeline[Any] = Pipeline(CONTACT, CONTACT, registry=REGISTRY)
    with pytest.raises(MalformedBody) as caught:
        run(shaped, b"{}", headers={"SO-TimeZone": "Mars/Olympus"})
    assert caught.value.location.lower() == "so-timezone"


def test_an_unsupported_content_type_after_the_size() -> None:
    pipeline: Pipeline[Any] = Pipeline(
        CONTACT, CONTACT, registry=REGISTRY, options=Options(max_body=10)
    )
    with pytest.raises(BodyTooLarge):
        run(pipeline, b"x" * 11, content_type="text/plain")
    with pytest.raises(UnsupportedMediaType):
        run(pipeline, b"x" * 10, content_type="text/plain")
    with pytest.raises(BodyTooLarge):  # no Content-Type: blank bytes are counted too
        run(pipeline, b" " * 11, content_type=None)


def test_request_and_response_bases() -> None:
    stored = sample()
    seen: list[Any] = []

    def request_base(ctx: Any) -> Any:
        seen.append(ctx)
        return stored

    def clear_name(value: dict[str, Any], ctx: Any) -> dict[str, Any]:
        value["Name"] = None  # a handler may reuse the request value
        return value

    pipeline: Pipeline[str] = Pipeline(
        CONTACT,
        CONTACT,
        handler=clear_name,
        registry=REGISTRY,
        request_base=request_base,
        response_base=lambda value: value,
    )
    plan = pipeline.plan(REGISTRY.writer_for_accept(JSON_PATCH), MERGE_PATCH)
    out = pipeline.run(plan, b'{"Department": "Sales"}', "the context")
    assert seen == ["the context"]
    # the diff is from the request value as decoded (snapshot before the handler)
    assert orjson.loads(out) == [{"op": "replace", "path": "/Name", "value": None}]
    assert stored["Department"] != "Sales"  # the base itself is not patched


# -- trust: one normalisation per request ------------------------------------------


@pytest.fixture
def normalisations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every whole-carrier normalisation (depth 0), by carrier name, while the test runs."""
    calls: list[str] = []
    original = Schema.normalizer

    def counting(self: Schema) -> Callable[[Any, int, Options], dict[str, Any]]:
        compiled = original.fget(self)  # type: ignore[attr-defined]

        def normalise(value: Any, depth: int, options: Options) -> dict[str, Any]:
            if depth == 0:
                calls.append(self.name)
            result: dict[str, Any] = compiled(value, depth, options)
            return result

        return normalise

    monkeypatch.setattr(Schema, "normalizer", property(counting))
    yield calls


@pytest.mark.parametrize("accept", [JSON, XML, "text/xml", JSON_PATCH, MERGE_PATCH])
@pytest.mark.parametrize("content_type", [JSON, XML, FORM])
@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {}),
        ("$select=Name,Emails,UpdatedDate", {}),
        ("$select=Name,Address", {"SO-TimeZone": "US-NY, includeTZOffset", "SO-Language": "nb"}),
    ],
    ids=["plain", "select", "select-and-shaping"],
)
def test_one_normalisation_per_document_request(
    normalisations: list[str], content_type: str, accept: str, query: str, headers: dict[str, str]
) -> None:
    app = App([Operation("/c", renamed, CONTACT, CONTACT)], authenticator=ANONYMOUS)
    body = REGISTRY.codec(content_type).encode(sample(), CONTACT)
    normalisations.clear()
    response = app.handle(
        "POST", "/c", query, {"Content-Type": content_type, "Accept": accept, **headers}, body
    )
    assert response.status == 200, response.body
    # the decode's; none after the handler. NOTE: XML in .NET's exact shape is read
    # straight into the normalised carrier (negotiate/codecs/xml/fast.py): no call at all.
    assert normalisations == ([] if content_type == XML else ["ContactEntity"])


@pytest.mark.parametrize("accept", [JSON, XML, JSON_PATCH, MERGE_PATCH])
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (MERGE_PATCH, b'{"Department": "Sales", "Emails": [{"Value": "a@example.com"}]}'),
        (JSON_PATCH, b'[{"op": "replace", "path": "/department", "value": "Sales"}]'),
    ],
)
def test_one_normalisation_per_patch_request(
    normalisations: list[str], content_type: str, body: bytes, accept: str
) -> None:
    stored = sample()
    op = Operation(
        "/c",
        renamed,
        CONTACT,
        CONTACT,
        request_base=lambda ctx: stored,
        response_base=lambda value: stored,
    )
    app = App([op], authenticator=ANONYMOUS)
    normalisations.clear()
    response = app.handle(
        "POST",
        "/c",
        "$select=Name,Department,Emails",
        {"Content-Type": content_type, "Accept": accept, "SO-TimeZone": "UTC"},
        body,
    )
    assert response.status == 200, response.body
    assert normalisations == ["ContactEntity"]  # the stored base's, once


# -- the body limit ------------------------------------------------------------------


def test_the_codecs_check_is_the_one_check_when_the_limits_agree() -> None:
    options = Options(max_body=100)
    pipeline: Pipeline[Any] = Pipeline(CONTACT, CONTACT, options=options)
    plan = pipeline.plan(json_writer(), JSON)
    assert plan.limit is None  # BaseCodec.decode holds the body to the same limit
    with pytest.raises(BodyTooLarge) as caught:
        pipeline.run(plan, b" " * 101, None)
    assert str(caught.value).startswith("Body of 101 bytes is over the limit of 100")


@pytest.mark.parametrize(
    ("codec_limit", "app_limit", "size", "cited"),
    [(1000, 100, 101, 100), (100, 1000, 101, 100), (100, 1000, 1001, 1000)],
    ids=["codec-larger", "codec-smaller", "over-both"],
)
def test_limits_that_differ_are_both_held(
    codec_limit: int, app_limit: int, size: int, cited: int
) -> None:
    registry = default_registry(Options(max_body=codec_limit))
    pipeline: Pipeline[Any] = Pipeline(
        CONTACT, CONTACT, registry=registry, options=Options(max_body=app_limit)
    )
    plan = pipeline.plan(registry.writer_for_accept(JSON), JSON)
    assert plan.limit == app_limit
    with pytest.raises(BodyTooLarge) as caught:
        pipeline.run(plan, b" " * size, None)
    assert caught.value.to_dict()["Limit"] == cited


def test_a_request_base_is_not_fetched_for_a_body_over_the_limit() -> None:
    fetched: list[Any] = []
    pipeline: Pipeline[Any] = Pipeline(
        CONTACT,
        CONTACT,
        options=Options(max_body=10),
        request_base=lambda ctx: fetched.append(ctx),
    )
    plan = pipeline.plan(json_writer(), MERGE_PATCH)
    with pytest.raises(BodyTooLarge):
        pipeline.run(plan, b"{}" + b" " * 10, None)
    assert fetched == []


# -- codecs carry their format knowledge ---------------------------------------------


def test_codecs_say_whether_they_are_patches() -> None:
    assert not JsonCodec.is_patch and not XmlCodec.is_patch and not FormCodec.is_patch
    assert JsonPatchCodec.is_patch and MergePatchCodec.is_patch
    assert [REGISTRY.writer(t).is_patch for t in (JSON, XML, JSON_PATCH, MERGE_PATCH)] == [
        False,
        False,
        True,
        True,
    ]


def test_error_documents_per_format() -> None:
    error = {"Message": "No\x01 way", "Supported": ["a", "b"], "Status": 404}
    assert orjson.loads(JsonCodec().encode_error(error) or b"") == error
    assert JsonPatchCodec().encode_error(error) is None
    assert MergePatchCodec().encode_error(error) is None
    assert XmlCodec().encode_error(error) == (
        b"<Error><Message>No\\x01 way</Message>"
        b"<Supported><string>a</string><string>b</string></Supported>"
        b"<Status>404</Status></Error>"
    )


def test_a_writer_is_memoised_per_accept_until_a_codec_is_registered() -> None:
    registry = default_registry()
    writer = registry.writer_for_accept("text/xml")
    assert registry.writer_for_accept("text/xml") is writer
    assert writer.header == ("content-type", "text/xml; charset=utf-8")
    assert writer.content_type == "text/xml; charset=utf-8" and writer.media_type == "text/xml"
    registry.register(XmlCodec(namespace=None))
    assert registry.writer_for_accept("text/xml") is not writer


def test_app_error_takes_a_writer_or_the_old_pair() -> None:
    app = App([], authenticator=ANONYMOUS)
    error = NotFound("gone")
    by_writer = app.error(error, REGISTRY.writer(XML))
    by_pair = app.error(error, (REGISTRY.codec(XML), XML))
    assert by_writer.body == by_pair.body and by_writer.body.startswith(b"<Error>")
    patch = app.error(error, REGISTRY.writer(MERGE_PATCH))
    assert patch.header("content-type") == "application/json; charset=utf-8"


class _Echo(BaseCodec):
    media_types: ClassVar[tuple[str, ...]] = ("application/vnd.echo",)

    def _decode(self, body: bytes, schema: Schema | None, media_type: Any, base: Any) -> Any:
        return orjson.loads(body)

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        return orjson.dumps(value)


def test_a_codec_of_ones_own_is_a_document_format() -> None:
    writer = CodecRegistry([_Echo()]).writer("application/vnd.echo")
    assert not writer.is_patch
    assert writer.encode_error({"Message": "x"}) == b'{"Message":"x"}'


# -- the app passes its own options and resources on ---------------------------------


RESOURCES = ResourceTable({"NO": {"SR_TEST_GREETING": "Hei"}, "US": {"SR_TEST_GREETING": "Hi"}})


def greeting_app(**kwargs: Any) -> App:
    def answer(value: Any, ctx: Context) -> Any:
        contact = CONTACT.default()
        contact["Name"] = "[SR_TEST_GREETING]"
        return contact

    return App([Operation("/c", answer, None, CONTACT)], authenticator=ANONYMOUS, **kwargs)


def name_of(response: Response) -> Any:
    assert response.status == 200, response.body
    return orjson.loads(response.body)["Name"]


def test_the_apps_resources_reach_shaping() -> None:
    headers = {"Content-Type": JSON, "SO-Language": "nb"}
    assert name_of(greeting_app(resources=RESOURCES).handle("POST", "/c", "", headers, b"")) == (
        "Hei"
    )
    # the default table has no such text: the reference stays
    assert name_of(greeting_app().handle("POST", "/c", "", headers, b"")) == "[SR_TEST_GREETING]"
    query = "$select=Name"
    selected = greeting_app(resources=RESOURCES).handle("POST", "/c", query, headers, b"")
    assert name_of(selected) == "Hei"


def test_the_apps_options_reach_its_pipelines() -> None:
    options = Options(max_body=50, unknown="error")
    app = greeting_app(resources=RESOURCES, options=options, registry=default_registry())
    # the app's own limit, under a registry whose codecs allow more
    response = app.handle("POST", "/c", "", {"Content-Type": JSON}, b" " * 51)
    assert response.status == 413
    assert orjson.loads(response.body)["Limit"] == 50
    # and its resources, with its options
    headers = {"Content-Type": JSON, "SO-Language": "en"}
    assert name_of(app.handle("POST", "/c", "$select=Name", headers, b" " * 50)) == "Hi"


# -- the CLI runs the same pipeline ----------------------------------------------------


def test_convert_runs_the_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    from negotiate.cli import convert  # imports the server module (for `negotiate serve`)

    runs: list[Plan] = []
    original = Pipeline.run

    def counted(self: Pipeline[Any], plan: Plan, body: bytes, context: Any) -> bytes:
        runs.append(plan)
        return original(self, plan, body, context)

    monkeypatch.setattr(Pipeline, "run", counted)
    contact = sample()
    out = convert(
        orjson.dumps(contact), JSON, XML, CONTACT, select="Name", shaping={"SO-TimeZone": "UTC"}
    )
    (plan,) = runs
    assert isinstance(plan.projector, Projector) and isinstance(plan.shaping, Shaping)
    assert REGISTRY.codec(XML).decode(out, CONTACT)["Name"] == contact["Name"]


def test_errors_are_logged_once_by_the_app(caplog: pytest.LogCaptureFixture) -> None:
    def broken(value: Any, ctx: Context) -> Any:
        raise ZeroDivisionError("a bug")

    app = App([Operation("/c", broken, CONTACT, CONTACT)], authenticator=ANONYMOUS)
    with caplog.at_level(logging.DEBUG, logger="negotiate"):
        response = app.handle("POST", "/c", "", {"Content-Type": JSON}, b"{}")
    assert response.status == 500 and b"a bug" not in response.body
    assert caplog.text.count("Traceback") == 1


def test_a_plain_data_pipeline() -> None:
    pipeline: Pipeline[Any] = Pipeline(None, None, handler=lambda v, c: {"got": v})
    assert orjson.loads(run(pipeline, b"[1, 2]")) == {"got": [1, 2]}
    assert pipeline.options is DEFAULT_OPTIONS
    with pytest.raises(NegotiateError):
        run(pipeline, b"[1, 2]", select="a")
