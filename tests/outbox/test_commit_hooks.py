"""A delivery that fails after its change committed is left to the relay; the request that committed goes on."""

import pytest
from django.db import OperationalError, connections, transaction

from outbox import services as outbox
from outbox.models import OutboxEvent


def failing_updates_of(table: str):
    """The database refusing UPDATEs of ``table`` as a server that has just gone away does."""

    def wrapper(execute, sql, params, many, context):
        if sql.startswith("UPDATE") and f'"{table}"' in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.commit_hook_fails
@pytest.mark.django_db(transaction=True)
def test_a_delivery_failing_after_the_commit_is_logged_and_left_to_the_relay(_no_commit_hook_fails):
    """Django's own commit path (a transactional test): it names the failed callback in its log. A callback
    without a name (a partial) made that logging raise AttributeError out of the commit: a 500."""
    using = outbox.database_of("orders")
    refusing = connections[using].execute_wrapper(failing_updates_of(OutboxEvent._meta.db_table))
    with refusing, transaction.atomic(using=using):
        [event] = outbox.publish_many([("test.nobody_listens", {"n": 1})], app_label="orders")
    assert [pending.id for pending in outbox.list_pending_events()] == [event.id]
    assert any("publish_many.<locals>.deliver" in message for message in _no_commit_hook_fails.messages)
