"""The database cache (no REDIS_URL): a ``set`` (a rate limit's counter, on every checkout and payment) is one
statement, and the table is still culled when it is too full."""

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ecommerce import cache as database_cache

# Outside a test transaction, as a request runs (inside a transaction the cache uses Django's own set).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def db_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "ecommerce.cache.DatabaseCache",
            "LOCATION": "test_database_cache",
            "OPTIONS": {"MAX_ENTRIES": 5, "CULL_FREQUENCY": 2},
        }
    }
    call_command("createcachetable", verbosity=0)
    yield caches["default"]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE test_database_cache")


def test_set_is_one_statement_and_overwrites(db_cache):
    db_cache.set("counter", [1.0], 60)
    with CaptureQueriesContext(connection) as captured:
        db_cache.set("counter", [1.0, 2.0], 60)
    writes = [query["sql"] for query in captured.captured_queries if "COUNT(*)" not in query["sql"]]
    assert len(writes) == 1 and writes[0].startswith("INSERT INTO") and "ON CONFLICT" in writes[0]
    assert db_cache.get("counter") == [1.0, 2.0]


def test_set_honours_the_timeout(db_cache):
    db_cache.set("gone", "x", -1)
    db_cache.set("kept", "y", None)
    assert (db_cache.get("gone"), db_cache.get("kept")) == (None, "y")


def test_a_full_table_is_culled(db_cache, monkeypatch):
    monkeypatch.setattr(database_cache, "CULL_EVERY", 1)  # count on every set
    for n in range(12):
        db_cache.set(f"key-{n}", n, 60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM test_database_cache")
        assert cursor.fetchone()[0] <= 6  # MAX_ENTRIES, and the one set after the count
    assert db_cache.get("key-11") == 11
