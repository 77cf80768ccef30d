"""Django REST framework: ``negotiate.integrations.django`` against DRF's own JSON path.

Both sides are DRF ``APIView`` s under Django's WSGI handler, with the same
settings (no authentication, no permissions) and the same work on
``POST /api/v1/Agents/Contact/EnrichContactEntity``: decode the full sample
request, enrich it from the embedded provider, encode the contact.

- ``negotiate``: :class:`~negotiate.integrations.django.NegotiateMixin` naming the
  carriers; ``request.data`` is the decoded, normalised request carrier.
- ``native``: DRF's ``JSONParser`` and ``JSONRenderer``, with a ``Serializer``
  per carrier (generated from the same schemas, as ``benches/pydantic_models.py``
  does for pydantic) validating the request and serializing the answer, the
  usual DRF way.

Caveats: the native serializers validate less than negotiate does (names are
bound case-sensitively, date-times are only matched by a pattern, enum case is
not normalised, flag combinations are not checked). Most of the native side's
time is DRF's own design, not this module's: a serializer deep-copies its field
tree (about 450 fields for this request's carriers) on every instance, twice per
request (validate, then represent); in process, on the 2-core machine, about
0.6 ms a request for negotiate against 22 ms for the serializers. Run
``python -m benches.frameworks.django`` for the correctness check alone.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import django
import orjson
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=["rest_framework"],
        ROOT_URLCONF=__name__,
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "DEFAULT_PERMISSION_CLASSES": [],
            "UNAUTHENTICATED_USER": None,
        },
    )
    django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402 - after settings
from django.urls import path  # noqa: E402
from rest_framework import serializers  # noqa: E402
from rest_framework.parsers import JSONParser  # noqa: E402
from rest_framework.renderers import JSONRenderer  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from benches.pydantic_models import DATETIME_PATTERN  # noqa: E402
from negotiate.enrich import EmbeddedProvider, enrich_contact  # noqa: E402
from negotiate.errors import InvalidValue, NotFound  # noqa: E402
from negotiate.integrations.django import NegotiateMixin  # noqa: E402
from negotiate.schema import FieldType, Kind, Schema, get_schema  # noqa: E402

__all__ = ["APPS", "REQUEST", "check"]

ENRICH_PATH = "/api/v1/Agents/Contact/EnrichContactEntity"
SAMPLE = Path(__file__).resolve().parents[2] / "negotiate" / "data" / "contact-sample.json"
ENRICH_ID = "NO-800099668"
CONTACT = get_schema("ContactEntity")
WRAPPER = get_schema("EnrichContactEntityRequest")
PROVIDER = EmbeddedProvider()

REQUEST = (
    ENRICH_PATH,
    {"Content-Type": "application/json", "Accept": "application/json"},
    orjson.dumps({"ContactEntity": orjson.loads(SAMPLE.read_bytes()), "EnrichId": ENRICH_ID}),
)


def _company(enrich_id: Any) -> Any:
    if not enrich_id:
        raise InvalidValue("EnrichId is required", location="/EnrichId")
    company = PROVIDER.lookup(enrich_id)
    if company is None:
        raise NotFound(f"Unknown EnrichId {enrich_id!r}", location="/EnrichId")
    return company


# -- negotiate ------------------------------------------------------------------------


class NegotiateEnrich(NegotiateMixin, APIView):  # type: ignore[misc]
    negotiate_request = WRAPPER
    negotiate_response = CONTACT

    def post(self, request: Request) -> Response:
        value = request.data
        return Response(enrich_contact(value["ContactEntity"], _company(value["EnrichId"])))

    def negotiate_response_base(self, value: dict[str, Any]) -> Any:
        return value["ContactEntity"]


# -- native: DRF serializers of the same carriers -----------------------------------------


class _Lazy(serializers.Field):  # type: ignore[misc]
    """A recursive carrier's field: its serializer, found when first used."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.carrier = name
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        found = _SERIALIZERS[self.carrier](data=data)
        found.is_valid(raise_exception=True)
        return found.validated_data

    def to_representation(self, value: Any) -> Any:
        return _SERIALIZERS[self.carrier](value).data


_SERIALIZERS: dict[str, type[serializers.Serializer]] = {}
_BUILDING: set[str] = set()


def _serializer(schema: Schema) -> type[serializers.Serializer]:
    found = _SERIALIZERS.get(schema.name)
    if found is None:
        _BUILDING.add(schema.name)
        fields = {f.name: _field(f.type, nullable=True) for f in schema.fields}
        found = type(f"{schema.name}Serializer", (serializers.Serializer,), fields)
        _SERIALIZERS[schema.name] = found
        _BUILDING.discard(schema.name)
    return found


def _field(ftype: FieldType, *, nullable: bool) -> Any:
    """A DRF field for one type; ``nullable``: a property (with its default), not an item."""
    kind = ftype.kind
    options: dict[str, Any] = {"default": ftype.default()} if nullable else {}
    if kind is Kind.INT32:
        return serializers.IntegerField(min_value=-(2**31), max_value=2**31 - 1, **options)
    if kind is Kind.DOUBLE:
        return serializers.FloatField(**options)
    if kind is Kind.BOOL:
        return serializers.BooleanField(**options)
    if kind is Kind.DATETIME:
        return serializers.RegexField(DATETIME_PATTERN, **options)
    if kind is Kind.ENUM:
        assert ftype.enum is not None
        if ftype.enum.flags:
            return serializers.CharField(**options)
        return serializers.ChoiceField(choices=list(ftype.enum.values), **options)
    if nullable:
        options["allow_null"] = True
    if kind is Kind.STRING:
        return serializers.CharField(allow_blank=True, trim_whitespace=False, **options)
    if kind is Kind.CARRIER:
        if ftype.carrier in _BUILDING:
            return _Lazy(ftype.carrier, **options)
        return _serializer(ftype.schema)(**options)
    assert ftype.item is not None
    item = _field(ftype.item, nullable=False)
    if kind is Kind.ARRAY:
        return serializers.ListField(child=item, **options)
    return serializers.DictField(child=item, **options)


RequestSerializer = _serializer(WRAPPER)
ContactSerializer = _serializer(CONTACT)


class NativeEnrich(APIView):  # type: ignore[misc]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def post(self, request: Request) -> Response:
        sent = RequestSerializer(data=request.data)
        sent.is_valid(raise_exception=True)
        value = sent.validated_data
        contact = enrich_contact(value["ContactEntity"], _company(value["EnrichId"]))
        return Response(ContactSerializer(contact).data)


# -- the two applications -----------------------------------------------------------------


class _Urls:
    """A URLconf of one route (Django takes any object with ``urlpatterns``)."""

    def __init__(self, view: Any) -> None:
        self.urlpatterns = [path(ENRICH_PATH.lstrip("/"), view.as_view())]


class _Handler(WSGIHandler):  # type: ignore[misc]
    """Django's WSGI handler over one URLconf, so that both sides share the settings."""

    def __init__(self, urls: _Urls) -> None:
        super().__init__()
        self.urls = urls

    def get_response(self, request: Any) -> Any:
        request.urlconf = self.urls
        return super().get_response(request)


urlpatterns: list[Any] = []

APPS: dict[str, tuple[str, object]] = {
    "negotiate": ("wsgi", _Handler(_Urls(NegotiateEnrich))),
    "native": ("wsgi", _Handler(_Urls(NativeEnrich))),
}


def _call(app: Any) -> tuple[str, bytes]:
    path_, headers, body = REQUEST
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path_,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": headers["Content-Type"],
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_ACCEPT": headers["Accept"],
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    answer: list[str] = []

    def start_response(status: str, response_headers: Any, exc_info: Any = None) -> Any:
        answer.append(status)
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return answer[0], content


def check() -> None:
    """Both sides answer 200 with the same contact (the enriched sample)."""
    answers = {side: _call(app) for side, (_, app) in APPS.items()}
    for side, (status, _) in answers.items():
        if not status.startswith("200"):
            raise AssertionError(f"{side} answered {status}: {answers[side][1][:300]!r}")
    ours, theirs = (orjson.loads(answers[side][1]) for side in ("negotiate", "native"))
    if ours != theirs:
        differ = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
        raise AssertionError(f"the two sides answer different contacts: {differ}")
    expected = enrich_contact(
        CONTACT.normalize(orjson.loads(SAMPLE.read_bytes())), _company(ENRICH_ID)
    )
    if ours != expected:
        raise AssertionError("the answer is not the enriched sample")


if __name__ == "__main__":
    check()
    print("django: both sides answer the enriched sample")
