"""The store's own time zone (``STORE_TIME_ZONE``): how people read times on pages and in emails.

The API keeps ISO 8601 in UTC; pages and emails show the store's local time, with the zone named.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import dateformat


def store_time_zone() -> ZoneInfo:
    return ZoneInfo(settings.STORE_TIME_ZONE)


def format_store_time(moment: datetime) -> str:
    """``moment`` in the store's time zone, as people read it: ``26 Nov 2026, 18:30 CET``."""
    local = moment.astimezone(store_time_zone())
    return f"{dateformat.format(local, 'j M Y, H:i')} {local.tzname()}"
