"""How an enrichment record is merged into a ContactEntity.

The rules (what SuperOffice's reference page says the agent does, "update the
contact with address, phone number, and email"):

* **Address: replaced.** ``Address.Street``, ``Address.Postal`` and
  ``Address.Formatted`` come from the record, as do ``Wgs84Latitude`` and
  ``Wgs84Longitude``. ``LocalizedAddress`` is set to null: it is a rendering
  of the old address for a country's layout and would contradict the new
  one. The old address's ``TableRight`` and ``FieldProperties`` (access
  rights, not address data) are kept.
* **Phones and emails: added when new.** Each of the record's phone numbers
  and email addresses is appended to ``Phones`` / ``Emails`` unless the
  contact already has it. Phones compare on their national number: digits
  only, a leading ``00`` read as ``+``, the record's country calling code
  dropped from international numbers and a national trunk ``0`` dropped
  (``+47 22 12 34 56``, ``0047 22123456`` and ``22 12 34 56`` are one number
  for a Norwegian company; ``+46 8 123 456 78`` and ``08-123 456 78`` for a
  Swedish one). Emails compare case-folded, without surrounding white space.
  Existing entries (and nulls in the arrays) stay, in their order.
* **Everything else: kept,** including ``Name``, ``OrgNr``, ``Urls`` and
  ``UpdatedDate``: the enrichment is a suggestion the CRM user saves, not a
  save itself.

A null ContactEntity is enriched as ``ContactEntity``'s default instance.
The input is never modified; the result shares untouched parts with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from negotiate.enrich.model import Company, ContactPoint, Location
from negotiate.schema import get_schema

__all__ = ["email_key", "enrich_contact", "phone_key", "preview_contact"]

_CONTACT = get_schema("ContactEntity")
_PREVIEW = get_schema("PreviewContact")
# PERF: bytes.translate deleting every non-digit byte is ~10x faster than re.sub(r"\D").
_NON_DIGIT_BYTES = bytes(b for b in range(256) if not 0x30 <= b <= 0x39)
_PREPARED_LIMIT = 4096


def phone_key(value: str, calling_code: str) -> str:
    """The comparison key of a phone number (see the module docstring).

    Args:
        value: the number as written.
        calling_code: the country calling code of the company (``"47"``).

    Returns:
        The national number's digits, or ``+`` and all digits for a number
        of another country; ``""`` when there are no digits.
    """
    text = value.strip()
    digits = _digits(text)
    international = text.lstrip("( \t").startswith("+")  # "(+47) 22 ..." too
    if digits.startswith("00"):
        digits = digits[2:]
        international = True
    if international:
        if calling_code and digits.startswith(calling_code):
            digits = digits[len(calling_code) :]
        else:
            return "+" + digits
    # NOTE: the trunk prefix (0 in SE, FI, DK's old plan, DE, NL, GB) is dropped when
    # dialling from abroad, so the national number without it is the comparable part.
    if digits.startswith("0"):
        digits = digits[1:]
    return digits


# PERF: a contact's own phones are keyed on every request that enriches it (0.5 µs
# each); the keys of short numbers are remembered, per calling code. NOTE: only short
# ones, so that the table stays small whatever clients send; cleared when full.
_PHONE_KEYS: dict[tuple[str, str], str] = {}
_PHONE_KEYS_LIMIT = 4096
_PHONE_KEY_TEXT = 64


def _phone_key(value: str, calling_code: str) -> str:
    """:func:`phone_key`, remembered for short numbers."""
    memo = (value, calling_code)
    found = _PHONE_KEYS.get(memo)
    if found is None:
        found = phone_key(value, calling_code)
        if len(value) <= _PHONE_KEY_TEXT:
            if len(_PHONE_KEYS) >= _PHONE_KEYS_LIMIT:
                _PHONE_KEYS.clear()  # NOTE: atomic under threads, unlike evicting one entry
            _PHONE_KEYS[memo] = found
    return found


def email_key(value: str) -> str:
    """The comparison key of an email address: stripped and case-folded."""
    return value.strip().casefold()


def enrich_contact(contact: dict[str, Any] | None, company: Company) -> dict[str, Any]:
    """The contact updated with the record, by the rules of the module docstring.

    Args:
        contact: a normalised ContactEntity, or ``None``.
        company: the enrichment record.

    Returns:
        A new normalised ContactEntity; ``contact`` is not modified.
    """
    # PERF: the memo's hit inline (see _prepared), a call fewer per request
    prepared = _PREPARED.get(company.enrich_id)
    if prepared is None or prepared.company is not company:
        prepared = _prepared(company)
    if contact is None:
        return prepared.new_contact()
    result = dict(contact)
    result["Address"] = prepared.address(result.get("Address"))
    result["Phones"] = _added(result.get("Phones"), prepared.phones, prepared.phone_key)
    result["Emails"] = _added(result.get("Emails"), prepared.emails, email_key)
    return result


class _Points:
    """A record's phones or emails, ready to merge: each with its comparison key."""

    __slots__ = ("first", "keyed")

    def __init__(self, keyed: list[tuple[str, dict[str, Any]]]) -> None:
        # (comparison key, EntityElement) in the record's order
        self.keyed = keyed
        # PERF: what a contact without any gets: each distinct key once, built here
        # instead of per request (the merge copies the elements, never shares them).
        seen: set[str] = set()
        self.first: list[dict[str, Any]] = []
        for key, element in keyed:
            if key and key not in seen:
                seen.add(key)
                self.first.append(element)


class _Prepared:
    """What the merge needs of one record, built once per record (see :func:`_prepared`)."""

    __slots__ = (
        "blank",
        "company",
        "emails",
        "new_emails",
        "new_phones",
        "phone_key",
        "phones",
        "postal",
        "street",
    )

    def __init__(self, company: Company) -> None:
        self.company = company
        code = company.calling_code
        self.phone_key: Callable[[str], str] = lambda value: _phone_key(value, code)
        self.phones = _Points(
            [(phone_key(p.value, code), _element(p, _e164(p.value))) for p in company.phones]
        )
        self.emails = _Points(
            [(email_key(e.value), _element(e, e.value.strip())) for e in company.emails]
        )
        self.street = _structured(company.street, "ContactStreetAddress")
        self.postal = _structured(company.postal, "ContactPostalAddress")
        self.blank = _CONTACT.default()
        # what a contact without phones (emails) gets, None when the record has none
        self.new_phones = self.phones.first if self.phones.keyed else None
        self.new_emails = self.emails.first if self.emails.keyed else None

    def new_contact(self) -> dict[str, Any]:
        """What a null contact becomes: the default with the record's address, phones
        and emails (the merge's rules on nothing to keep)."""
        # PERF: one shallow copy of the default held here, then the three parts; the
        # same as merging into a fresh default, without the comparisons.
        result = self.blank.copy()
        result["Address"] = self.address(None)
        phones, emails = self.new_phones, self.new_emails
        if phones is not None:
            result["Phones"] = list(map(dict.copy, phones))
        if emails is not None:
            result["Emails"] = list(map(dict.copy, emails))
        return result

    def address(self, old: dict[str, Any] | None) -> dict[str, Any]:
        """A new Address of the record, keeping the old one's access rights."""
        company = self.company
        # PERF: dict.copy of the prepared street and postal parts, not a rebuild.
        return {
            "Wgs84Latitude": company.latitude,
            "Wgs84Longitude": company.longitude,
            "LocalizedAddress": None,
            "Street": self.street.copy(),
            "Postal": self.postal.copy(),
            "Formatted": company.formatted,
            "TableRight": old.get("TableRight") if old else None,
            "FieldProperties": old.get("FieldProperties") if old else None,
        }


_PREPARED: dict[str, _Prepared] = {}


def _prepared(company: Company) -> _Prepared:
    """The merge's view of a record, remembered by EnrichId."""
    # PERF: providers hand out the same Company object for an id (they cache), so the
    # keys and elements are worth building once; the merge copies what it hands out.
    cached = _PREPARED.get(company.enrich_id)
    if cached is not None and cached.company is company:
        return cached
    prepared = _Prepared(company)
    if len(_PREPARED) >= _PREPARED_LIMIT:
        _PREPARED.clear()  # NOTE: atomic under threads, unlike evicting one entry
    _PREPARED[company.enrich_id] = prepared
    return prepared


def _element(point: ContactPoint, stripped: str) -> dict[str, Any]:
    return {
        "Value": point.value,
        "StrippedValue": stripped,
        "Description": point.description,
        "TableRight": None,
        "FieldProperties": None,
    }


def preview_contact(company: Company) -> dict[str, Any]:
    """The PreviewContact of a record (GetPreviewEnrichContact's answer).

    ``ContactId`` is 0 (the company is not in the CRM); ``Number2`` carries
    the organisation number (PreviewContact has no ``OrgNr``); ``DirectPhone``,
    ``EmailAddress`` and ``URL`` are the first of each; ``BusinessName`` is
    the line of business; ``CategoryName`` and ``AssociateFullName`` are CRM
    notions the source does not have (null).

    Args:
        company: the enrichment record.

    Returns:
        A normalised PreviewContact.
    """
    preview = _PREVIEW.default()
    preview.update(
        Name=company.name,
        Department="",
        CountryId=company.country_id,
        Number2=company.org_nr,
        DirectPhone=company.phones[0].value if company.phones else None,
        URL=company.url or None,
        EmailAddress=company.emails[0].value if company.emails else None,
        BusinessName=company.business or None,
        Address=_prepared(company).address(None),
    )
    return preview


def _structured(location: Location, kind: str) -> dict[str, Any]:
    return {
        "AtypeIdx": kind,
        "Address1": location.address1,
        "Address2": location.address2,
        "Address3": location.address3,
        "City": location.city,
        "County": location.county,
        "State": location.state,
        "Zipcode": location.zipcode,
        "Formatted": location.formatted,
    }


def _e164(value: str) -> str:
    """A phone's StrippedValue: its digits, with ``+`` when it is international."""
    plus = "+" if value.lstrip("( \t").startswith("+") else ""
    return plus + _digits(value)


def _digits(value: str) -> str:
    return value.encode("ascii", "ignore").translate(None, _NON_DIGIT_BYTES).decode("ascii")


def _added(existing: list[Any] | None, new: _Points, key: Callable[[str], str]) -> list[Any] | None:
    if not new.keyed:
        return existing
    if not existing:
        # PERF: nothing to compare with (a null or new contact): copies of the prepared
        # list, made in C.
        return list(map(dict.copy, new.first))
    seen = set()
    for element in existing:
        if element is None:
            continue
        text = element.get("Value") or element.get("StrippedValue")
        if text:
            seen.add(key(text))
    out = list(existing)
    for k, element in new.keyed:
        if not k or k in seen:
            continue
        seen.add(k)
        out.append(element.copy())
    return out
