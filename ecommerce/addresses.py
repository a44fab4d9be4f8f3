"""Postal addresses: the one set of rules for a delivery address, wherever one is typed in.

Used by the address book (accounts), checkout (orders) and the shop's forms, through the validators
below (Django validators, so DRF serializers, Django forms and model fields all share them).
"""

import re
import unicodedata
from dataclasses import asdict, dataclass

import pycountry
from django.core.exceptions import ValidationError

NAME_MAX_LENGTH = 100
LINE_MAX_LENGTH = 200
CITY_MAX_LENGTH = 100
POSTAL_CODE_MAX_LENGTH = 20
PHONE_MAX_LENGTH = 32

# ISO 3166-1 alpha-2, officially assigned codes, with their English names (for the shop's country list).
COUNTRY_NAMES = {country.alpha_2: country.name for country in pycountry.countries}
COUNTRY_CHOICES = sorted(COUNTRY_NAMES.items(), key=lambda item: item[1])

# The rules as regular expressions (Python, ECMAScript and Rust syntax alike): the API schema states them.
POSTAL_CODE_PATTERN = "[A-Za-z0-9](?:[A-Za-z0-9 -]*[A-Za-z0-9])?"
# 4 to 31 characters after an optional +, the last one not a space (trimmed values never end with one).
PHONE_PATTERN = r"\+?[0-9][0-9 ()./-]{2,29}[0-9()./-]"
_POSTAL_CODE = re.compile(POSTAL_CODE_PATTERN)
_PHONE = re.compile(PHONE_PATTERN)
# Control, invisible formatting (bidi overrides, zero-width spaces...), surrogate and private-use characters of
# the Basic Multilingual Plane: never part of an address. Past it they are welcome: the tag characters of flag
# emoji are formatting characters, and a code point unassigned here may be a new letter to a client.
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})


def is_unprintable(char: str) -> bool:
    return char <= "\uffff" and unicodedata.category(char) in UNPRINTABLE_CATEGORIES


def validate_printable(value: str) -> None:
    """Refuse control and invisible characters (letters of any script are welcome)."""
    if any(map(is_unprintable, value)):
        raise ValidationError("Remove the control or invisible characters.", code="invalid_characters")


def validate_country(value: str) -> None:
    """Accept an ISO 3166-1 alpha-2 code (``FR``, ``US``), in any letter case."""
    if value.upper() not in COUNTRY_NAMES:
        raise ValidationError("Give the country as its ISO 3166-1 alpha-2 code, e.g. FR.", code="invalid_country")


def validate_postal_code(value: str) -> None:
    if not _POSTAL_CODE.fullmatch(value):
        raise ValidationError("A postal code has letters, digits, spaces and hyphens.", code="invalid_postal_code")


def validate_phone(value: str) -> None:
    if value and not _PHONE.fullmatch(value):
        raise ValidationError("A phone number has digits, spaces and + ( ) . / -.", code="invalid_phone")


@dataclass(frozen=True)
class PostalAddress:
    """A delivery address, normalised: Unicode NFC, trimmed, the country code in capitals."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    phone: str = ""

    @classmethod
    def build(cls, **fields: str) -> "PostalAddress":
        """An address from fields already checked by the validators above."""
        clean = {name: unicodedata.normalize("NFC", (value or "").strip()) for name, value in fields.items()}
        clean["country"] = clean["country"].upper()
        clean["postal_code"] = clean["postal_code"].upper()
        return cls(**clean)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)
