"""The endpoint's facts: what SuperOffice's WebAPI names, shared by server and client.

The two agent operations, the carriers each takes and answers (names for
:func:`negotiate.schema.get_schema`), and the ``SO-*`` request headers, as
``superoffice/WIRE.md`` records them, and the reference page's sample
ContactEntity. Only constants (and the sample's bytes): this module imports
nothing of the package, so the client knows the endpoint without loading the server.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

__all__ = [
    "APP_TOKEN_HEADER",
    "CULTURE_HEADER",
    "ENRICH_PATH",
    "ENRICH_REQUEST",
    "ENRICH_RESPONSE",
    "LANGUAGE_HEADER",
    "PREVIEW_PATH",
    "PREVIEW_REQUEST",
    "PREVIEW_RESPONSE",
    "TIMEZONE_HEADER",
    "sample_contact",
]

ENRICH_PATH: Final = "/api/v1/Agents/Contact/EnrichContactEntity"
"""``POST``: a ContactEntity and an ``EnrichId`` in, the enriched ContactEntity out."""

ENRICH_REQUEST: Final = "EnrichContactEntityRequest"
"""The carrier :data:`ENRICH_PATH` takes: ``{"ContactEntity": ..., "EnrichId": ...}``."""

ENRICH_RESPONSE: Final = "ContactEntity"
"""The carrier :data:`ENRICH_PATH` answers."""

PREVIEW_PATH: Final = "/api/v1/Agents/Contact/GetPreviewEnrichContact"
"""``POST``: an ``EnrichId`` in, a preview of the company out."""

PREVIEW_REQUEST: Final = "GetPreviewEnrichContactRequest"
"""The carrier :data:`PREVIEW_PATH` takes: ``{"EnrichId": ...}``."""

PREVIEW_RESPONSE: Final = "PreviewContact"
"""The carrier :data:`PREVIEW_PATH` answers."""

APP_TOKEN_HEADER: Final = "SO-AppToken"
"""The request header that carries a partner application's token."""

TIMEZONE_HEADER: Final = "SO-TimeZone"
"""The zone date-times are answered in (:mod:`negotiate.shaping`)."""

LANGUAGE_HEADER: Final = "SO-Language"
"""The language multi-language values are answered in (over ``Accept-Language``)."""

CULTURE_HEADER: Final = "SO-Culture"
"""The formatting culture of values answered as strings."""


def sample_contact() -> bytes:
    """The reference page's sample ContactEntity as JSON (``data/contact-sample.json``)."""
    return resources.files("negotiate").joinpath("data/contact-sample.json").read_bytes()
