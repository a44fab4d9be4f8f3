"""Database helpers of the kernel: what a request does when its own connection may be broken."""

import logging

from django.db import DatabaseError, InterfaceError, OperationalError, connections, router

logger = logging.getLogger(__name__)

# The errors of a database that cannot be reached or answer now (down, restarting, connection lost,
# locked): worth retrying, unlike a bug.
DATABASE_OUTAGES = (OperationalError, InterfaceError)


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
