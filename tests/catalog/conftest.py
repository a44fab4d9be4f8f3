import pytest
from django.contrib.auth import get_user_model

from catalog import pages


@pytest.fixture(autouse=True)
def _first_request():
    """Each test starts with nothing kept (SQLite reuses ids, and a process keeps pages across tests)."""
    pages.clear_cache()


@pytest.fixture
def admin_user():
    return get_user_model().objects.create_superuser(email="admin@example.com", password="x", name="Admin")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
