"""The error tree: statuses, locations, the SuperOffice error shape."""

from __future__ import annotations

import pytest

from negotiate.errors import (
    BadGateway,
    BodyTooLarge,
    EncodeError,
    GatewayTimeout,
    InvalidValue,
    MalformedBody,
    MethodNotAllowed,
    NegotiateError,
    NotAcceptable,
    NotFound,
    PatchConflict,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (MalformedBody, 400),
        (InvalidValue, 400),
        (Unauthorized, 401),
        (NotFound, 404),
        (MethodNotAllowed, 405),
        (NotAcceptable, 406),
        (PatchConflict, 409),
        (BodyTooLarge, 413),
        (UnsupportedMediaType, 415),
        (Unprocessable, 422),
        (EncodeError, 500),
        (BadGateway, 502),
        (GatewayTimeout, 504),
    ],
)
def test_each_error_carries_its_status(error: type[NegotiateError], status: int) -> None:
    exc = error("message")
    assert exc.status == status
    assert isinstance(exc, NegotiateError)


def test_to_dict_is_the_superoffice_agent_shape_plus_details() -> None:
    exc = UnsupportedMediaType("Unsupported Content-Type 'text/plain'", supported=["a/b"])
    assert exc.to_dict() == {
        "Message": "Unsupported Media Type",
        "MessageDetail": "Unsupported Content-Type 'text/plain'",
        "Status": 415,
        "Location": "",
        "Supported": ["a/b"],
    }


def test_location_is_in_the_message_and_the_dict() -> None:
    exc = InvalidValue("Expected int32, got str 'x'", location="/Persons/0/Rank")
    assert str(exc) == "Expected int32, got str 'x' - at /Persons/0/Rank"
    assert exc.to_dict()["Location"] == "/Persons/0/Rank"
    assert exc.to_dict()["MessageDetail"] == str(exc)


def test_at_prefixes_escaped_pointer_segments() -> None:
    exc = InvalidValue("bad", location="/Rank")
    exc.at("Persons", 1).at("a/b~c")
    assert exc.location == "/a~1b~0c/Persons/1/Rank"


def test_invalid_value_is_a_malformed_body() -> None:
    assert issubclass(InvalidValue, MalformedBody)
