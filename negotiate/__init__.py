"""negotiate: HTTP content negotiation and serialization of SuperOffice carriers.

The public surface, re-exported here; the modules are:

- :mod:`negotiate.schema`: carrier declarations (:func:`schema_of`) and their compiled schemas;
- :mod:`negotiate.codecs`: JSON, XML, form, JSON Patch, merge patch, and the registry;
- :mod:`negotiate.media`: RFC 9110 media types, Accept and Content-Type;
- :mod:`negotiate.select` and :mod:`negotiate.shaping`: ``$select`` and the SO-* headers;
- :mod:`negotiate.http`, :mod:`negotiate.asgi`, :mod:`negotiate.wsgi`: embedding;
- :mod:`negotiate.errors` and :mod:`negotiate.options`: errors and limits.

The server (:mod:`negotiate.server`, extra ``server``) and the client
(:mod:`negotiate.client`, extra ``client``) are imported from their modules.
"""

from __future__ import annotations

from negotiate.codecs import (
    BaseCodec as BaseCodec,
    Codec as Codec,
    CodecRegistry as CodecRegistry,
    FormCodec as FormCodec,
    JsonCodec as JsonCodec,
    JsonPatchCodec as JsonPatchCodec,
    MergePatchCodec as MergePatchCodec,
    XmlCodec as XmlCodec,
    default_registry as default_registry,
)
from negotiate.errors import (
    BadGateway as BadGateway,
    BodyTooLarge as BodyTooLarge,
    EncodeError as EncodeError,
    GatewayTimeout as GatewayTimeout,
    InvalidValue as InvalidValue,
    MalformedBody as MalformedBody,
    MethodNotAllowed as MethodNotAllowed,
    NegotiateError as NegotiateError,
    NotAcceptable as NotAcceptable,
    NotFound as NotFound,
    NotRepresentable as NotRepresentable,
    PatchConflict as PatchConflict,
    ServiceUnavailable as ServiceUnavailable,
    TooManyPasswordChecks as TooManyPasswordChecks,
    Unauthorized as Unauthorized,
    Unprocessable as Unprocessable,
    UnsupportedMediaType as UnsupportedMediaType,
)
from negotiate.http import App as App, Operation as Operation, Response as Response
from negotiate.media import (
    MEDIA_FORM as MEDIA_FORM,
    MEDIA_JSON as MEDIA_JSON,
    MEDIA_JSON_PATCH as MEDIA_JSON_PATCH,
    MEDIA_MERGE_PATCH as MEDIA_MERGE_PATCH,
    MEDIA_TEXT_JSON as MEDIA_TEXT_JSON,
    MEDIA_TEXT_XML as MEDIA_TEXT_XML,
    MEDIA_XML as MEDIA_XML,
    MediaRange as MediaRange,
    MediaType as MediaType,
    best_match as best_match,
    parse_accept as parse_accept,
    parse_content_type as parse_content_type,
    quality as quality,
)
from negotiate.options import DEFAULT_OPTIONS as DEFAULT_OPTIONS, Options as Options
from negotiate.resources import Resources as Resources, ResourceTable as ResourceTable
from negotiate.schema import (
    SCHEMAS as SCHEMAS,
    DateTime as DateTime,
    Field as Field,
    FieldType as FieldType,
    Guid as Guid,
    Int64 as Int64,
    Kind as Kind,
    Schema as Schema,
    get_schema as get_schema,
    schema_of as schema_of,
)
from negotiate.select import (
    Projector as Projector,
    compile_select as compile_select,
    select as select,
)
from negotiate.shaping import NO_SHAPING as NO_SHAPING, Shaping as Shaping

__all__ = [
    "DEFAULT_OPTIONS",
    "MEDIA_FORM",
    "MEDIA_JSON",
    "MEDIA_JSON_PATCH",
    "MEDIA_MERGE_PATCH",
    "MEDIA_TEXT_JSON",
    "MEDIA_TEXT_XML",
    "MEDIA_XML",
    "NO_SHAPING",
    "SCHEMAS",
    "App",
    "BadGateway",
    "BaseCodec",
    "BodyTooLarge",
    "Codec",
    "CodecRegistry",
    "DateTime",
    "EncodeError",
    "Field",
    "FieldType",
    "FormCodec",
    "GatewayTimeout",
    "Guid",
    "Int64",
    "InvalidValue",
    "JsonCodec",
    "JsonPatchCodec",
    "Kind",
    "MalformedBody",
    "MediaRange",
    "MediaType",
    "MergePatchCodec",
    "MethodNotAllowed",
    "NegotiateError",
    "NotAcceptable",
    "NotFound",
    "NotRepresentable",
    "Operation",
    "Options",
    "PatchConflict",
    "Projector",
    "ResourceTable",
    "Resources",
    "Response",
    "Schema",
    "ServiceUnavailable",
    "Shaping",
    "TooManyPasswordChecks",
    "Unauthorized",
    "Unprocessable",
    "UnsupportedMediaType",
    "XmlCodec",
    "best_match",
    "compile_select",
    "default_registry",
    "get_schema",
    "parse_accept",
    "parse_content_type",
    "quality",
    "schema_of",
    "select",
]
__version__ = "0.1.0"
