"""The registry: codecs by Content-Type (415) and by Accept (406), memoised."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from negotiate.codecs import BaseCodec, CodecRegistry, JsonCodec, default_registry
from negotiate.errors import NotAcceptable, UnsupportedMediaType
from negotiate.media import MEDIA_JSON, MEDIA_TEXT_JSON
from negotiate.schema import Schema

SEED_REQUEST_TYPES = {
    "application/json",
    "text/json",
    "application/xml",
    "text/xml",
    "application/x-www-form-urlencoded",
    "application/json-patch+json",
    "application/merge-patch+json",
}


class PlainText(BaseCodec):
    media_types: ClassVar[tuple[str, ...]] = ("text/plain",)

    def _decode(self, body: bytes, schema: Schema | None, media_type: Any, base: Any) -> Any:
        return body.decode()

    def encode(self, value: Any, schema: Schema | None, *, base: Any = None) -> bytes:
        return str(value).encode()


class EncodeOnly(PlainText):
    media_types: ClassVar[tuple[str, ...]] = ("text/csv",)
    offered: ClassVar[bool] = False


def test_default_registry_serves_the_seed_types() -> None:
    registry = default_registry()
    assert set(registry.request_types) == SEED_REQUEST_TYPES
    assert set(registry.response_types) == SEED_REQUEST_TYPES - {
        "application/x-www-form-urlencoded"
    }
    assert registry.response_types[0] == MEDIA_JSON


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON; charset=UTF-8", "text/json", "text/json;charset=utf-8"],
)
def test_json_content_types_pick_the_json_codec(content_type: str) -> None:
    codec, media_type = default_registry().for_content_type(content_type)
    assert isinstance(codec, JsonCodec)
    assert media_type.essence in (MEDIA_JSON, MEDIA_TEXT_JSON)


@pytest.mark.parametrize("content_type", ["text/plain", "application/pdf", "", "json", "*/*"])
def test_unsupported_content_type_is_415_listing_the_supported_types(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType) as info:
        default_registry().for_content_type(content_type)
    assert info.value.status == 415
    if content_type in ("text/plain", "application/pdf"):
        assert set(info.value.to_dict()["Supported"]) == SEED_REQUEST_TYPES


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("text/json", "text/json"),
        ("application/json; charset=utf-8", "application/json"),
        ("text/*", "text/json"),
        ("application/xml;q=0.9, application/json;q=0.8", "application/xml"),
        ("text/xml", "text/xml"),
        ("application/merge-patch+json", "application/merge-patch+json"),
        ("*/*;q=0.1, application/json;q=0", "text/json"),
    ],
)
def test_accept_picks_the_response_codec(accept: str | None, expected: str) -> None:
    assert default_registry().for_accept(accept)[1] == expected


def test_nothing_acceptable_is_406_listing_the_available_types() -> None:
    with pytest.raises(NotAcceptable) as info:
        default_registry().for_accept("text/html, image/*")
    assert info.value.status == 406
    assert "application/x-www-form-urlencoded" not in info.value.to_dict()["Supported"]
    assert info.value.to_dict()["Supported"][0] == "application/json"


def test_form_is_not_offered_even_when_asked_for() -> None:
    with pytest.raises(NotAcceptable):
        default_registry().for_accept("application/x-www-form-urlencoded")


def test_fallback_option_answers_with_the_default_instead_of_406() -> None:
    registry = CodecRegistry([JsonCodec()], not_acceptable="default")
    assert registry.for_accept("text/html")[1] == MEDIA_JSON


def test_registering_clears_the_memo_and_extends_both_sides() -> None:
    registry = CodecRegistry([JsonCodec()])
    with pytest.raises(NotAcceptable):
        registry.for_accept("text/plain")
    with pytest.raises(UnsupportedMediaType):
        registry.for_content_type("text/plain")
    registry.register(PlainText())
    assert registry.for_accept("text/plain")[1] == "text/plain"
    assert isinstance(registry.for_content_type("text/plain")[0], PlainText)


def test_encode_only_codecs_read_but_are_not_offered() -> None:
    registry = CodecRegistry([JsonCodec(), EncodeOnly()])
    assert "text/csv" in registry.request_types
    assert "text/csv" not in registry.response_types
    assert isinstance(registry.codec("text/csv"), EncodeOnly)


def test_memo_returns_the_same_answer() -> None:
    registry = default_registry()
    first = registry.for_accept("application/xml")
    assert registry.for_accept("application/xml") is first
