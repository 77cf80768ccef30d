"""The SuperOffice carriers, declared once as TypedDicts.

A carrier is a plain dict keyed by the wire's PascalCase names. The field
order here is the wire's declaration order, and the annotations are the type
vocabulary that :mod:`negotiate.schema.compiled` compiles:

- ``int`` is a .NET ``Int32`` (range-checked), ``float`` a ``Double``,
  ``bool`` a ``Boolean``;
- ``DateTime`` is a date-time kept as its exact text (7 fractional digits and
  the offset survive);
- ``Annotated[str, SomeEnum]`` is an enum travelling by name;
- ``str | None``, carriers, lists and dicts are .NET reference types and may
  be null.

They are the built-in catalogue: compiled on first use by the same reader as any
user's carrier (:func:`negotiate.schema.schema_of`), found by name with
:func:`negotiate.schema.get_schema`. Their DataContract namespace is SuperOffice's,
declared once for the module (as ``[assembly: ContractNamespace]`` does in .NET).

``tests/test_schema.py`` checks these declarations against SuperOffice's
``carriers.json`` so the two cannot drift.
"""

from __future__ import annotations

from typing import Annotated, TypedDict

from negotiate.schema.enums import AddressType, EFieldRight, ETableRight, UserType
from negotiate.schema.vocabulary import DateTime

__datacontract_namespace__ = "http://www.superoffice.net/ws/crm/NetServer/Services88"


class EnrichContactEntityRequest(TypedDict):
    ContactEntity: ContactEntity | None
    EnrichId: str | None


class ContactEntity(TypedDict):
    ContactId: int
    Name: str | None
    Department: str | None
    OrgNr: str | None
    Number1: str | None
    Number2: str | None
    UpdatedDate: DateTime
    CreatedDate: DateTime
    Emails: list[EntityElement | None] | None
    Interests: list[SelectableMDOListItem | None] | None
    Urls: list[EntityElement | None] | None
    Phones: list[EntityElement | None] | None
    Faxes: list[EntityElement | None] | None
    Description: str | None
    UpdatedBy: Associate | None
    CreatedBy: Associate | None
    Associate: Associate | None
    Business: Business | None
    Category: Category | None
    Country: Country | None
    Persons: list[Person | None] | None
    NoMailing: bool
    Kananame: str | None
    Xstop: bool
    ActiveInterests: int
    GroupId: int
    ActiveStatusMonitorId: int
    SupportAssociate: Associate | None
    TicketPriority: TicketPriority | None
    CustomerLanguage: CustomerLanguage | None
    Deleted: int
    DbiAgentId: int
    DbiLastSyncronized: DateTime
    DbiKey: str | None
    DbiLastModified: DateTime
    SupportPerson: Person | None
    Address: Address | None
    Source: int
    ActiveErpLinks: int
    BounceEmails: list[str | None] | None
    Domains: list[str | None] | None
    UtmParameters: SavedUtmParameters | None
    UserDefinedFields: dict[str, str | None] | None
    ExtraFields: dict[str, str | None] | None
    CustomFields: dict[str, str | None] | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class Associate(TypedDict):
    AssociateId: int
    Name: str | None
    PersonId: int
    Rank: int
    Tooltip: str | None
    Type: Annotated[str, UserType]
    GroupIdx: int
    FullName: str | None
    FormalName: str | None
    Deleted: bool
    EjUserId: int
    UserName: str | None
    ExtraFields: dict[str, str | None] | None
    CustomFields: dict[str, str | None] | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class Business(TypedDict):
    Id: int
    Value: str | None
    Tooltip: str | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class Category(TypedDict):
    Id: int
    Value: str | None
    Tooltip: str | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class TicketPriority(TypedDict):
    Id: int
    Value: str | None
    Tooltip: str | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class CustomerLanguage(TypedDict):
    Id: int
    Value: str | None
    Tooltip: str | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class Country(TypedDict):
    CountryId: int
    Name: str | None
    CurrencyId: int
    EnglishName: str | None
    TwoLetterISOCountry: str | None
    ThreeLetterISOCountry: str | None
    ImageDescription: str | None
    OrgNrText: str | None
    InterAreaPrefix: str | None
    DialInPrefix: str | None
    ZipPrefix: str | None
    DomainName: str | None
    AddressLayoutId: int
    DomesticAddressLayoutId: int
    ForeignAddressLayoutId: int
    Rank: int
    Tooltip: str | None
    Deleted: bool
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class Person(TypedDict):
    Position: str | None
    PersonId: int
    Mrmrs: str | None
    Firstname: str | None
    Lastname: str | None
    MiddleName: str | None
    Title: str | None
    Description: str | None
    Email: str | None
    FullName: str | None
    DirectPhone: str | None
    FormalName: str | None
    CountryId: int
    ContactId: int
    ContactName: str | None
    Retired: int
    Rank: int
    ActiveInterests: int
    ContactDepartment: str | None
    ContactCountryId: int
    ContactOrgNr: str | None
    FaxPhone: str | None
    MobilePhone: str | None
    ContactPhone: str | None
    AssociateName: str | None
    AssociateId: int
    UsePersonAddress: bool
    ContactFax: str | None
    Kanafname: str | None
    Kanalname: str | None
    Post1: str | None
    Post2: str | None
    Post3: str | None
    EmailName: str | None
    ContactFullName: str | None
    ActiveErpLinks: int
    TicketPriorityId: int
    SupportLanguageId: int
    SupportAssociateId: int
    CategoryName: str | None
    PersonNumber: str | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class Address(TypedDict):
    Wgs84Latitude: float
    Wgs84Longitude: float
    LocalizedAddress: list[list[LocalizedField | None] | None] | None
    Street: StructuredAddress | None
    Postal: StructuredAddress | None
    Formatted: str | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class StructuredAddress(TypedDict):
    AtypeIdx: Annotated[str, AddressType]
    Address1: str | None
    Address2: str | None
    Address3: str | None
    City: str | None
    County: str | None
    State: str | None
    Zipcode: str | None
    Formatted: str | None


class LocalizedField(TypedDict):
    Name: str | None
    Value: str | None
    Tooltip: str | None
    Label: str | None
    ValueLength: int
    AddressType: str | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class EntityElement(TypedDict):
    Value: str | None
    StrippedValue: str | None
    Description: str | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class SelectableMDOListItem(TypedDict):
    Id: int
    Name: str | None
    ToolTip: str | None
    Deleted: bool
    Rank: int
    Type: str | None
    ColorBlock: int
    IconHint: str | None
    Selected: bool
    LastChanged: DateTime
    ChildItems: list[SelectableMDOListItem | None] | None
    ExtraInfo: str | None
    StyleHint: str | None
    Hidden: bool
    FullName: str | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class SavedUtmParameters(TypedDict):
    FormName: str | None
    FirsttouchSource: str | None
    FirsttouchMedium: str | None
    FirsttouchCampaign: str | None
    FirsttouchTerm: str | None
    FirsttouchContent: str | None
    FirsttouchReferrerDomain: str | None
    Source: str | None
    Medium: str | None
    Campaign: str | None
    Term: str | None
    Content: str | None
    ReferrerDomain: str | None
    TableRight: TableRight | None
    FieldProperties: dict[str, FieldProperty | None] | None


class TableRight(TypedDict):
    Mask: Annotated[str, ETableRight]
    Reason: str | None


class FieldProperty(TypedDict):
    FieldRight: FieldRight | None
    FieldType: str | None
    FieldLength: int


class FieldRight(TypedDict):
    Mask: Annotated[str, EFieldRight]
    Reason: str | None


class PreviewContact(TypedDict):
    """Not in carriers.json: fields from WIRE.md ("The endpoint"), types from ContactEntity."""

    ContactId: int
    Name: str | None
    Department: str | None
    CountryId: int
    Number2: str | None
    DirectPhone: str | None
    URL: str | None
    EmailAddress: str | None
    BusinessName: str | None
    CategoryName: str | None
    AssociateFullName: str | None
    Address: Address | None


class GetPreviewEnrichContactRequest(TypedDict):
    """The request wrapper of GetPreviewEnrichContact (``{"EnrichId"}``)."""

    EnrichId: str | None


CARRIERS: tuple[type, ...] = (
    EnrichContactEntityRequest,
    ContactEntity,
    Associate,
    Business,
    Category,
    TicketPriority,
    CustomerLanguage,
    Country,
    Person,
    Address,
    StructuredAddress,
    LocalizedField,
    EntityElement,
    SelectableMDOListItem,
    SavedUtmParameters,
    TableRight,
    FieldProperty,
    FieldRight,
    PreviewContact,
    GetPreviewEnrichContactRequest,
)
