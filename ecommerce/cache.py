"""The database cache (used when there is no ``REDIS_URL``), with a ``set`` that costs one statement.

Rate limits write a counter on every request they count (a checkout, a payment). Django's ``DatabaseCache``
spends four statements and a transaction on each: a ``COUNT(*)`` of the whole table (to cull it when it is
full), then a read, then an update or an insert, inside a transaction of their own. Here a ``set`` is one
upsert (``INSERT ... ON CONFLICT DO UPDATE``, which PostgreSQL and SQLite both take, atomic by itself), and the
table is counted, and culled when too full, on one ``set`` in ``CULL_EVERY`` (so it may briefly hold up to
that many entries more than ``MAX_ENTRIES``). Reads, ``add``, ``touch`` and the other backends are Django's.
"""

import base64
import contextlib
import pickle
import random
from datetime import UTC, datetime

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import DatabaseError, connections, router
from django.utils.timezone import now as tz_now

CULL_EVERY = 100
UPSERT_VENDORS = ("postgresql", "sqlite")


class DatabaseCache(DjangoDatabaseCache):
    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        connection = connections[router.db_for_write(self.cache_model_class)]
        if connection.vendor not in UPSERT_VENDORS or connection.in_atomic_block:  # Django's, in a savepoint
            self._base_set("set", key, value, timeout)
            return
        timeout = self.get_backend_timeout(timeout)
        expires = datetime.max if timeout is None else datetime.fromtimestamp(timeout, tz=UTC)
        expires = connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))
        pickled = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        quote = connection.ops.quote_name
        table, key_column, value_column, expires_column = map(quote, (self._table, "cache_key", "value", "expires"))
        with connection.cursor() as cursor:
            if random.randrange(CULL_EVERY) == 0:  # noqa: S311 - spreading work, not security
                self._cull_if_full(connection, cursor, table)
            # As Django's set: a cache write that fails is not the request's failure.
            with contextlib.suppress(DatabaseError):
                cursor.execute(
                    f"INSERT INTO {table} ({key_column}, {value_column}, {expires_column}) VALUES (%s, %s, %s) "  # noqa: S608 - no client text
                    f"ON CONFLICT ({key_column}) DO UPDATE SET {value_column} = EXCLUDED.{value_column}, "
                    f"{expires_column} = EXCLUDED.{expires_column}",
                    [key, pickled, expires],
                )

    def _cull_if_full(self, connection, cursor, table: str) -> None:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - no client text
        count = cursor.fetchone()[0]
        if count > self._max_entries:
            self._cull(connection.alias, cursor, tz_now().replace(microsecond=0), count)
