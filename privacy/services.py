"""Privacy: a customer's own data across the apps, exported. The public interface of this app.

It owns no table: it reads each app through that app's public services, so it sits above them all.
"""

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts import services as accounts
from orders import services as orders
from payments import services as payments

__all__ = ["export_account_data"]


def _plain(value: Any) -> Any:
    """JSON-ready data: dataclasses as dicts, money as decimal strings, times in ISO 8601."""
    if dataclasses.is_dataclass(value):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def export_account_data(*, user_id: int) -> dict:
    """Everything the shop keeps about the user, as JSON-ready data (snake_case keys): their profile,
    addresses, orders (lines, delivery, history) and payments. Raises NotFound (no such user)."""
    return {
        "exported_at": _plain(timezone.now()),
        "profile": _plain(accounts.get_user(user_id=user_id)),
        "addresses": [
            {"id": saved.id, **_plain(saved.address), "created_at": _plain(saved.created_at)}
            for saved in accounts.list_addresses(user_id=user_id)
        ],
        "orders": _plain(orders.list_all_orders(user_id=user_id)),
        "payments": _plain(payments.list_user_payments(user_id=user_id)),
    }
