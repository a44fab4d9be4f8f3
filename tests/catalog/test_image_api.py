"""/products/{id}/images: staff add, list and remove a product's pictures over the API, checked as the admin checks
them (one validation: catalog.images), hostile uploads answered 400 with a code, never 500; and no picture file
outlives the transaction that stored it or the row that referred to it."""

import io
import random

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from catalog import services
from catalog.models import Product, ProductImage
from ecommerce.db import atomic
from tests.catalog.test_cached_reads import shown
from tests.catalog.test_images import add_picture, picture_bytes, png_claiming, stored_files, upload
from tests.conftest import client_for, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def post_picture(client, product_id: int, data: bytes | None, name="mug.png", content_type="image/png", **fields):
    body = dict(fields)
    if data is not None:
        body["file"] = upload(data, name, content_type)
    return client.post(f"/products/{product_id}/images", body, format="multipart")


def error(response) -> tuple[str | None, str]:
    (first, *_) = response.json()["errors"]
    return first["attr"], first["code"]


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 bytes a pixel."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3)).save(out, "PNG")
    return out.getvalue()


def test_staff_add_a_picture_and_clients_see_it_on_the_list_and_the_detail(staff_client, anon_client):
    product = make_product(name="Mug")
    response = post_picture(staff_client, product.id, picture_bytes("JPEG", (1600, 1200)), "mug.jpg", alt="Blue mug")
    assert response.status_code == 201, response.json()
    picture = response.json()
    row = ProductImage.objects.get(product_id=product.id)
    assert picture == {
        "id": row.id,
        "thumbnailUrl": f"/media/{row.thumbnail}",
        "detailUrl": f"/media/{row.detail}",
        "alt": "Blue mug",
        "position": 0,
    }
    assert len(stored_files(product.id)) == 3  # the original and its two renditions
    in_list, detail = shown(anon_client, product.id)
    expected = [{"thumbnailUrl": picture["thumbnailUrl"], "detailUrl": picture["detailUrl"], "alt": "Blue mug"}]
    assert in_list["images"] == detail["images"] == expected
    assert anon_client.get(picture["detailUrl"]).status_code == 200


def test_staff_list_a_products_pictures_in_order_and_remove_one(staff_client, anon_client):
    product = make_product()
    second = post_picture(staff_client, product.id, picture_bytes(colour="red"), alt="red", position="5").json()
    first = post_picture(staff_client, product.id, picture_bytes(colour="blue"), alt="blue", position="1").json()
    listed = staff_client.get(f"/products/{product.id}/images").json()
    assert listed["count"] == 2 and [p["id"] for p in listed["results"]] == [first["id"], second["id"]]

    assert staff_client.delete(f"/products/{product.id}/images/{first['id']}").status_code == 204
    assert [p["alt"] for p in shown(anon_client, product.id)[1]["images"]] == ["red"]
    assert len(stored_files(product.id)) == 3
    again = staff_client.delete(f"/products/{product.id}/images/{first['id']}")
    assert again.status_code == 404 and error(again) == (None, "not_found")


def test_a_picture_of_another_product_is_not_found(staff_client):
    mine, other = make_product(), make_product()
    picture = add_picture(other.id)
    response = staff_client.delete(f"/products/{mine.id}/images/{picture}")
    assert response.status_code == 404
    assert ProductImage.objects.filter(pk=picture).exists()


def test_an_unknown_product_is_404(staff_client):
    response = post_picture(staff_client, 999_999, picture_bytes())
    assert response.status_code == 404 and error(response) == (None, "not_found")
    assert staff_client.get("/products/999999/images").status_code == 404
    assert staff_client.delete("/products/999999/images/1").status_code == 404
    assert not default_storage.exists("products/999999")


def test_customers_and_visitors_may_not_touch_pictures(customer_client, anon_client):
    product = make_product()
    picture = add_picture(product.id)
    for client, status in ((customer_client, 403), (anon_client, 401)):
        assert post_picture(client, product.id, picture_bytes()).status_code == status
        assert client.get(f"/products/{product.id}/images").status_code == status
        assert client.delete(f"/products/{product.id}/images/{picture}").status_code == status
    assert error(post_picture(customer_client, product.id, picture_bytes())) == (None, "permission_denied")
    assert ProductImage.objects.count() == 1


def test_staff_roles_need_the_product_permissions(order_manager, catalog_manager):
    product = make_product()
    refused = post_picture(client_for(order_manager), product.id, picture_bytes())
    assert refused.status_code == 403 and error(refused) == (None, "missing_permission")
    assert client_for(order_manager).get(f"/products/{product.id}/images").status_code == 403
    assert post_picture(client_for(catalog_manager), product.id, picture_bytes()).status_code == 201


# Hostile uploads: 400 naming the field and the reason, nothing stored


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'
HEIC = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64
HOSTILE = {
    "text-named-png": (b"hello, I am text", "photo.png", "image/png", "invalid_image"),
    "html-named-jpg": (b"<html><script>alert(1)</script></html>", "x.jpg", "image/jpeg", "invalid_image"),
    "pdf": (b"%PDF-1.4\n1 0 obj <<>> endobj\n", "flyer.jpg", "image/jpeg", "invalid_image"),
    "truncated-jpeg": (picture_bytes("JPEG", (800, 600))[:1500], "cut.jpg", "image/jpeg", "invalid_image"),
    "png-header-only": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "bomb.png", "image/png", "invalid_image"),
    "gif": (picture_bytes("GIF"), "anim.gif", "image/gif", "unsupported_image_type"),
    "bmp-named-png": (picture_bytes("BMP"), "photo.png", "image/png", "unsupported_image_type"),
    "tiff": (picture_bytes("TIFF"), "scan.tif", "image/tiff", "unsupported_image_type"),
    "svg": (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        "logo.png",
        "image/png",
        "unsupported_image_type",
    ),
    "heic": (
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64,
        "IMG_0001.HEIC",
        "image/heic",
        "unsupported_image_type",
    ),
    "bomb-header": (png_claiming(100_000, 100_000), "bomb.png", "image/png", "image_too_many_pixels"),
    "just-over-the-pixel-limit": (png_claiming(5001, 5000), "big.png", "image/png", "image_too_many_pixels"),
    "empty": (b"", "empty.png", "image/png", "empty"),
}


@pytest.mark.parametrize("data, name, content_type, code", HOSTILE.values(), ids=HOSTILE.keys())
def test_an_upload_that_is_not_an_acceptable_picture_is_400_with_a_code(
    staff_client, anon_client, data, name, content_type, code
):
    product = make_product()
    response = post_picture(staff_client, product.id, data, name, content_type)
    assert response.status_code == 400, response.content
    assert error(response) == ("file", code)
    assert response.json()["type"] == "validation_error"
    assert not ProductImage.objects.exists() and stored_files(product.id) == []
    assert shown(anon_client, product.id)[0]["images"] == []


def test_the_kind_of_picture_refused_is_named(staff_client):
    response = post_picture(staff_client, make_product().id, picture_bytes("GIF"), "anim.gif", "image/gif")
    assert response.json()["errors"][0]["detail"] == "The file is a GIF picture, not a JPEG, PNG or WebP."


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({}, ("file", "required")),
        ({"file": "not a file, a text field"}, ("file", "invalid")),
        ({"file": upload(picture_bytes()), "alt": "x" * 201}, ("alt", "max_length")),
        ({"file": upload(picture_bytes()), "position": "-1"}, ("position", "min_value")),
        ({"file": upload(picture_bytes()), "position": "first"}, ("position", "invalid")),
        ({"file": upload(picture_bytes()), "alt": "a\x00b"}, ("alt", "null_characters_not_allowed")),
    ],
    ids=["missing-file", "text-instead-of-a-file", "overlong-alt", "negative-position", "word-position", "nul-alt"],
)
def test_a_form_without_a_usable_file_or_with_bad_fields_is_400(staff_client, fields, expected):
    product = make_product()
    response = staff_client.post(f"/products/{product.id}/images", fields, format="multipart")
    assert response.status_code == 400 and error(response) == expected
    assert not ProductImage.objects.exists()


def test_unicode_text_is_kept(staff_client):
    response = post_picture(staff_client, make_product().id, picture_bytes(), alt="Tasse bleue, vue de côté 🫖 茶")
    assert response.status_code == 201 and response.json()["alt"] == "Tasse bleue, vue de côté 🫖 茶"


def test_a_file_over_the_size_limit_is_400(staff_client, settings):
    settings.PRODUCT_IMAGE_MAX_BYTES = 4096
    product = make_product()
    response = post_picture(staff_client, product.id, noise_png(48))  # about 7 kB: read, then refused
    assert response.status_code == 400 and error(response) == ("file", "image_too_large")
    assert "at most 0.00390625 MB" in response.json()["errors"][0]["detail"]
    assert post_picture(staff_client, product.id, picture_bytes(size=(64, 48))).status_code == 201


def test_a_huge_body_is_refused_before_it_is_read(staff_client, settings):
    settings.PRODUCT_IMAGE_MAX_BYTES = 4096
    product = make_product()
    response = post_picture(staff_client, product.id, noise_png(200))  # about 120 kB: over the limit and the framing
    assert response.status_code == 400 and error(response) == ("file", "image_too_large")
    assert not ProductImage.objects.exists() and stored_files(product.id) == []


def test_a_body_that_is_not_a_multipart_form_is_415_or_400(staff_client):
    product = make_product()
    as_json = staff_client.post(f"/products/{product.id}/images", {"file": "x"}, format="json")
    assert as_json.status_code == 415 and error(as_json) == (None, "unsupported_media_type")
    broken = staff_client.generic(
        "POST", f"/products/{product.id}/images", b"--x\r\nnonsense", content_type="multipart/form-data; boundary=x"
    )
    assert broken.status_code == 400
    no_boundary = staff_client.generic(
        "POST", f"/products/{product.id}/images", b"abc", content_type="multipart/form-data"
    )
    assert no_boundary.status_code == 400 and error(no_boundary) == (None, "parse_error")


# Files never outlive their rows


class Boom(Exception):
    pass


def test_a_rolled_back_transaction_leaves_no_file_behind():
    product = make_product()
    image = services.prepare_image(upload(picture_bytes()))
    with pytest.raises(Boom), atomic("catalog"):
        services.add_product_image(product_id=product.id, image=image)
        assert stored_files(product.id) == []  # written only once the transaction commits
        raise Boom
    assert not ProductImage.objects.exists() and stored_files(product.id) == []
    assert Product.objects.get(pk=product.id).images == []


@pytest.mark.django_db(transaction=True)
def test_an_outer_transaction_that_rolls_back_for_real_leaves_no_file_behind():
    """As the admin's save does: pictures added in a transaction of its own, which a later step fails."""
    product = make_product()
    image = services.prepare_image(upload(picture_bytes()))
    with pytest.raises(Boom), atomic("catalog"):
        services.add_product_image(product_id=product.id, image=image)
        services.add_product_image(product_id=product.id, image=image)
        raise Boom
    assert not ProductImage.objects.exists() and stored_files(product.id) == []
    services.add_product_image(product_id=product.id, image=image)
    assert len(stored_files(product.id)) == 3


def test_a_storage_failure_after_the_commit_keeps_nothing(staff_client, anon_client, monkeypatch):
    product = make_product()
    real_save = default_storage.save
    saved = []

    def save_then_fail(name, content, *args, **kwargs):
        if saved:
            raise OSError("disk full")
        saved.append(real_save(name, content, *args, **kwargs))
        return saved[-1]

    monkeypatch.setattr(default_storage, "save", save_then_fail)
    staff_client.raise_request_exception = False  # server errors are reported, and the test client re-raises them
    response = post_picture(staff_client, product.id, picture_bytes())
    assert response.status_code == 503 and error(response) == (None, "storage_unavailable")
    assert not ProductImage.objects.exists() and stored_files(product.id) == []  # the one written is removed
    assert shown(anon_client, product.id)[0]["images"] == []


def test_removing_a_picture_deletes_its_files_only_once_that_commits():
    product = make_product()
    picture = add_picture(product.id)
    with pytest.raises(Boom), atomic("catalog"):
        services.remove_product_image(image_id=picture)
        assert len(stored_files(product.id)) == 3  # still there: the removal may roll back
        raise Boom
    assert ProductImage.objects.filter(pk=picture).exists() and len(stored_files(product.id)) == 3
    services.remove_product_image(image_id=picture)
    assert stored_files(product.id) == []


def test_deleting_a_product_deletes_its_pictures_files_after_the_commit():
    product, kept = make_product(), make_product()
    add_picture(product.id)
    add_picture(product.id)
    add_picture(kept.id)
    with pytest.raises(Boom), atomic("catalog"):
        Product.objects.get(pk=product.id).delete()
        raise Boom
    assert len(stored_files(product.id)) == 6
    Product.objects.get(pk=product.id).delete()
    assert stored_files(product.id) == [] and len(stored_files(kept.id)) == 3
