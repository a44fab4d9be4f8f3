"""Database helpers of the kernel: what a request does when its own connection may be broken."""

import logging

from django.db import DatabaseError, InterfaceError, OperationalError, connections, router, transaction

from ecommerce.routers import database_for

logger = logging.getLogger(__name__)

# The errors of a database that cannot be reached or answer now (down, restarting, connection lost,
# locked): worth retrying, unlike a bug.
DATABASE_OUTAGES = (OperationalError, InterfaceError)


def atomic(app_label: str, **options) -> transaction.Atomic:
    """A transaction on the database of ``app_label`` (a context manager or decorator, as ``transaction.atomic``).

    Every transaction of a service is opened this way, on its own app's database: with one database per app,
    a plain ``transaction.atomic()`` would open it on ``default`` and leave the app's writes in autocommit.
    """
    return transaction.atomic(using=database_for(app_label), **options)


def on_commit(app_label: str, callback) -> None:
    """Run ``callback`` once the current transaction of ``app_label``'s database commits."""
    transaction.on_commit(callback, using=database_for(app_label), robust=True)


def execute_on_fresh_connection(model, sql: str, params: list) -> bool:
    """Run one statement on a connection of its own, to the database of ``model``.

    For the clean-up of a request whose connection just failed: that connection may be broken or in
    an aborted transaction. Returns False, without raising, if the database cannot be reached.
    """
    fresh = connections.create_connection(router.db_for_write(model))
    try:
        with fresh.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        logger.warning("Database unreachable: could not run the clean-up %r.", sql.split(" WHERE")[0])
        return False
    finally:
        fresh.close()
    return True
