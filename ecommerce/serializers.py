"""Serializer building blocks shared by every app's API."""

from collections.abc import Mapping

from djangorestframework_camel_case.util import underscoreize
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from ecommerce import addresses
from ecommerce.api import ErrorCode


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know, so nothing is silently mass-assigned."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [ErrorDetail("This field is not accepted here.", code="unknown_field")] for name in unknown}
                )
        return super().to_internal_value(data)


def money_field(**kwargs) -> serializers.DecimalField:
    """A money amount: a decimal string with 2 places on the wire, Decimal in Python."""
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def amount_field(**kwargs) -> serializers.DecimalField:
    """A money amount the shop computed (a line total, a subtotal), rendered whatever its size.

    Reading a cart priced at today's prices, or an order stored before the money limits, never fails.
    """
    return serializers.DecimalField(max_digits=None, decimal_places=2, **kwargs)


def query_params(request) -> dict[str, str]:
    """The query string in snake_case, one value per name; blank values count as absent."""
    return underscoreize({name: value for name, value in request.query_params.items() if value != ""})


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
    country = serializers.CharField(
        max_length=2,
        validators=[addresses.validate_country],
        help_text="ISO 3166-1 alpha-2 code, e.g. `FR` (any letter case in, capitals out).",
    )
    phone = serializers.CharField(
        max_length=addresses.PHONE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        validators=[addresses.validate_phone],
    )

    def to_internal_value(self, data) -> addresses.PostalAddress:
        return addresses.PostalAddress.build(**super().to_internal_value(data))
