"""Serializer building blocks shared by every app's API."""

from collections.abc import Mapping

from djangorestframework_camel_case.util import underscoreize
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail


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
