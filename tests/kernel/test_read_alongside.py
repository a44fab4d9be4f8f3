"""ecommerce.db.read_alongside: a read sent with the next SELECT on its database, in one round trip on PostgreSQL."""

import pytest
from django.db import connection

from ecommerce.db import read_alongside
from ecommerce.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

ALONGSIDE = "SELECT 41 + 1"


def test_the_read_and_the_next_select_both_get_their_rows(django_assert_num_queries):
    expected = 1 if connection.vendor == "postgresql" else 2
    with (
        django_assert_num_queries(expected),
        read_alongside(IdempotencyRecord, ALONGSIDE) as read,
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT %s, %s", [7, "x"])
        assert cursor.fetchall() == [(7, "x")]
    assert read.rows == [(42,)]


def test_with_no_select_in_the_block_the_read_runs_on_its_own(django_assert_num_queries):
    with django_assert_num_queries(1), read_alongside(IdempotencyRecord, ALONGSIDE) as read:
        pass
    assert read.rows == [(42,)]


def test_only_the_first_select_carries_it_and_writes_never_do():
    with read_alongside(IdempotencyRecord, ALONGSIDE) as read, connection.cursor() as cursor:
        cursor.execute(f"UPDATE {IdempotencyRecord._meta.db_table} SET key = key WHERE 1 = 0")
        cursor.execute("SELECT 1")
        assert cursor.fetchall() == [(1,)]
        cursor.execute("SELECT 2")
        assert cursor.fetchall() == [(2,)]
    assert read.rows == [(42,)]
