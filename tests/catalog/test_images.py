"""Product pictures: uploaded by staff in the admin, checked by decoding them, renditions made once, served to
clients as URLs on the product list and detail (through the cached pages, without extra queries)."""

import io
import os
import random
import struct
import subprocess
import sys
import zlib

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from catalog import services
from catalog.images import DETAIL_SIZE, THUMBNAIL_SIZE
from catalog.models import Product, ProductImage
from tests.catalog.test_admin import CHANGELIST, NO_PICTURES, change_form
from tests.catalog.test_cached_reads import round_trips, shown
from tests.conftest import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_media_root(settings, tmp_path):
    """A storage of each test's own: what a test finds stored is what it stored."""
    settings.MEDIA_ROOT = tmp_path / "media"


def picture_bytes(image_format: str = "PNG", size: tuple[int, int] = (640, 480), colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, image_format)
    return out.getvalue()


def upload(data: bytes, name: str = "mug.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def add_picture(product_id: int, alt_text: str = "", **kwargs) -> int:
    image = services.prepare_image(upload(picture_bytes(**kwargs)))
    return services.add_product_image(product_id=product_id, image=image, alt_text=alt_text).id


def with_pictures(product_id: int, *uploads: SimpleUploadedFile, alt: str = "") -> dict:
    """The product's change form with new pictures in its inline, as the browser posts it."""
    form = change_form(product_id, **{"pictures-TOTAL_FORMS": str(len(uploads))})
    for number, file in enumerate(uploads):
        form.update({f"pictures-{number}-upload": file, f"pictures-{number}-alt_text": alt})
    return form


def stored_files(product_id: int) -> list[str]:
    folder = f"products/{product_id}"
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


def png_claiming(width: int, height: int) -> bytes:
    """A small, valid-looking PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""
    data = bytearray(picture_bytes("PNG", (8, 8)))
    header = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)


# Uploading in the admin


def test_staff_upload_a_picture_on_the_product_page_and_its_renditions_are_stored(admin_client, anon_client):
    product = make_product(name="Teapot")
    form = with_pictures(
        product.id, upload(picture_bytes("JPEG", (2000, 1000)), "teapot.jpg", "image/jpeg"), alt="A teapot"
    )
    assert admin_client.post(f"{CHANGELIST}{product.id}/change/", form).status_code == 302

    image = ProductImage.objects.get(product_id=product.id)
    assert image.alt_text == "A teapot" and image.original.endswith(".jpg")
    with default_storage.open(image.thumbnail) as thumbnail, default_storage.open(image.detail) as detail:
        thumbnail, detail = Image.open(thumbnail), Image.open(detail)
        assert (thumbnail.format, thumbnail.size) == ("WEBP", THUMBNAIL_SIZE)
        assert (detail.format, detail.size) == ("WEBP", (DETAIL_SIZE[0], 600))  # the whole picture, made smaller
    assert sorted(stored_files(product.id)) == sorted(
        name.rsplit("/", 1)[1] for name in (image.original, image.thumbnail, image.detail)
    )
    page = admin_client.get(f"{CHANGELIST}{product.id}/change/").content.decode()
    assert default_storage.url(image.thumbnail) in page  # the preview

    in_list, detail = shown(anon_client, product.id)
    expected = [{"thumbnailUrl": f"/media/{image.thumbnail}", "detailUrl": f"/media/{image.detail}", "alt": "A teapot"}]
    assert in_list["images"] == detail["images"] == expected


def test_several_pictures_in_one_save_keep_their_order(admin_client, anon_client):
    product = make_product()
    form = with_pictures(product.id, *(upload(picture_bytes(colour=c), f"{c}.png") for c in ("red", "blue")))
    form.update({"pictures-0-position": "5", "pictures-1-position": "1"})
    assert admin_client.post(f"{CHANGELIST}{product.id}/change/", form).status_code == 302
    red, blue = ProductImage.objects.filter(product_id=product.id).order_by("id")
    urls = [image["thumbnailUrl"] for image in shown(anon_client, product.id)[1]["images"]]
    assert urls == [f"/media/{blue.thumbnail}", f"/media/{red.thumbnail}"]


HOSTILE_UPLOADS = {
    "not-an-image": (b"hello, I am text", "photo.png", "image/png", "not a JPEG, PNG or WebP"),
    "html-named-jpg": (b"<html><script>alert(1)</script></html>", "x.jpg", "image/jpeg", "not a JPEG, PNG or WebP"),
    "gif": (picture_bytes("GIF"), "anim.gif", "image/gif", "not a JPEG, PNG or WebP"),
    "bmp-named-png": (picture_bytes("BMP"), "photo.png", "image/png", "not a JPEG, PNG or WebP"),
    "truncated-jpeg": (picture_bytes("JPEG", (800, 600))[:1500], "cut.jpg", "image/jpeg", "damaged"),
    "bomb-header": (png_claiming(100_000, 100_000), "bomb.png", "image/png", "too many pixels"),
    "just-over-the-pixel-limit": (png_claiming(5001, 5000), "big.png", "image/png", "too many pixels"),
    "empty": (b"", "empty.png", "image/png", "empty"),
}


@pytest.mark.parametrize("data, name, content_type, message", HOSTILE_UPLOADS.values(), ids=HOSTILE_UPLOADS.keys())
def test_an_upload_that_is_not_an_acceptable_picture_is_refused_with_a_message(
    admin_client, data, name, content_type, message
):
    product = make_product()
    form = with_pictures(product.id, upload(data, name, content_type))
    response = admin_client.post(f"{CHANGELIST}{product.id}/change/", form)
    assert response.status_code == 200  # the form again, with the error on the picture
    assert message in response.content.decode()
    assert not ProductImage.objects.exists() and stored_files(product.id) == []
    assert Product.objects.get(pk=product.id).images == []


def test_a_file_over_the_size_limit_is_refused_before_it_is_decoded(admin_client, settings):
    settings.PRODUCT_IMAGE_MAX_BYTES = 2048
    product = make_product()
    data = picture_bytes("PNG", (300, 300))
    noise = Image.frombytes("RGB", (64, 64), random.Random(1).randbytes(64 * 64 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert len(out.getvalue()) > 2048
    response = admin_client.post(f"{CHANGELIST}{product.id}/change/", with_pictures(product.id, upload(out.getvalue())))
    assert response.status_code == 200 and "too large (at most 0.00195312 MB)" in response.content.decode()
    assert not ProductImage.objects.exists() and stored_files(product.id) == []
    assert len(data) < 2048  # a small one is taken under the same limit
    assert (
        admin_client.post(f"{CHANGELIST}{product.id}/change/", with_pictures(product.id, upload(data))).status_code
        == 302
    )


def test_a_new_product_with_a_bad_picture_is_not_created(admin_client):
    data = {"name": "Lamp", "price": "9.00", "stock": 1, "initial-stock": 0, "_save": "Save", **NO_PICTURES}
    data.update({"pictures-TOTAL_FORMS": "1", "pictures-0-upload": upload(b"nope", "lamp.png")})
    response = admin_client.post(f"{CHANGELIST}add/", data)
    assert response.status_code == 200 and "not a JPEG, PNG or WebP" in response.content.decode()
    assert not Product.objects.exists()


def test_a_new_product_with_a_picture(admin_client, anon_client):
    data = {"name": "Lamp", "price": "9.00", "stock": 1, "initial-stock": 0, "_save": "Save", **NO_PICTURES}
    data.update({"pictures-TOTAL_FORMS": "1", "pictures-0-upload": upload(picture_bytes("WEBP"), "lamp.webp")})
    assert admin_client.post(f"{CHANGELIST}add/", data).status_code == 302
    product = Product.objects.get()
    assert ProductImage.objects.get(product=product).original.endswith(".webp")
    assert len(shown(anon_client, product.id)[0]["images"]) == 1


def test_staff_remove_a_picture_and_its_files_leave_the_storage(admin_client, anon_client):
    product = make_product()
    kept, removed = add_picture(product.id, "kept"), add_picture(product.id, "removed")
    form = change_form(product.id, **{"pictures-TOTAL_FORMS": "2", "pictures-INITIAL_FORMS": "2"})
    for number, image_id in enumerate((kept, removed)):
        image = ProductImage.objects.get(pk=image_id)
        form.update(
            {
                f"pictures-{number}-id": image_id,
                f"pictures-{number}-product": product.id,
                f"pictures-{number}-alt_text": image.alt_text,
                f"pictures-{number}-position": image.position,
            }
        )
    form.update({"pictures-1-DELETE": "on", "pictures-0-alt_text": "kept, described"})
    assert admin_client.post(f"{CHANGELIST}{product.id}/change/", form).status_code == 302
    assert list(ProductImage.objects.values_list("id", flat=True)) == [kept]
    assert len(stored_files(product.id)) == 3  # the kept picture's original and two renditions
    assert [image["alt"] for image in shown(anon_client, product.id)[0]["images"]] == ["kept, described"]


# Served to clients: the API, through the cached pages, without stale lists or extra queries


def test_a_product_without_pictures_has_an_empty_list(anon_client, staff_client, product):
    in_list, detail = shown(anon_client, product.id)
    assert in_list["images"] == detail["images"] == []
    assert staff_client.get(f"/products/{product.id}").json()["images"] == []


def test_staff_see_the_same_pictures(anon_client, staff_client, product):
    add_picture(product.id, "Blue mug")
    expected = shown(anon_client, product.id)[1]["images"]
    assert staff_client.get(f"/products/{product.id}").json()["images"] == expected
    assert staff_client.get("/products").json()["results"][0]["images"] == expected


def test_adding_changing_and_removing_a_picture_is_visible_at_once(anon_client):
    product = make_product()
    for _ in range(2):  # cached
        assert shown(anon_client, product.id)[0]["images"] == []
    image_id = add_picture(product.id, "front")
    in_list, detail = shown(anon_client, product.id)
    assert [i["alt"] for i in in_list["images"]] == [i["alt"] for i in detail["images"]] == ["front"]
    services.update_product_image(image_id=image_id, alt_text="the front", position=3)
    assert [i["alt"] for i in shown(anon_client, product.id)[0]["images"]] == ["the front"]
    services.remove_product_image(image_id=image_id)
    in_list, detail = shown(anon_client, product.id)
    assert in_list["images"] == detail["images"] == []


def test_pictures_cost_no_query_on_the_list_and_the_detail(anon_client, django_assert_num_queries):
    for _ in range(20):
        product = make_product()
        add_picture(product.id, size=(64, 48))
        add_picture(product.id, size=(64, 48))
    with django_assert_num_queries(3):  # version, page with its count, stock
        results = anon_client.get("/products").json()["results"]
    assert len(results) == 20 and all(len(p["images"]) == 2 for p in results)
    with django_assert_num_queries(round_trips(postgresql=1, elsewhere=2)):  # version and stock
        anon_client.get("/products")
    with django_assert_num_queries(round_trips(postgresql=1, elsewhere=2)):  # version and stock (the product is kept)
        assert len(anon_client.get(f"/products/{product.id}").json()["images"]) == 2


def test_the_schema_documents_the_pictures(anon_client):
    schema = anon_client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    images = schema["components"]["schemas"]["Product"]["properties"]["images"]
    assert images["type"] == "array" and images["items"] == {"$ref": "#/components/schemas/ProductImage"}
    picture = schema["components"]["schemas"]["ProductImage"]
    assert set(picture["properties"]) == set(picture["required"]) == {"thumbnailUrl", "detailUrl", "alt"}


# Served files


def test_the_app_serves_stored_pictures_with_their_type(client, product):
    add_picture(product.id)
    image = ProductImage.objects.get()
    response = client.get(f"/media/{image.thumbnail}")
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == THUMBNAIL_SIZE
    assert "immutable" in response["Cache-Control"]
    assert client.head(f"/media/{image.original}")["Content-Type"] == "image/png"
    assert client.post(f"/media/{image.thumbnail}").status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "products/1/missing.webp",
        "../ecommerce/settings.py",
        "..%2f..%2fetc%2fpasswd.png",
        "products/",
        "x.txt",
        "a%00.png",
    ],
)
def test_only_stored_pictures_are_served(client, path):
    assert client.get(f"/media/{path}").status_code == 404


# The demo catalogue


def test_the_demo_catalogue_has_a_drawn_picture_for_every_product(anon_client):
    call_command("load_demo_catalogue")
    results = anon_client.get("/products?pageSize=100").json()["results"]
    assert len(results) == 20 and all(len(product["images"]) == 1 for product in results)
    response = anon_client.get(results[0]["images"][0]["detailUrl"])
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert settings.MEDIA_ROOT != settings.BASE_DIR / "media"  # the test run's own folder


def test_pages_may_show_pictures_from_the_origins_configured_for_them():
    script = "from ecommerce.security import CONTENT_SECURITY_POLICY as csp; print(csp)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "CSP_IMG_SOURCES": "https://cdn.example.com"}
    policy = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"], env=env, capture_output=True, text=True
    ).stdout
    assert "img-src 'self' data: https://cdn.example.com;" in policy


def test_staff_who_may_only_view_products_see_the_pictures_and_cannot_change_them(client):
    viewers = Group.objects.create(name="Product viewers")
    viewers.permissions.add(Permission.objects.get(codename="view_product"))
    viewer = get_user_model().objects.create_user(email="viewer@example.com", password="x", name="V", is_staff=True)
    viewer.groups.add(viewers)
    client.force_login(viewer)
    product = make_product(name="Seen")
    add_picture(product.id, "From the side")
    page = client.get(f"{CHANGELIST}{product.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "From the side" in html and 'type="file"' not in html
