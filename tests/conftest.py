"""Shared fixtures: users, tokens and API clients."""

import contextlib
import itertools
import logging

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from rest_framework.test import APIClient

from accounts import services as accounts
from tests.emails import token_in

_emails = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    """Every test that uses the database may use all of them; PostgreSQL-only tests (real concurrency) are
    skipped, visibly, on SQLite."""
    from django.conf import settings

    for item in items:
        _on_every_database(item)

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _on_every_database(item) -> None:
    """Give a database test every database, not only ``default``: with APP_DATABASES each app has its own."""
    marker = item.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(item.fixturenames):
        return
    if marker is None or "databases" not in marker.kwargs:
        kwargs = dict(marker.kwargs) if marker else {}
        marker = pytest.mark.django_db(*(marker.args if marker else ()), databases="__all__", **kwargs)
        item.add_marker(marker, append=False)  # before the test's own marker: the closest one


# Where Django reports an on-commit callback that raised (``robust=True`` hooks: the outbox delivery, emails,
# file clean-up): the transaction stands, the failure is only logged, so a test must look for it.
_COMMIT_HOOK_LOG = logging.getLogger("django.db.backends.base")


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture(autouse=True)
def _no_commit_hook_fails(request):
    """A test fails when an on-commit callback raised during it, though the code under test carried on (unless
    it is marked ``commit_hook_fails``)."""
    records = _Records()
    _COMMIT_HOOK_LOG.addHandler(records)
    yield records
    _COMMIT_HOOK_LOG.removeHandler(records)
    assert request.node.get_closest_marker("commit_hook_fails") or not records.messages, records.messages


@pytest.fixture(autouse=True)
def _commit_hooks_run_when_the_code_commits(monkeypatch):
    """In a test wrapped in a transaction (``django_db``), run on-commit callbacks where the code under test
    commits (its outermost atomic block exits), as they run in production, instead of never.

    Events between apps are delivered on commit; without this, such tests would see none of their effects.
    """
    original_exit = transaction.Atomic.__exit__

    def exit_and_run_hooks(self, exc_type, exc_value, traceback):
        result = original_exit(self, exc_type, exc_value, traceback)
        connection = transaction.get_connection(self.using)
        outermost_of_the_code = connection.atomic_blocks and all(b._from_testcase for b in connection.atomic_blocks)
        if exc_type is None and not self._from_testcase and outermost_of_the_code and not connection.needs_rollback:
            hooks, connection.run_on_commit = connection.run_on_commit, []
            for _, hook, robust in hooks:
                try:
                    hook()
                except Exception as error:
                    if not robust:
                        raise
                    _COMMIT_HOOK_LOG.error("Error calling %s in on_commit() (%s).", hook, error)
        return result

    monkeypatch.setattr(transaction.Atomic, "__exit__", exit_and_run_hooks)


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    """Uploaded files land in a temporary folder of the test run, never in the project's media/."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the shared cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def make_user(
    *,
    staff: bool = False,
    groups: tuple[str, ...] = (),
    password: str = "Str0ng-Passw0rd!",
    name: str = "Test User",
    verified: bool = True,
):
    """A user registered through the service, who followed the verification link it emailed (unless
    ``verified=False``: such a user cannot pay), made staff the way the admin would.

    The verification email is taken out of ``mail.outbox``: tests see only the emails they cause.
    ``staff=True`` alone makes a superuser (every permission, as the demo staff user has); with ``groups``
    (e.g. "Catalog managers", made by a migration) the staff user has exactly those roles' permissions.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    email = f"user{next(_emails)}@example.com"
    registered = accounts.register_user(name=name, email=email, password=password, site_url="http://testserver")
    (verification,) = [message for message in mail.outbox if message.to == [email]]
    mail.outbox.remove(verification)
    user = accounts.verify_email(token=token_in(verification.body)) if verified else registered
    if staff or groups:
        stored = get_user_model().objects.get(pk=user.id)
        stored.is_staff = True
        stored.is_superuser = not groups
        stored.save()
        stored.groups.set([Group.objects.get(name=group) for group in groups])
        user = accounts.get_user(user_id=user.id)
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {accounts.issue_tokens(user_id=user.id).access}")
    return client


@pytest.fixture
def customer(db):
    return make_user(name="Carla Customer")


@pytest.fixture
def other_customer(db):
    return make_user(name="Oscar Other")


@pytest.fixture
def staff(db):
    return make_user(staff=True, name="Stella Staff")


@pytest.fixture
def catalog_manager(db):
    return make_user(groups=("Catalog managers",), name="Cath Catalog")


@pytest.fixture
def order_manager(db):
    return make_user(groups=("Order managers",), name="Otto Orders")


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def customer_client(customer):
    return client_for(customer)


@pytest.fixture
def other_client(other_customer):
    return client_for(other_customer)


@pytest.fixture
def staff_client(staff):
    return client_for(staff)


_products = itertools.count(1)


def make_product(*, price: str = "10.00", stock: int = 10, name: str | None = None, **fields):
    """A product on sale, with stock, created through the catalog service (its category too, if new)."""
    from contextlib import suppress
    from decimal import Decimal

    from catalog import services as catalog

    if fields.get("category"):
        with suppress(catalog.CategoryTaken):
            catalog.create_category(name=fields["category"])
    number = next(_products)
    return catalog.create_product(name=name or f"Product {number}", price=Decimal(price), stock=stock, **fields)


@pytest.fixture
def product(db):
    return make_product(price="19.99", stock=5, name="Blue Mug")


class AllQueries:
    """Captures the SQL a block sends to every database (with APP_DATABASES each app has its own connection)."""

    def __init__(self):
        from django.db import connections
        from django.test.utils import CaptureQueriesContext

        self._contexts = [CaptureQueriesContext(connections[alias]) for alias in connections]

    def __enter__(self):
        for context in self._contexts:
            context.__enter__()
        return self

    def __exit__(self, *exc_info):
        for context in reversed(self._contexts):
            context.__exit__(*exc_info)

    @property
    def captured_queries(self) -> list[dict]:
        return [query for context in self._contexts for query in context.captured_queries]

    def __len__(self) -> int:
        return len(self.captured_queries)

    @property
    def statements(self) -> list[str]:
        """The statements, leaving out savepoints (tests wrap everything in a transaction)."""
        return [q["sql"] for q in self.captured_queries if "SAVEPOINT" not in q["sql"]]


@pytest.fixture
def count_queries():
    """Counts the SQL statements a block runs on any database, leaving out savepoints."""
    return AllQueries


def _assert_queries(expected: int, *, exact: bool):
    @contextlib.contextmanager
    def check():
        with AllQueries() as queries:
            yield queries
        done = len(queries.captured_queries)
        if done != expected if exact else done > expected:
            sql = "\n".join(query["sql"] for query in queries.captured_queries)
            pytest.fail(f"Expected {'' if exact else 'at most '}{expected} queries but {done} were done:\n{sql}")

    return check()


@pytest.fixture
def django_assert_num_queries():
    """pytest-django's fixture, counting the queries sent to every database."""
    return lambda expected: _assert_queries(expected, exact=True)


@pytest.fixture
def django_assert_max_num_queries():
    """pytest-django's fixture, counting the queries sent to every database."""
    return lambda expected: _assert_queries(expected, exact=False)


class WorkerDied(BaseException):
    """What a worker killed mid-request looks like from inside: no ``except Exception`` runs (gunicorn's
    timeout kill raises SystemExit the same way); the database rolls back its open transaction."""


@contextlib.contextmanager
def on_every_database(wrapper):
    """``connection.execute_wrapper(wrapper)`` on the connection of every database (each app may have its own)."""
    from django.db import connections

    with contextlib.ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(wrapper))
        yield


def worker_dies_at(statement: str):
    """A ``connection.execute_wrapper`` killing the request when it sends a statement starting with ``statement``."""

    def wrapper(execute, sql, params, many, context):
        if sql.startswith(statement):
            raise WorkerDied()
        return execute(sql, params, many, context)

    return wrapper
