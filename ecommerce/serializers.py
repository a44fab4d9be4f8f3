"""Serializer building blocks shared by every app's API."""

import re
from collections.abc import Callable, Mapping
from decimal import Decimal

from djangorestframework_camel_case.util import underscoreize
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from ecommerce import addresses
from ecommerce.api import ErrorCode

# The JSON type each kind of field takes, as the API schema states it. DRF alone would turn 5 into "5",
# "true" and 1 into True, and "5" or 5.0 into 5: a client's mistake would pass unnoticed.
JSON_TYPES = (
    (serializers.BooleanField, (bool,), "Expected true or false."),
    (serializers.IntegerField, (int,), "Expected a whole number."),
    (serializers.CharField, (str,), "Expected a string."),
    (serializers.ChoiceField, (str,), "Expected a string."),
    (serializers.DecimalField, (str,), 'Expected a decimal number as a string, e.g. "19.99".'),
)


def _json_type_error(field: serializers.Field, value) -> ErrorDetail | None:
    if value is None:
        return None  # the field's own null rule answers
    for field_class, types, message in JSON_TYPES:
        if isinstance(field, field_class):
            if isinstance(value, types) and not (isinstance(value, bool) and bool not in types):
                break
            return ErrorDetail(message, code="invalid")
    if isinstance(field, serializers.CharField) and field.max_length and len(value) > field.max_length:
        # DRF measures after trimming; the schema's maxLength counts what was sent.
        return ErrorDetail(f"Ensure this field has no more than {field.max_length} characters.", code="max_length")
    return None


class StrictSerializer(serializers.Serializer):
    """An input serializer that takes JSON exactly as the schema states it.

    Values of another JSON type than the field's (``JSON_TYPES``) are refused, and so are strings longer than
    ``max_length`` before trimming, and fields it does not know (nothing is silently mass-assigned) unless
    ``unknown_fields_ignored``.

    ``shapes``, when the fields are not independent, lists the sets of fields a body may carry (besides the
    optional fields that are in no set): the schema states them (``oneOf``); the view or service checks them.
    """

    unknown_fields_ignored = False
    shapes: tuple[tuple[str, ...], ...] = ()

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = () if self.unknown_fields_ignored else set(data) - set(self.fields)
            errors = {name: [ErrorDetail("This field is not accepted here.", code="unknown_field")] for name in unknown}
            for name, field in self.fields.items():
                wrong_type = _json_type_error(field, data[name]) if name in data else None
                if wrong_type:
                    errors[name] = [wrong_type]
            if errors:
                raise serializers.ValidationError(dict(sorted(errors.items())))
        return super().to_internal_value(data)


def money_field(**kwargs) -> serializers.DecimalField:
    """A money amount: a decimal string with 2 places on the wire, Decimal in Python."""
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class MoneyInputField(serializers.DecimalField):
    """A money amount a client sends: a decimal string with at most 2 places (``"19.99"``), never a number.

    ``pattern`` is the whole rule, bounds included, so that the API schema can state it: ``min_value`` is 0 or
    0.01, ``max_value`` all nines (e.g. 999999999.99).
    """

    def __init__(self, *, min_value: Decimal, max_value: Decimal, **kwargs):
        super().__init__(max_digits=12, decimal_places=2, min_value=min_value, max_value=max_value, **kwargs)
        digits = len(str(int(max_value)))
        if max_value != 10**digits - Decimal("0.01") or min_value not in (0, Decimal("0.01")):
            raise ValueError("MoneyInputField takes a minimum of 0 or 0.01 and a maximum of all nines.")
        whole = f"[1-9][0-9]{{0,{digits - 1}}}"
        if min_value:
            self.pattern = rf"^(?:{whole}(?:\.[0-9]{{1,2}})?|0\.(?:0[1-9]|[1-9][0-9]?))$"
        else:
            self.pattern = rf"^(?:0|{whole})(?:\.[0-9]{{1,2}})?$"

    default_error_messages = {"invalid": 'Expected a decimal string with at most 2 places, e.g. "19.99".'}
    # The format alone: the bounds then answer with their own codes (min_value, max_value).
    FORMAT = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]{1,2})?")

    def to_internal_value(self, data):
        if not (isinstance(data, str) and self.FORMAT.fullmatch(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


def _character_class(wanted: Callable[[str], bool]) -> str:
    """The body of a regex character class (Python, ECMAScript and Rust syntax alike) of the characters of the
    Basic Multilingual Plane that are ``wanted``, surrogates aside: no engine but Python's can name one."""
    ranges: list[tuple[int, int]] = []
    for code in [*range(0xD800), *range(0xE000, 0x10000)]:
        if wanted(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


# What str.strip() trims (which is what DRF trims), spelled out: engines disagree on what \s matches.
WHITESPACE = _character_class(str.isspace)
UNPRINTABLE = _character_class(addresses.is_unprintable)
# The regex a text field's value (once trimmed) must match, by the validator that checks it.
VALIDATOR_PATTERNS = (
    (addresses.validate_postal_code, addresses.POSTAL_CODE_PATTERN),
    (addresses.validate_phone, addresses.PHONE_PATTERN),
)


def text_pattern(field: serializers.CharField) -> str:
    """A regex of exactly the strings ``field`` takes, as sent (before DRF trims them), for the API schema.

    DRF refuses NUL characters, and blank values unless ``allow_blank``; ``addresses.validate_printable``
    refuses control and invisible characters; the validators of ``VALIDATOR_PATTERNS`` their own patterns.
    """
    refused = UNPRINTABLE if addresses.validate_printable in field.validators else "\\x00"
    core = next((pattern for validator, pattern in VALIDATOR_PATTERNS if validator in field.validators), None)
    if not field.trim_whitespace:
        return f"^[^{refused}]*$" if core is None else f"^(?:{core})$"
    if core is None:  # text that starts and ends with a character that is not trimmed
        core = f"[^{refused}{WHITESPACE}](?:[^{refused}]*[^{refused}{WHITESPACE}])?"
    optional = "?" if field.allow_blank else ""
    return f"^[{WHITESPACE}]*(?:{core}){optional}[{WHITESPACE}]*$"


def amount_field(**kwargs) -> serializers.DecimalField:
    """A money amount the shop computed (a line total, a subtotal), rendered whatever its size.

    Reading a cart priced at today's prices, or an order stored before the money limits, never fails.
    """
    return serializers.DecimalField(max_digits=None, decimal_places=2, **kwargs)


def query_params(request) -> dict[str, str]:
    """The query string in snake_case, one value per name; blank values count as absent (``allowEmptyValue``)."""
    return underscoreize({name: value for name, value in request.query_params.items() if value != ""})


class QueryBooleanField(serializers.BooleanField):
    """A boolean query parameter: ``true`` or ``false``, as the schema's boolean is written in a URL."""

    TRUE_VALUES = frozenset({"true"})
    FALSE_VALUES = frozenset({"false"})
    NULL_VALUES = frozenset()


class QueryIntegerField(serializers.IntegerField):
    """An integer query parameter: ASCII digits (DRF alone would also take ``1.0``, `` 1`` or ``1_000``)."""

    def to_internal_value(self, data):
        if not (isinstance(data, str) and re.fullmatch("-?[0-9]+", data)):
            self.fail("invalid")
        return super().to_internal_value(data)


def query_text_schema(field: serializers.CharField) -> dict:
    """The schema of a text query parameter checked by ``field`` (which must allow blank: blank is absent)."""
    return {"type": "string", "maxLength": field.max_length, "pattern": text_pattern(field)}


# The codes of AddressSerializer's own validators, for the API documentation (the schema finds the others).
ADDRESS_ERRORS = tuple(
    ErrorCode(400, code) for code in ("invalid_characters", "invalid_country", "invalid_postal_code", "invalid_phone")
)
ADDRESS_EXAMPLE = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postalCode": "SW1Y 4JH",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}


class CountryField(serializers.ChoiceField):
    """An ISO 3166-1 alpha-2 country code in capitals: the schema lists them."""

    default_error_messages = {
        "blank": serializers.CharField.default_error_messages["blank"],
        "invalid_country": "Give the country as its ISO 3166-1 alpha-2 code in capitals, e.g. FR.",
    }

    def __init__(self, **kwargs):
        super().__init__(choices=sorted(addresses.COUNTRY_NAMES.items()), **kwargs)

    def to_internal_value(self, data):
        if data == "":
            self.fail("blank")
        if not isinstance(data, str) or data not in addresses.COUNTRY_NAMES:
            self.fail("invalid_country")
        return data


class AddressSerializer(StrictSerializer):
    """A postal address, in and out: every field checked by the rules of ``ecommerce.addresses``."""

    name = serializers.CharField(max_length=addresses.NAME_MAX_LENGTH, validators=[addresses.validate_printable])
    # Named with the underscore the camelCase parser puts before a digit: "line1" on the wire.
    line_1 = serializers.CharField(
        source="line1", max_length=addresses.LINE_MAX_LENGTH, validators=[addresses.validate_printable]
    )
    line_2 = serializers.CharField(
        source="line2",
        max_length=addresses.LINE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        validators=[addresses.validate_printable],
    )
    city = serializers.CharField(max_length=addresses.CITY_MAX_LENGTH, validators=[addresses.validate_printable])
    postal_code = serializers.CharField(
        max_length=addresses.POSTAL_CODE_MAX_LENGTH, validators=[addresses.validate_postal_code]
    )
    country = CountryField(help_text="ISO 3166-1 alpha-2 code, in capitals, e.g. `FR`.")
    phone = serializers.CharField(
        max_length=addresses.PHONE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        validators=[addresses.validate_phone],
    )

    def to_internal_value(self, data) -> addresses.PostalAddress:
        return addresses.PostalAddress.build(**super().to_internal_value(data))


_templates: dict[type[serializers.Serializer], serializers.Serializer] = {}


def represent(serializer_class: type[serializers.Serializer], instance) -> dict:
    """``serializer_class(instance).data``, for an output serializer whose fields need no context, without
    building its fields again: DRF deep-copies every declared field, nested serializers' too, for each instance
    it makes, which costs several times the rendering of an order. One unbound instance per class is reused."""
    template = _templates.get(serializer_class)
    if template is None:
        template = _templates[serializer_class] = serializer_class()
    return template.to_representation(instance)
