"""Enrichment: company data keyed by ``EnrichId``, merged into a ContactEntity.

* :class:`EnrichmentProvider`: the protocol, ``lookup(enrich_id) -> Company | None``.
* :class:`EmbeddedProvider`: the default, a SQLite file shipped in the package.
* :class:`HttpProvider`: a remote service, with timeouts and bounded retries
  (its failures are 502 and 504: :class:`~negotiate.errors.BadGateway` and
  :class:`~negotiate.errors.GatewayTimeout`, re-exported here).
* :func:`enrich_contact` and :func:`preview_contact`: the merge rules
  (see :mod:`negotiate.enrich.merge`).
"""

from __future__ import annotations

from negotiate.enrich.embedded import EmbeddedProvider as EmbeddedProvider
from negotiate.enrich.merge import (
    email_key as email_key,
    enrich_contact as enrich_contact,
    phone_key as phone_key,
    preview_contact as preview_contact,
)
from negotiate.enrich.model import (
    Company as Company,
    ContactPoint as ContactPoint,
    EnrichmentProvider as EnrichmentProvider,
    Location as Location,
)
from negotiate.enrich.remote import HttpProvider as HttpProvider
from negotiate.errors import BadGateway as BadGateway, GatewayTimeout as GatewayTimeout

__all__ = [
    "BadGateway",
    "Company",
    "ContactPoint",
    "EmbeddedProvider",
    "EnrichmentProvider",
    "GatewayTimeout",
    "HttpProvider",
    "Location",
    "email_key",
    "enrich_contact",
    "phone_key",
    "preview_contact",
]
