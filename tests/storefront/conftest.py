"""Shop fixtures: shoppers logged in through Django's session, as a browser would be."""

import pytest
from django.test import Client

from tests.conftest import make_user

PASSWORD = "Str0ng-Passw0rd!"


def logged_in(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


@pytest.fixture
def shopper(db):
    return make_user(name="Sam Shopper", password=PASSWORD)


@pytest.fixture
def shop(shopper) -> Client:
    """The shopper's browser: a client with a logged-in session."""
    return logged_in(shopper)


@pytest.fixture
def other_shop(db) -> Client:
    return logged_in(make_user(name="Olga Other", password=PASSWORD))


@pytest.fixture
def visitor() -> Client:
    return Client()
