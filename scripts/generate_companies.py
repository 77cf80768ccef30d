"""Generate negotiate/data/companies.sqlite, the embedded enrichment source.

Reproducible: the same seed gives the same rows, byte for byte in every
column (``--check`` compares a fresh generation with the shipped file). The
companies are fictitious, built from seeded name parts; cities, postal codes,
coordinates, telephone area codes and the formats of organisation numbers
are real:

* NO: organisasjonsnummer, 9 digits, MOD11 check digit (weights 3 2 7 6 5 4 3 2);
* SE: organisationsnummer, ``556xxx-xxxx``, Luhn check digit;
* DK: CVR, 8 digits, MOD11 (weights 2 7 6 5 4 3 2 1, sum divisible by 11);
* FI: Y-tunnus, ``1234567-8``, MOD11 (weights 7 9 10 5 8 4 2);
* DE: USt-IdNr, ``DE`` and 9 digits, ISO 7064 MOD 11,10 check digit;
* NL: KvK number, 8 digits (no check digit exists);
* GB: Companies House number, 8 digits (no check digit exists).

Usage::

    python scripts/generate_companies.py            # (re)write the shipped file
    python scripts/generate_companies.py --check    # exit 1 if it differs
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

SEED = 20261127
OUT = Path(__file__).resolve().parent.parent / "negotiate" / "data" / "companies.sqlite"
SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE company (
    enrich_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    org_nr TEXT NOT NULL,
    country TEXT NOT NULL,
    country_id INTEGER NOT NULL,
    calling_code TEXT NOT NULL,
    business TEXT NOT NULL,
    street_address1 TEXT NOT NULL, street_address2 TEXT NOT NULL,
    street_address3 TEXT NOT NULL, street_zipcode TEXT NOT NULL,
    street_city TEXT NOT NULL, street_county TEXT NOT NULL,
    street_state TEXT NOT NULL, street_formatted TEXT NOT NULL,
    postal_address1 TEXT NOT NULL, postal_address2 TEXT NOT NULL,
    postal_address3 TEXT NOT NULL, postal_zipcode TEXT NOT NULL,
    postal_city TEXT NOT NULL, postal_county TEXT NOT NULL,
    postal_state TEXT NOT NULL, postal_formatted TEXT NOT NULL,
    formatted TEXT NOT NULL,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    url TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE phone (
    enrich_id TEXT NOT NULL REFERENCES company (enrich_id),
    rank INTEGER NOT NULL,
    value TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (enrich_id, rank)
) WITHOUT ROWID;
CREATE TABLE email (
    enrich_id TEXT NOT NULL REFERENCES company (enrich_id),
    rank INTEGER NOT NULL,
    value TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (enrich_id, rank)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class City:
    name: str
    zip_low: int
    zip_high: int
    area: str  # telephone area code, national form without the trunk 0
    lat: float
    lon: float


@dataclass(frozen=True)
class Country:
    code: str
    numeric: int
    english: str
    calling: str
    tld: str
    count: int
    cities: tuple[City, ...]
    streets: tuple[str, ...]
    roots: tuple[str, ...]
    surnames: tuple[str, ...]
    trades: tuple[tuple[str, str], ...]  # (local word, business)
    legal: tuple[tuple[str, int], ...]  # (suffix, weight)
    po_box: str
    mailboxes: tuple[tuple[str, str], ...]  # (local part, description)
    qualifiers: tuple[str, ...]  # tell apart companies that would share a name


COUNTRIES: tuple[Country, ...] = (
    Country(
        "NO",
        578,
        "Norway",
        "47",
        "no",
        900,
        (
            City("Oslo", 150, 190, "22", 59.9139, 10.7522),
            City("Bergen", 5003, 5020, "55", 60.3913, 5.3221),
            City("Trondheim", 7010, 7030, "73", 63.4305, 10.3951),
            City("Stavanger", 4005, 4020, "51", 58.9700, 5.7331),
            City("Tromsø", 9008, 9019, "77", 69.6492, 18.9553),
            City("Kristiansand", 4610, 4630, "38", 58.1467, 7.9956),
            City("Drammen", 3015, 3045, "32", 59.7439, 10.2045),
            City("Ålesund", 6002, 6010, "70", 62.4722, 6.1495),
        ),
        (
            "Storgata",
            "Kirkegata",
            "Dronningens gate",
            "Kongens gate",
            "Strandveien",
            "Industriveien",
            "Sjøgata",
            "Havnegata",
            "Parkveien",
            "Fjordveien",
            "Bryggen",
        ),
        (
            "Nordvik",
            "Fjellheim",
            "Bergtun",
            "Solbakken",
            "Lysaker",
            "Havnås",
            "Skogli",
            "Elvebakk",
            "Strandvik",
            "Vestby",
            "Nordlys",
            "Fjordvik",
            "Kystlinje",
            "Tindeland",
        ),
        (
            "Hansen",
            "Johansen",
            "Olsen",
            "Larsen",
            "Andersen",
            "Pedersen",
            "Nilsen",
            "Kristiansen",
            "Berg",
            "Haugen",
            "Bakken",
            "Lie",
        ),
        (
            ("Maskin", "Industry"),
            ("Bygg", "Construction"),
            ("Data", "IT"),
            ("Elektro", "Energy"),
            ("Transport", "Transport"),
            ("Regnskap", "Finance"),
            ("Eiendom", "Real estate"),
            ("Konsult", "Consulting"),
            ("Handel", "Retail"),
            ("Sjømat", "Food"),
        ),
        (("AS", 90), ("ASA", 4), ("DA", 3), ("ANS", 3)),
        "Postboks {n}",
        (
            ("post", "General"),
            ("firmapost", "General"),
            ("salg", "Sales"),
            ("faktura", "Invoices"),
            ("kundeservice", "Support"),
        ),
        ("Vest", "Øst", "Nord", "Sør", "Midt", "Holding", "Invest", "Gruppen"),
    ),
    Country(
        "SE",
        752,
        "Sweden",
        "46",
        "se",
        700,
        (
            City("Stockholm", 11120, 11860, "8", 59.3293, 18.0686),
            City("Göteborg", 41101, 41874, "31", 57.7089, 11.9746),
            City("Malmö", 21110, 21774, "40", 55.6050, 13.0038),
            City("Uppsala", 75220, 75653, "18", 59.8586, 17.6389),
            City("Västerås", 72210, 72481, "21", 59.6099, 16.5448),
            City("Örebro", 70210, 70382, "19", 59.2753, 15.2134),
            City("Linköping", 58220, 58758, "13", 58.4108, 15.6214),
        ),
        (
            "Drottninggatan",
            "Storgatan",
            "Kungsgatan",
            "Industrivägen",
            "Hamngatan",
            "Skolgatan",
            "Järnvägsgatan",
            "Sveavägen",
            "Sjövägen",
            "Parkgatan",
        ),
        (
            "Norrsken",
            "Fjällvik",
            "Björkdal",
            "Solhem",
            "Ljungby",
            "Hamnvik",
            "Skogsborg",
            "Älvsbacka",
            "Strandvik",
            "Västerby",
            "Granlund",
            "Ekhagen",
            "Sjöberga",
        ),
        (
            "Andersson",
            "Johansson",
            "Karlsson",
            "Nilsson",
            "Eriksson",
            "Larsson",
            "Olsson",
            "Persson",
            "Svensson",
            "Gustafsson",
            "Lindberg",
            "Holm",
        ),
        (
            ("Maskin", "Industry"),
            ("Bygg", "Construction"),
            ("Data", "IT"),
            ("Elteknik", "Energy"),
            ("Transport", "Transport"),
            ("Redovisning", "Finance"),
            ("Fastigheter", "Real estate"),
            ("Konsult", "Consulting"),
            ("Handel", "Retail"),
            ("Livsmedel", "Food"),
        ),
        (("AB", 92), ("HB", 5), ("KB", 3)),
        "Box {n}",
        (
            ("info", "General"),
            ("kontakt", "General"),
            ("order", "Sales"),
            ("faktura", "Invoices"),
            ("support", "Support"),
        ),
        ("Väst", "Öst", "Norr", "Syd", "Mitt", "Holding", "Invest", "Gruppen"),
    ),
    Country(
        "DK",
        208,
        "Denmark",
        "45",
        "dk",
        450,
        (
            City("København K", 1050, 1473, "33", 55.6761, 12.5683),
            City("Aarhus C", 8000, 8000, "86", 56.1629, 10.2039),
            City("Odense C", 5000, 5000, "66", 55.4038, 10.4024),
            City("Aalborg", 9000, 9000, "98", 57.0488, 9.9217),
            City("Esbjerg", 6700, 6700, "75", 55.4765, 8.4594),
        ),
        (
            "Vesterbrogade",
            "Nørregade",
            "Østergade",
            "Strandvejen",
            "Industrivej",
            "Havnegade",
            "Søndergade",
            "Algade",
            "Kongensgade",
            "Bredgade",
        ),
        (
            "Nordlys",
            "Fjordby",
            "Bakkehus",
            "Solgård",
            "Lyngby",
            "Havnely",
            "Skovly",
            "Ådal",
            "Strandgaard",
            "Vestervig",
            "Egeskov",
            "Møllehøj",
        ),
        (
            "Jensen",
            "Nielsen",
            "Hansen",
            "Pedersen",
            "Andersen",
            "Christensen",
            "Larsen",
            "Sørensen",
            "Rasmussen",
            "Jørgensen",
            "Madsen",
            "Kristensen",
        ),
        (
            ("Maskinfabrik", "Industry"),
            ("Byg", "Construction"),
            ("Data", "IT"),
            ("El", "Energy"),
            ("Transport", "Transport"),
            ("Revision", "Finance"),
            ("Ejendomme", "Real estate"),
            ("Rådgivning", "Consulting"),
            ("Handel", "Retail"),
            ("Fødevarer", "Food"),
        ),
        (("ApS", 60), ("A/S", 35), ("I/S", 5)),
        "Postboks {n}",
        (
            ("info", "General"),
            ("kontakt", "General"),
            ("salg", "Sales"),
            ("faktura", "Invoices"),
            ("support", "Support"),
        ),
        ("Vest", "Øst", "Nord", "Syd", "Midt", "Holding", "Invest", "Gruppen"),
    ),
    Country(
        "FI",
        246,
        "Finland",
        "358",
        "fi",
        400,
        (
            City("Helsinki", 100, 990, "9", 60.1699, 24.9384),
            City("Espoo", 2100, 2780, "9", 60.2055, 24.6559),
            City("Tampere", 33100, 33900, "3", 61.4978, 23.7610),
            City("Turku", 20100, 20900, "2", 60.4518, 22.2666),
            City("Oulu", 90100, 90900, "8", 65.0121, 25.4651),
        ),
        (
            "Mannerheimintie",
            "Hämeenkatu",
            "Aleksanterinkatu",
            "Teollisuuskatu",
            "Satamakatu",
            "Rantatie",
            "Kauppakatu",
            "Asemakatu",
            "Puistokatu",
        ),
        (
            "Revontuli",
            "Tunturi",
            "Koivula",
            "Aurinko",
            "Kanerva",
            "Satama",
            "Metsälä",
            "Joenrinne",
            "Rantala",
            "Lännen",
            "Kuusela",
            "Järvinen",
        ),
        (
            "Korhonen",
            "Virtanen",
            "Mäkinen",
            "Nieminen",
            "Mäkelä",
            "Hämäläinen",
            "Laine",
            "Heikkinen",
            "Koskinen",
            "Järvinen",
            "Lehtonen",
            "Saarinen",
        ),
        (
            ("Kone", "Industry"),
            ("Rakennus", "Construction"),
            ("Data", "IT"),
            ("Sähkö", "Energy"),
            ("Kuljetus", "Transport"),
            ("Tilitoimisto", "Finance"),
            ("Kiinteistöt", "Real estate"),
            ("Konsultointi", "Consulting"),
            ("Kauppa", "Retail"),
            ("Elintarvike", "Food"),
        ),
        (("Oy", 90), ("Oyj", 4), ("Ky", 6)),
        "PL {n}",
        (
            ("info", "General"),
            ("asiakaspalvelu", "Support"),
            ("myynti", "Sales"),
            ("laskutus", "Invoices"),
        ),
        ("Länsi", "Itä", "Pohjois", "Etelä", "Holding", "Invest", "Group", "Palvelut"),
    ),
    Country(
        "DE",
        276,
        "Germany",
        "49",
        "de",
        450,
        (
            City("Berlin", 10115, 14199, "30", 52.5200, 13.4050),
            City("Hamburg", 20095, 22769, "40", 53.5511, 9.9937),
            City("München", 80331, 81929, "89", 48.1351, 11.5820),
            City("Köln", 50667, 51149, "221", 50.9375, 6.9603),
            City("Frankfurt am Main", 60311, 60599, "69", 50.1109, 8.6821),
            City("Stuttgart", 70173, 70629, "711", 48.7758, 9.1829),
        ),
        (
            "Hauptstraße",
            "Bahnhofstraße",
            "Industriestraße",
            "Schillerstraße",
            "Goethestraße",
            "Hafenstraße",
            "Gartenstraße",
            "Lindenallee",
            "Marktplatz",
        ),
        (
            "Nordlicht",
            "Bergmann",
            "Waldheim",
            "Sonnenberg",
            "Lindenhof",
            "Hafenblick",
            "Eichwald",
            "Rheintal",
            "Elbufer",
            "Westfeld",
            "Tannenhof",
            "Auental",
        ),
        (
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Koch",
            "Richter",
        ),
        (
            ("Maschinenbau", "Industry"),
            ("Bau", "Construction"),
            ("Informatik", "IT"),
            ("Elektrotechnik", "Energy"),
            ("Logistik", "Transport"),
            ("Steuerberatung", "Finance"),
            ("Immobilien", "Real estate"),
            ("Beratung", "Consulting"),
            ("Handel", "Retail"),
            ("Feinkost", "Food"),
        ),
        (("GmbH", 75), ("AG", 8), ("GmbH & Co. KG", 12), ("KG", 5)),
        "Postfach {n}",
        (
            ("info", "General"),
            ("kontakt", "General"),
            ("vertrieb", "Sales"),
            ("rechnung", "Invoices"),
            ("service", "Support"),
        ),
        ("Nord", "Süd", "West", "Ost", "Holding", "Service", "Gruppe", "Partner"),
    ),
    Country(
        "NL",
        528,
        "Netherlands",
        "31",
        "nl",
        300,
        (
            City("Amsterdam", 1011, 1109, "20", 52.3676, 4.9041),
            City("Rotterdam", 3011, 3089, "10", 51.9244, 4.4777),
            City("Utrecht", 3511, 3585, "30", 52.0907, 5.1214),
            City("Den Haag", 2511, 2597, "70", 52.0705, 4.3007),
            City("Eindhoven", 5611, 5658, "40", 51.4416, 5.4697),
        ),
        (
            "Damrak",
            "Stationsweg",
            "Kerkstraat",
            "Industrieweg",
            "Havenstraat",
            "Marktplein",
            "Dorpsstraat",
            "Molenweg",
            "Prinsengracht",
            "Kanaalweg",
        ),
        (
            "Noorderlicht",
            "Duinzicht",
            "Polderland",
            "Zonneveld",
            "Lindenhof",
            "Havenzicht",
            "Bosrand",
            "Rijnoever",
            "Strandhuis",
            "Westland",
            "Eikenhorst",
            "Molenwaard",
        ),
        (
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "van Dijk",
            "Bakker",
            "Janssen",
            "Visser",
            "Smit",
            "Meijer",
            "de Boer",
            "Mulder",
        ),
        (
            ("Machinebouw", "Industry"),
            ("Bouw", "Construction"),
            ("ICT", "IT"),
            ("Elektrotechniek", "Energy"),
            ("Transport", "Transport"),
            ("Administratie", "Finance"),
            ("Vastgoed", "Real estate"),
            ("Advies", "Consulting"),
            ("Handel", "Retail"),
            ("Voeding", "Food"),
        ),
        (("B.V.", 88), ("N.V.", 4), ("V.O.F.", 8)),
        "Postbus {n}",
        (
            ("info", "General"),
            ("contact", "General"),
            ("verkoop", "Sales"),
            ("facturen", "Invoices"),
            ("support", "Support"),
        ),
        ("Noord", "Zuid", "West", "Oost", "Holding", "Groep", "Services", "Partners"),
    ),
    Country(
        "GB",
        826,
        "United Kingdom",
        "44",
        "co.uk",
        300,
        (
            City("London", 1, 20, "20", 51.5074, -0.1278),
            City("Manchester", 1, 20, "161", 53.4808, -2.2426),
            City("Birmingham", 1, 20, "121", 52.4862, -1.8904),
            City("Leeds", 1, 20, "113", 53.8008, -1.5491),
            City("Edinburgh", 1, 17, "131", 55.9533, -3.1883),
            City("Bristol", 1, 16, "117", 51.4545, -2.5879),
        ),
        (
            "High Street",
            "Station Road",
            "Church Street",
            "Market Street",
            "Victoria Road",
            "Mill Lane",
            "King Street",
            "Queen Street",
            "Park Road",
            "Harbour Way",
        ),
        (
            "Northlight",
            "Hillcrest",
            "Oakfield",
            "Sunbury",
            "Lindenwood",
            "Harbourside",
            "Greenwood",
            "Riverside",
            "Seaview",
            "Westbrook",
            "Ashdown",
            "Millbank",
        ),
        (
            "Smith",
            "Jones",
            "Taylor",
            "Brown",
            "Williams",
            "Wilson",
            "Johnson",
            "Davies",
            "Robinson",
            "Wright",
            "Thompson",
            "Evans",
        ),
        (
            ("Engineering", "Industry"),
            ("Construction", "Construction"),
            ("Systems", "IT"),
            ("Electrical", "Energy"),
            ("Logistics", "Transport"),
            ("Accountancy", "Finance"),
            ("Properties", "Real estate"),
            ("Consulting", "Consulting"),
            ("Trading", "Retail"),
            ("Foods", "Food"),
        ),
        (("Ltd", 88), ("plc", 4), ("LLP", 8)),
        "PO Box {n}",
        (
            ("info", "General"),
            ("enquiries", "General"),
            ("sales", "Sales"),
            ("accounts", "Invoices"),
            ("support", "Support"),
        ),
        ("North", "South", "West", "East", "Holdings", "Group", "Services", "Solutions"),
    ),
)

_GB_DISTRICT = {
    "London": ("EC", "WC", "N", "E", "SE", "SW", "W", "NW"),
    "Manchester": ("M",),
    "Birmingham": ("B",),
    "Leeds": ("LS",),
    "Edinburgh": ("EH",),
    "Bristol": ("BS",),
}
_PHONE_DESCRIPTIONS = ("Switchboard", "Sales", "Support", "Mobile")


# -- organisation numbers -------------------------------------------------------


def mod11_no(digits: str) -> int | None:
    """Norwegian MOD11 check digit of 8 digits, or None when the number is invalid."""
    total = sum(int(d) * w for d, w in zip(digits, (3, 2, 7, 6, 5, 4, 3, 2), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def luhn(digits: str) -> int:
    """Luhn check digit of a digit string."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def mod11_dk(digits: str) -> int | None:
    """Danish CVR check digit of 7 digits (weights 2 7 6 5 4 3 2, then 1), or None."""
    total = sum(int(d) * w for d, w in zip(digits, (2, 7, 6, 5, 4, 3, 2), strict=True))
    check = (-total) % 11
    return None if check == 10 else check


def mod11_fi(digits: str) -> int | None:
    """Finnish Y-tunnus check digit of 7 digits, or None when the number is invalid."""
    total = sum(int(d) * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2), strict=True))
    rest = total % 11
    if rest == 0:
        return 0
    return None if rest == 1 else 11 - rest


def mod11_10(digits: str) -> int:
    """ISO 7064 MOD 11,10 check digit (German USt-IdNr) of 8 digits."""
    product = 10
    for char in digits:
        total = (int(char) + product) % 10 or 10
        product = (2 * total) % 11
    check = 11 - product
    return 0 if check == 10 else check


def org_number(country: str, rng: random.Random) -> tuple[str, str]:
    """``(org number as written, its digits)`` for a country."""
    while True:
        if country == "NO":
            body = rng.choice("89") + "".join(rng.choice("0123456789") for _ in range(7))
            check = mod11_no(body)
            if check is not None:
                digits = body + str(check)
                return digits, digits
        elif country == "SE":
            body = "556" + "".join(rng.choice("0123456789") for _ in range(6))
            digits = body + str(luhn(body))
            return f"{digits[:6]}-{digits[6:]}", digits
        elif country == "DK":
            body = rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(6))
            dk = mod11_dk(body)
            if dk is not None:
                digits = body + str(dk)
                return digits, digits
        elif country == "FI":
            body = (
                rng.choice("0123")
                + rng.choice("123456789")
                + "".join(rng.choice("0123456789") for _ in range(5))
            )
            fi = mod11_fi(body)
            if fi is not None:
                return f"{body}-{fi}", body + str(fi)
        elif country == "DE":
            body = rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(7))
            digits = body + str(mod11_10(body))
            return "DE" + digits, digits
        elif country == "NL":
            digits = rng.choice("6789") + "".join(rng.choice("0123456789") for _ in range(7))
            return digits, digits
        else:
            digits = (
                "0" + rng.choice("1234589") + "".join(rng.choice("0123456789") for _ in range(6))
            )
            return digits, digits


# -- addresses, phones, names ---------------------------------------------------


def zipcode(country: Country, city: City, rng: random.Random) -> str:
    """A postal code of the city, written the country's way."""
    number = rng.randint(city.zip_low, city.zip_high)
    if country.code == "NO" or country.code == "DK":
        return f"{number:04d}"
    if country.code == "SE":
        return f"{number // 100:03d} {number % 100:02d}"
    if country.code == "FI":
        return f"{number:05d}"
    if country.code == "DE":
        return f"{number:05d}"
    if country.code == "NL":
        letters = rng.choice("BCDEGHJKLMNPRSTVWXZ") + rng.choice("ABCDEGHJKLMNPRSTVWXZ")
        return f"{number:04d} {letters}"
    district = rng.choice(_GB_DISTRICT[city.name])
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    inward = f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
    return f"{district}{number} {inward}"


def street_line(country: Country, rng: random.Random) -> str:
    """A street and house number in the country's order."""
    street = rng.choice(country.streets)
    number = rng.randint(1, 140)
    if country.code == "GB":
        return f"{number} {street}"
    if rng.random() < 0.15 and country.code in ("NO", "DK", "SE"):
        return f"{street} {number}{rng.choice('ABC')}"
    return f"{street} {number}"


def formatted(country: Country, line: str, zipcode_: str, city: str) -> str:
    """The structured address as one text, the country's layout."""
    if country.code == "GB":
        return f"{line}\n{city.upper()}\n{zipcode_}"
    return f"{line}\n{zipcode_} {city}"


def phone(country: Country, city: City, rng: random.Random, mobile: bool) -> str:
    """A phone number in international format, grouped the country's way."""
    code = country.calling
    if mobile:
        prefixes = {
            "NO": "9",
            "SE": "70",
            "DK": "2",
            "FI": "40",
            "DE": "151",
            "NL": "6",
            "GB": "7700",
        }
        area = prefixes[country.code]
    else:
        area = city.area
    # national significant number lengths: NO/DK 8, SE 9, FI 9, DE 10-11, NL 9, GB 10
    length = {"NO": 8, "DK": 8, "SE": 9, "FI": 9, "DE": 10, "NL": 9, "GB": 10}[country.code]
    rest = "".join(rng.choice("0123456789") for _ in range(length - len(area)))
    rest = rng.choice("123456789") + rest[1:]
    if country.code in ("NO", "DK"):
        national = area + rest
        groups = (
            [national[:3], national[3:5], national[5:]]
            if mobile and country.code == "NO"
            else [national[i : i + 2] for i in range(0, 8, 2)]
        )
        return f"+{code} " + " ".join(groups)
    if country.code == "SE":
        return f"+{code} {area} {rest[:3]} {rest[3:5]} {rest[5:]}"
    if country.code in ("FI", "NL"):
        return f"+{code} {area} {rest[:3]} {rest[3:]}"
    if country.code == "GB":
        return (
            f"+{code} {area} {rest[:3]} {rest[3:]}"
            if len(area) > 2
            else (f"+{code} {area} {rest[:4]} {rest[4:]}")
        )
    return f"+{code} {area} {rest}"


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only (æ ae, ø o, ß ss, ü ue)."""
    table = {"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "ü": "ue", "ß": "ss"}
    text = "".join(table.get(c, c) for c in text.lower())
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isascii() and c.isalnum())


def weighted(rng: random.Random, items: Sequence[tuple[str, int]]) -> str:
    """One of ``items`` with probability proportional to its weight."""
    total = sum(w for _, w in items)
    pick = rng.uniform(0, total)
    for item, weight in items:
        pick -= weight
        if pick <= 0:
            return item
    return items[-1][0]


def company_name(
    country: Country, city: City, taken: set[str], rng: random.Random
) -> tuple[str, str, str]:
    """``(name, business, domain stem)``; the name is new in ``taken`` (then added)."""
    while True:
        trade, business = rng.choice(country.trades)
        legal = weighted(rng, country.legal)
        style = rng.random()
        if style < 0.5:
            root = rng.choice(country.roots)
            base = f"{root} {trade}"
        elif style < 0.75:
            first, second = rng.sample(country.surnames, 2)
            base = f"{first} & {second}"
        elif style < 0.9:
            base = f"{rng.choice(country.surnames)} {trade}"
        else:
            base = rng.choice(country.roots)
        # NOTE: registers keep names unique per country; real ones grow a region,
        # a city or "Holding" when a name is taken, so the generator does the same.
        for extra in ("", *rng.sample(country.qualifiers, 3), city.name):
            name = f"{base} {extra} {legal}" if extra else f"{base} {legal}"
            if name not in taken:
                taken.add(name)
                stem = ascii_slug(base)
                if extra:
                    stem += "-" + ascii_slug(extra)
                return name, business, stem


@dataclass(frozen=True)
class Row:
    company: tuple[object, ...]
    phones: tuple[tuple[str, str], ...]
    emails: tuple[tuple[str, str], ...]


def generate(seed: int = SEED) -> Iterator[Row]:
    """Every row of the database, in insertion order, from ``seed``."""
    rng = random.Random(seed)
    ids: set[str] = set()
    domains: set[str] = set()
    for country in COUNTRIES:
        names: set[str] = set()
        made = 0
        while made < country.count:
            org, digits = org_number(country.code, rng)
            enrich_id = f"{country.code}-{digits}"
            if enrich_id in ids:
                continue
            ids.add(enrich_id)
            made += 1
            city = rng.choice(country.cities)
            name, business, stem = company_name(country, city, names, rng)
            domain = f"{stem}.{country.tld}"
            serial = 2
            while domain in domains:  # "A & B" and "A B" can share a stem
                domain = f"{stem}{serial}.{country.tld}"
                serial += 1
            domains.add(domain)
            line = street_line(country, rng)
            street_zip = zipcode(country, city, rng)
            street = (
                line,
                "",
                "",
                street_zip,
                city.name,
                "",
                "",
                formatted(country, line, street_zip, city.name),
            )
            if rng.random() < 0.4:
                box = country.po_box.format(n=rng.randint(1, 9999))
                postal_zip = zipcode(country, city, rng)
                postal = (
                    box,
                    "",
                    "",
                    postal_zip,
                    city.name,
                    "",
                    "",
                    formatted(country, box, postal_zip, city.name),
                )
            else:
                postal = street
            lat = round(city.lat + rng.uniform(-0.04, 0.04), 6)
            lon = round(city.lon + rng.uniform(-0.06, 0.06), 6)
            phones = []
            for rank in range(rng.randint(1, 3)):
                mobile = rank > 0 and rng.random() < 0.3
                description = "Mobile" if mobile else _PHONE_DESCRIPTIONS[min(rank, 2)]
                phones.append((phone(country, city, rng, mobile), description))
            boxes = rng.sample(country.mailboxes, rng.randint(1, 3))
            emails = [(f"{local}@{domain}", description) for local, description in boxes]
            yield Row(
                (
                    enrich_id,
                    name,
                    org,
                    country.code,
                    country.numeric,
                    country.calling,
                    business,
                    *street,
                    *postal,
                    f"{street[7]}\n{country.english}",
                    lat,
                    lon,
                    f"https://www.{domain}",
                ),
                tuple(phones),
                tuple(emails),
            )


def write(path: Path, seed: int = SEED) -> int:
    """Write the database to ``path`` (replacing it); returns the number of companies."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("seed", str(seed)), ("schema_version", SCHEMA_VERSION)],
        )
        count = 0
        for row in generate(seed):
            db.execute(
                f"INSERT INTO company VALUES ({', '.join('?' * len(row.company))})", row.company
            )
            enrich_id = row.company[0]
            db.executemany(
                "INSERT INTO phone VALUES (?, ?, ?, ?)",
                [(enrich_id, rank, v, d) for rank, (v, d) in enumerate(row.phones)],
            )
            db.executemany(
                "INSERT INTO email VALUES (?, ?, ?, ?)",
                [(enrich_id, rank, v, d) for rank, (v, d) in enumerate(row.emails)],
            )
            count += 1
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()
    tmp.replace(path)
    return count


def read_rows(path: Path) -> list[Row]:
    """Every row of an existing database, in ``generate`` order (for ``--check``)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        order = {row.company[0]: i for i, row in enumerate(generate())}
        out = []
        for company in db.execute("SELECT * FROM company"):
            phones = db.execute(
                "SELECT value, description FROM phone WHERE enrich_id = ? ORDER BY rank",
                (company[0],),
            ).fetchall()
            emails = db.execute(
                "SELECT value, description FROM email WHERE enrich_id = ? ORDER BY rank",
                (company[0],),
            ).fetchall()
            out.append(Row(tuple(company), tuple(phones), tuple(emails)))
    finally:
        db.close()
    out.sort(key=lambda row: order.get(str(row.company[0]), len(order)))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Write or check the database."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="compare with --out, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        same = read_rows(args.out) == list(generate(args.seed))
        print("up to date" if same else f"{args.out} differs from seed {args.seed}")
        return 0 if same else 1
    count = write(args.out, args.seed)
    print(f"wrote {count} companies to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
