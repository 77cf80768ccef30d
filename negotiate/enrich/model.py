"""The enrichment record and the provider protocol.

A provider answers one question: what does the enrichment source know about
the company with this ``EnrichId``? The answer is a :class:`Company`; the
merge into a ContactEntity is in :mod:`negotiate.enrich.merge`.

``Company.to_dict()`` is also the wire format of the remote provider
(:mod:`negotiate.enrich.remote`): a JSON object with these PascalCase keys::

    {"EnrichId": "NO-923609016", "Name": "Nordvik Maskin AS", "OrgNr": "923609016",
     "Country": "NO", "CountryId": 578, "CallingCode": "47", "Business": "Industry",
     "Street": {"Address1": "Storgata 12", "Address2": "", "Address3": "",
                "Zipcode": "0155", "City": "Oslo", "County": "", "State": "",
                "Formatted": "Storgata 12\\n0155 Oslo"},
     "Postal": {...same keys...}, "Formatted": "Storgata 12\\n0155 Oslo\\nNorway",
     "Latitude": 59.91, "Longitude": 10.75,
     "Phones": [{"Value": "+47 22 12 34 56", "Description": "Switchboard"}],
     "Emails": [{"Value": "post@nordvik.no", "Description": "General"}],
     "Url": "https://www.nordvik.no"}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["Company", "ContactPoint", "EnrichmentProvider", "Location"]


@dataclass(frozen=True, slots=True)
class Location:
    """A structured address (street or postal), as the source knows it."""

    address1: str
    address2: str
    address3: str
    zipcode: str
    city: str
    county: str
    state: str
    formatted: str

    def to_dict(self) -> dict[str, str]:
        """The wire form (PascalCase keys)."""
        return {
            "Address1": self.address1,
            "Address2": self.address2,
            "Address3": self.address3,
            "Zipcode": self.zipcode,
            "City": self.city,
            "County": self.county,
            "State": self.state,
            "Formatted": self.formatted,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Location:
        """Read the wire form.

        Raises:
            ValueError: not an object of strings; the message names ``where``.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected an object")
        return cls(
            *(
                _text(data, key, where)
                for key in (
                    "Address1",
                    "Address2",
                    "Address3",
                    "Zipcode",
                    "City",
                    "County",
                    "State",
                    "Formatted",
                )
            )
        )


@dataclass(frozen=True, slots=True)
class ContactPoint:
    """A phone number or an email address with its description."""

    value: str
    description: str

    def to_dict(self) -> dict[str, str]:
        """The wire form."""
        return {"Value": self.value, "Description": self.description}


@dataclass(frozen=True, slots=True)
class Company:
    """What the enrichment source knows about one company.

    Attributes:
        enrich_id: the source's key (``NO-923609016``: country and org number).
        name: the registered name.
        org_nr: the organisation number, as the country writes it.
        country: ISO 3166-1 alpha-2 code.
        country_id: SuperOffice's CountryId (the ISO 3166-1 numeric code).
        calling_code: the country's telephone calling code, without ``+``.
        business: the line of business (SuperOffice's "Business").
        street: the visiting address.
        postal: the postal address (a PO box, or the street address again).
        formatted: the whole address as one text, country last.
        latitude: WGS84 latitude of the street address.
        longitude: WGS84 longitude of the street address.
        phones: phone numbers, international format.
        emails: email addresses.
        url: the web site.
    """

    enrich_id: str
    name: str
    org_nr: str
    country: str
    country_id: int
    calling_code: str
    business: str
    street: Location
    postal: Location
    formatted: str
    latitude: float
    longitude: float
    phones: tuple[ContactPoint, ...]
    emails: tuple[ContactPoint, ...]
    url: str

    def to_dict(self) -> dict[str, Any]:
        """The wire form (see the module docstring)."""
        return {
            "EnrichId": self.enrich_id,
            "Name": self.name,
            "OrgNr": self.org_nr,
            "Country": self.country,
            "CountryId": self.country_id,
            "CallingCode": self.calling_code,
            "Business": self.business,
            "Street": self.street.to_dict(),
            "Postal": self.postal.to_dict(),
            "Formatted": self.formatted,
            "Latitude": self.latitude,
            "Longitude": self.longitude,
            "Phones": [p.to_dict() for p in self.phones],
            "Emails": [e.to_dict() for e in self.emails],
            "Url": self.url,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Company:
        """Read and check the wire form.

        Raises:
            ValueError: a key is missing or of the wrong type; the message names it.
        """
        if not isinstance(data, Mapping):
            raise ValueError("expected a JSON object")
        country_id = data.get("CountryId")
        if type(country_id) is not int:
            raise ValueError("CountryId: expected an integer")
        coords = []
        for key in ("Latitude", "Longitude"):
            value = data.get(key)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError(f"{key}: expected a number")
            if not math.isfinite(value):
                raise ValueError(f"{key}: expected a finite number")
            coords.append(float(value))
        return cls(
            enrich_id=_text(data, "EnrichId", ""),
            name=_text(data, "Name", ""),
            org_nr=_text(data, "OrgNr", ""),
            country=_text(data, "Country", ""),
            country_id=country_id,
            calling_code=_text(data, "CallingCode", ""),
            business=_text(data, "Business", ""),
            street=Location.from_dict(data.get("Street"), "Street"),
            postal=Location.from_dict(data.get("Postal"), "Postal"),
            formatted=_text(data, "Formatted", ""),
            latitude=coords[0],
            longitude=coords[1],
            phones=_points(data.get("Phones"), "Phones"),
            emails=_points(data.get("Emails"), "Emails"),
            url=_text(data, "Url", ""),
        )


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if type(value) is not str:
        raise ValueError(f"{where + '.' if where else ''}{key}: expected a string")
    return value


def _points(data: Any, where: str) -> tuple[ContactPoint, ...]:
    if not isinstance(data, list):
        raise ValueError(f"{where}: expected an array")
    out = []
    for index, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}[{index}]: expected an object")
        out.append(
            ContactPoint(
                _text(item, "Value", f"{where}[{index}]"),
                _text(item, "Description", f"{where}[{index}]"),
            )
        )
    return tuple(out)


@runtime_checkable
class EnrichmentProvider(Protocol):
    """A source of company data, keyed by ``EnrichId``.

    Providers that do I/O which can block (a network call) set a class
    attribute ``blocking = True``; the ASGI adapter then runs requests in a
    worker thread. A provider without the attribute is taken to block.
    """

    def lookup(self, enrich_id: str) -> Company | None:
        """The company with this id, or ``None`` when the source has none.

        Raises:
            BadGateway: the source failed or answered nonsense (502).
            GatewayTimeout: the source did not answer in time (504).
        """
        ...
