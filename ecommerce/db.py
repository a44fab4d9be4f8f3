"""Database helpers of the kernel: what a request does when its own connection may be broken."""

import logging
from contextlib import contextmanager

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

    def run() -> None:
        callback()

    # Django names a callback that raised by its __qualname__, which a partial or a callable object lacks: the
    # error would escape as an AttributeError from the commit, failing the request that the hook must not fail.
    run.__qualname__ = getattr(callback, "__qualname__", type(callback).__qualname__)
    transaction.on_commit(run, using=database_for(app_label), robust=True)


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


class AlongsideRead:
    """The rows of a read sent with another query (``read_alongside``): ``rows`` once the block has ended."""

    def __init__(self) -> None:
        self.rows: list[tuple] | None = None


def _batches_statements(connection) -> bool:
    """Whether one ``execute`` may carry several statements and return each result (psycopg 3, client-side binding)."""
    if connection.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3 and not connection.settings_dict["OPTIONS"].get("server_side_binding")


@contextmanager
def read_alongside(model, sql: str):
    """Send ``sql`` (a SELECT without parameters, on the database of ``model``) with the next SELECT that the block
    runs on that database, in one round trip; its rows are in the yielded object's ``rows`` after the block.

    For the hot reads that need two apps' rows at once (the catalogue version and the stock), where each app
    keeps writing its own SQL. On PostgreSQL (psycopg 3, client-side binding) both statements go in one
    ``execute`` and read as two results, the one given here first; elsewhere, or if the block runs no such
    query on that database (another app's database, a remote app), ``sql`` runs on its own when the block ends.
    """
    connection = connections[router.db_for_read(model)]
    read = AlongsideRead()
    done = False

    def send_along(execute, query, params, many, context):
        nonlocal done
        mergeable = params is None or isinstance(params, list | tuple)
        if done or many or not mergeable or query.lstrip()[:6].upper() != "SELECT":
            return execute(query, params, many, context)
        done = True
        result = execute(f"{sql}; {query}", params, many, context)
        cursor = context["cursor"]
        read.rows = cursor.fetchall()
        cursor.nextset()
        return result

    if _batches_statements(connection):
        with connection.execute_wrapper(send_along):
            yield read
    else:
        yield read
    if not done:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            read.rows = cursor.fetchall()
