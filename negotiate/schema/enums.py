"""The SuperOffice enums the carriers use, declared once.

Values travel as names: a plain enum as one name (``"InternalAssociate"``),
a flag enum as a combination of names (JSON ``"Read, Write"``, XML
``Read Write``). The functional form is used because ``None`` is a member
name in both flag enums.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

__all__ = ["AddressType", "EFieldRight", "ETableRight", "UserType"]

UserType = IntEnum(
    "UserType",
    {
        "Unknown": 0,
        "InternalAssociate": 1,
        "ResourceAssociate": 2,
        "ExternalAssociate": 3,
        "AnonymousAssociate": 4,
        "SystemAssociate": 5,
    },
)

AddressType = IntEnum(
    "AddressType",
    {
        "Unknown": 0,
        "ContactPostalAddress": 1,
        "ContactStreetAddress": 2,
        "QuoteBillingAddress": 8196,
        "QuoteShippingAddress": 8197,
        "PersonPrivateAddress": 16387,
    },
)

ETableRight = IntFlag(
    "ETableRight",
    {
        "None": 0,
        "Select": 1,
        "R": 1,
        "Update": 2,
        "UR": 3,
        "Insert": 4,
        "RI": 5,
        "URI": 7,
        "Delete": 8,
        "UDR": 11,
        "FULL": 15,
        "Filtering": 16,
        "F": 16,
        "RF": 17,
        "FI": 20,
        "RestrictedUpdate": 32,
        "Unused1": 64,
        "Uninitialized": 128,
    },
)

EFieldRight = IntFlag(
    "EFieldRight",
    {
        "None": 0,
        "Read": 1,
        "Write": 2,
        "Update": 3,
        "Unused1": 4,
        "Unused2": 8,
        "Unused3": 16,
        "Unused4": 32,
        "Nullable": 32,
        "UIHintMandatory": 64,
        "UIHintReadOnly": 128,
        "UIHints": 192,
        "UndefinedValue256": 256,
    },
)
