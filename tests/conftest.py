"""Shared fixtures: users, tokens and API clients."""

import itertools

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts import services as accounts

_emails = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests (real concurrency) are skipped, visibly, on SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the shared cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def make_user(*, staff: bool = False, password: str = "Str0ng-Passw0rd!", name: str = "Test User"):
    """A user created through the service (staff flag set the way the admin would)."""
    user = accounts.register_user(name=name, email=f"user{next(_emails)}@example.com", password=password)
    if staff:
        from django.contrib.auth import get_user_model

        get_user_model().objects.filter(pk=user.id).update(is_staff=True)
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
    """A product on sale, with stock, created through the catalog service."""
    from decimal import Decimal

    from catalog import services as catalog

    number = next(_products)
    return catalog.create_product(name=name or f"Product {number}", price=Decimal(price), stock=stock, **fields)


@pytest.fixture
def product(db):
    return make_product(price="19.99", stock=5, name="Blue Mug")


@pytest.fixture
def count_queries():
    """Counts the SQL statements a block runs, leaving out savepoints (tests wrap everything in a transaction)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    class Counter(CaptureQueriesContext):
        @property
        def statements(self) -> list[str]:
            return [q["sql"] for q in self.captured_queries if "SAVEPOINT" not in q["sql"]]

    return lambda: Counter(connection)
