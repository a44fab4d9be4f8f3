"""/auth/me/addresses: the customer's address book, and the address rules every address input shares."""

import threading

import pytest
from django.db import close_old_connections

from accounts import services as accounts
from ecommerce.addresses import PostalAddress

pytestmark = pytest.mark.django_db

HOME = {"name": "Ann Smith", "line1": "12 Rue de la Paix", "city": "Paris", "postalCode": "75002", "country": "FR"}


def errors(response) -> list[tuple[str, str]]:
    return [(e["attr"], e["code"]) for e in response.json()["errors"]]


def test_a_customer_saves_reads_replaces_and_deletes_an_address(customer_client):
    created = customer_client.post("/auth/me/addresses", {**HOME, "phone": "+33 1 23 45 67 89"}, format="json")
    assert created.status_code == 201
    address = created.json()
    assert {k: address[k] for k in (*HOME, "line2", "phone")} == {**HOME, "line2": "", "phone": "+33 1 23 45 67 89"}
    assert customer_client.get(f"/auth/me/addresses/{address['id']}/").json() == address

    moved = customer_client.put(
        f"/auth/me/addresses/{address['id']}", {**HOME, "city": "Lyon", "postalCode": "69001"}, format="json"
    )
    assert moved.status_code == 200 and (moved.json()["city"], moved.json()["phone"]) == ("Lyon", "")
    listed = customer_client.get("/auth/me/addresses").json()
    assert listed["count"] == 1 and listed["results"][0]["city"] == "Lyon"

    assert customer_client.delete(f"/auth/me/addresses/{address['id']}").status_code == 204
    assert customer_client.get(f"/auth/me/addresses/{address['id']}").status_code == 404
    assert customer_client.get("/auth/me/addresses").json()["results"] == []


def test_another_customers_address_is_not_found(customer_client, other_client):
    address = customer_client.post("/auth/me/addresses", HOME, format="json").json()
    url = f"/auth/me/addresses/{address['id']}"
    assert other_client.get(url).status_code == 404
    assert other_client.put(url, HOME, format="json").status_code == 404
    assert other_client.delete(url).status_code == 404
    assert other_client.get("/auth/me/addresses").json()["count"] == 0
    assert customer_client.get(url).status_code == 200


def test_the_address_book_needs_a_login(anon_client):
    assert anon_client.get("/auth/me/addresses").status_code == 401
    assert anon_client.post("/auth/me/addresses", HOME, format="json").status_code == 401


def test_input_is_normalised(customer_client):
    written = {**HOME, "name": "  Zoe\u0308 Dupont ", "country": "FR", "postalCode": "sw1a 1aa"}
    address = customer_client.post("/auth/me/addresses", written, format="json").json()
    assert address["name"] == "Zoë Dupont"  # NFC: one code point for ë
    assert (address["country"], address["postalCode"]) == ("FR", "SW1A 1AA")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "x" * 101}, [("name", "max_length")]),
        ({"line1": "x" * 201}, [("line1", "max_length")]),
        ({"line2": "x" * 201}, [("line2", "max_length")]),
        ({"city": "x" * 101}, [("city", "max_length")]),
        ({"postalCode": "1" * 21}, [("postalCode", "max_length")]),
        ({"phone": "1" * 33}, [("phone", "max_length")]),
        ({"country": "XX"}, [("country", "invalid_country")]),
        ({"country": "FRA"}, [("country", "invalid_country")]),
        ({"country": "fr"}, [("country", "invalid_country")]),  # the schema lists the codes in capitals
        ({"country": "ÜS"}, [("country", "invalid_country")]),
        ({"country": ""}, [("country", "blank")]),
        ({"country": None}, [("country", "null")]),
        ({"country": 33}, [("country", "invalid")]),
        ({"postalCode": 75002}, [("postalCode", "invalid")]),
        ({"postalCode": "75;002"}, [("postalCode", "invalid_postal_code")]),
        ({"postalCode": "-"}, [("postalCode", "invalid_postal_code")]),
        ({"phone": "call me"}, [("phone", "invalid_phone")]),
        ({"name": "Ann\x00Smith"}, [("name", "invalid_characters")]),
        ({"line1": "12 Rue\u202e de la Paix"}, [("line1", "invalid_characters")]),
        ({"city": "Par\x1bis"}, [("city", "invalid_characters")]),
        ({"name": ["Ann"]}, [("name", "invalid")]),
        ({"city": {"a": 1}}, [("city", "invalid")]),
        ({"name": "   "}, [("name", "blank")]),
        ({"isDefault": True}, [("isDefault", "unknown_field")]),
    ],
)
def test_hostile_input_is_400_with_the_field_and_a_code(customer_client, change, expected):
    response = customer_client.post("/auth/me/addresses", {**HOME, **change}, format="json")
    assert response.status_code == 400
    assert set(expected) <= set(errors(response))  # an overlong phone is also not a phone number: both are named
    assert customer_client.get("/auth/me/addresses").json()["count"] == 0


@pytest.mark.parametrize("missing", ["name", "line1", "city", "postalCode", "country"])
def test_each_required_field_is_named_when_missing(customer_client, missing):
    body = {k: v for k, v in HOME.items() if k != missing}
    response = customer_client.post("/auth/me/addresses", body, format="json")
    assert response.status_code == 400 and errors(response) == [(missing, "required")]


@pytest.mark.parametrize("body", [[], "an address", 42, None])
def test_a_body_that_is_not_an_object_is_400(customer_client, body):
    response = customer_client.post("/auth/me/addresses", body, format="json")
    assert response.status_code == 400


def test_letters_of_every_script_are_welcome(customer_client):
    written = {
        "name": "山田 太郎",
        "line1": "東京都千代田区千代田1-1",
        "city": "東京",
        "postalCode": "100-8111",
        "country": "JP",
    }
    response = customer_client.post("/auth/me/addresses", written, format="json")
    assert response.status_code == 201 and response.json()["name"] == "山田 太郎"
    arabic = {"name": "ليلى", "line1": "شارع الملك فهد", "city": "الرياض", "postalCode": "12211", "country": "SA"}
    assert customer_client.post("/auth/me/addresses", arabic, format="json").status_code == 201


def test_the_address_book_is_capped_and_the_cap_holds_under_races(customer, customer_client):
    address = PostalAddress.build(**{"name": "A", "line1": "B", "city": "C", "postal_code": "1", "country": "DE"})
    for _ in range(accounts.MAX_ADDRESSES - 1):
        accounts.add_address(user_id=customer.id, address=address)
    response = customer_client.post("/auth/me/addresses", HOME, format="json")
    assert response.status_code == 201
    full = customer_client.post("/auth/me/addresses", HOME, format="json")
    assert full.status_code == 409 and full.json()["errors"][0]["code"] == "address_book_full"
    assert customer_client.get("/auth/me/addresses?pageSize=100").json()["count"] == accounts.MAX_ADDRESSES


@pytest.mark.django_db(transaction=True)
def test_racing_saves_never_pass_the_cap(customer):
    address = PostalAddress.build(**{"name": "A", "line1": "B", "city": "C", "postal_code": "1", "country": "DE"})
    for _ in range(accounts.MAX_ADDRESSES - 2):
        accounts.add_address(user_id=customer.id, address=address)
    outcomes = []
    barrier = threading.Barrier(6)

    def save():
        try:
            barrier.wait()
            accounts.add_address(user_id=customer.id, address=address)
            outcomes.append("saved")
        except accounts.AddressBookFull:
            outcomes.append("full")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=save) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["full"] * 4 + ["saved"] * 2
    assert len(accounts.list_addresses(user_id=customer.id)) == accounts.MAX_ADDRESSES
