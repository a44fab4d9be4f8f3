"""/products endpoints: thin views over catalog.services (writes) and catalog.selectors (reads)."""

import json
from dataclasses import replace
from decimal import Decimal

from django.conf import settings
from django.core.paginator import InvalidPage
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from catalog import pages, selectors, services
from catalog.errors import (
    ImageNotFound,
    ImageStorageUnavailable,
    ImageTooLarge,
    ImageTooManyPixels,
    InvalidCursor,
    InvalidImage,
    ProductNotFound,
    SkuTaken,
    UnknownCategory,
    UnsupportedImageType,
)
from catalog.images import DETAIL_SIZE, THUMBNAIL_SIZE
from catalog.models import MAX_PRICE, MIN_PRICE
from catalog.services import MAX_STOCK
from ecommerce.api import ErrorCode, error_responses, staff_permission_responses
from ecommerce.errors import DomainError
from ecommerce.pagination import PageNumberPagination, page_links
from ecommerce.permissions import HasRequiredPermissions, IsStaff, IsStaffOrReadOnly, require_permissions
from ecommerce.serializers import (
    MoneyInputField,
    QueryBooleanField,
    StrictSerializer,
    money_field,
    query_params,
    query_text_schema,
)

# Wire name -> model field, for ?ordering= (each also with a "-" prefix for descending order).
ORDERING_FIELDS = {"price": "price", "name": "name", "createdAt": "created_at"}
ORDERING_CHOICES = [f"{sign}{name}" for name in ORDERING_FIELDS for sign in ("", "-")]
PAGINATION_PARAMETERS = frozenset({"page", "pageSize", "cursor"})


class ProductImageSerializer(serializers.Serializer):
    """A picture of a product: its renditions' URLs (as the storage gives them: a path on this site by default)."""

    thumbnail_url = serializers.CharField(
        help_text="WebP, {}x{}, cropped to fill: for product lists.".format(*THUMBNAIL_SIZE)
    )
    detail_url = serializers.CharField(
        help_text="WebP, the whole picture within {}x{}: for the product page.".format(*DETAIL_SIZE)
    )
    alt = serializers.CharField(help_text="What the picture shows (may be empty).")


class ProductSerializer(serializers.Serializer):
    """A product as clients see it, with the stock available to buy now."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField(
        help_text="The name of the product's category (from the list staff manage in the admin); "
        '"" when it has none. `?category=` and writes take this name or the category\'s slug, in any case.'
    )
    sku = serializers.CharField(allow_null=True)
    price = money_field()
    currency = serializers.SerializerMethodField()
    stock = serializers.IntegerField(help_text="Units available to buy now (on hand minus reserved).")
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    images = ProductImageSerializer(many=True, help_text="The product's pictures in display order; empty if none.")

    def get_currency(self, product: selectors.ProductDetails) -> str:
        return settings.STORE_CURRENCY


class ProductInputSerializer(StrictSerializer):
    """A product as staff write it; unknown fields are refused."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10_000, allow_blank=True, required=False)
    category = serializers.CharField(
        max_length=100,
        allow_blank=True,
        required=False,
        help_text="The name or slug, in any case, of a category staff manage in the admin (Catalog > Categories); "
        '"" for none. One not in that list is refused with `unknown_category`: it is not created.',
    )
    sku = serializers.CharField(max_length=64, allow_blank=True, allow_null=True, required=False)
    price = MoneyInputField(min_value=MIN_PRICE, max_value=MAX_PRICE)
    stock = serializers.IntegerField(min_value=0, max_value=MAX_STOCK, help_text="Units available to buy now.")


class ProductFilterSerializer(serializers.Serializer):
    """The list's query parameters (blank ones count as absent)."""

    # Untrimmed, so that maxLength counts what was sent, as the schema says.
    search = serializers.CharField(max_length=200, required=False, allow_blank=True, trim_whitespace=False)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, trim_whitespace=False)
    min_price = MoneyInputField(required=False, min_value=Decimal(0), max_value=Decimal("9999999999.99"))
    max_price = MoneyInputField(required=False, min_value=Decimal(0), max_value=Decimal("9999999999.99"))
    in_stock = QueryBooleanField(required=False)
    is_active = QueryBooleanField(required=False)
    ordering = serializers.ChoiceField(ORDERING_CHOICES, required=False)

    def validate_ordering(self, value: str) -> str:
        sign = "-" if value.startswith("-") else ""
        return sign + ORDERING_FIELDS[value.removeprefix("-")]


FILTERS = ProductFilterSerializer().fields
PRICE_PARAMETER = {"type": "string", "format": "decimal", "pattern": FILTERS["min_price"].pattern}
LIST_PARAMETERS = [
    OpenApiParameter(
        "search",
        query_text_schema(FILTERS["search"]),
        description="Case-insensitive text in the name, description or SKU.",
    ),
    OpenApiParameter(
        "category",
        query_text_schema(FILTERS["category"]),
        description="A category's name or slug, in any case (`home` finds the products in `Home`).",
    ),
    OpenApiParameter("minPrice", PRICE_PARAMETER, description="Lowest price, inclusive, e.g. `5` or `4.99`."),
    OpenApiParameter("maxPrice", PRICE_PARAMETER, description="Highest price, inclusive, e.g. `50` or `49.99`."),
    OpenApiParameter(
        "inStock", bool, description="`true`: only products with stock available; `false`: only those without."
    ),
    OpenApiParameter("isActive", bool, description="Staff only: filter on active or inactive products."),
    OpenApiParameter(
        "ordering",
        str,
        enum=ORDERING_CHOICES,
        description="Sort key (prefix `-` for descending); ties, and the default order, by id.",
    ),
]


class ProductPagination(PageNumberPagination):
    """Pages by number, or after a cursor (keyset pagination), with a count bounded at ``pages.COUNT_LIMIT``."""

    cursor_query_param = "cursor"

    def get_schema_operation_parameters(self, view) -> list[dict]:
        cursor = {
            "name": self.cursor_query_param,
            "required": False,
            "in": "query",
            "description": "The `nextCursor` of the page before, to read the next page after it: as fast at any "
            "depth (a `page` number far into a long list costs more, like any offset). Opaque: made by this list "
            "for its `ordering`, with any filters; `page` is ignored beside it. Another value, or a cursor of "
            "another `ordering`, is 400 `invalid_cursor`.",
            "schema": {"type": "string"},
        }
        return [*super().get_schema_operation_parameters(view), cursor]

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        properties = paginated["properties"]
        properties["count"]["description"] = (
            f"How many products match: exact up to {pages.COUNT_LIMIT:,}; past that, `countIsExact` is false and "
            f"`count` is {pages.COUNT_LIMIT:,}, meaning at least that many (exact again on a page number past it, "
            "and on `page=last`)."
        )
        properties["countIsExact"] = {
            "type": "boolean",
            "description": f"false when more than {pages.COUNT_LIMIT:,} products match and `count` is a lower bound.",
        }
        properties["nextCursor"] = {
            "type": "string",
            "nullable": True,
            "description": "Send it as `cursor` for the products after this page (null: this page is the last). "
            "`next` is the same page's link: by number, or by cursor when this page was read by cursor (then "
            "`previous` is null: keep the earlier cursors to go back).",
        }
        paginated["properties"] = {
            key: properties[key] for key in ("count", "countIsExact", "next", "previous", "nextCursor", "results")
        }
        paginated["required"] = list(paginated["properties"])
        return paginated

    def page_json(self, request, page: pages.RenderedPage) -> bytes:
        """The list's body around ``page.results``, an already rendered JSON array."""
        url = request.build_absolute_uri()
        if page.number is None:  # after a cursor: the next page after the next cursor
            after = page.next_cursor
            next_link = None if after is None else replace_query_param(remove_query_param(url, "page"), "cursor", after)
            links = b'"next":%s,"previous":null' % json.dumps(next_link).encode()
        else:
            links = page_links(url, self.page_query_param, page.number, page.next_cursor is not None)
        return b'{"count":%d,"countIsExact":%s,%s,"nextCursor":%s,"results":%s}' % (
            page.count.value,
            b"true" if page.count.exact else b"false",
            links,
            json.dumps(page.next_cursor).encode(),
            page.results,
        )


class ProductListView(GenericAPIView):
    permission_classes = [IsStaffOrReadOnly, HasRequiredPermissions]
    required_permissions = {"POST": ["catalog.add_product"]}
    pagination_class = ProductPagination

    FilterSerializer = ProductFilterSerializer

    @extend_schema(
        operation_id="products_list",
        summary="List products",
        parameters=LIST_PARAMETERS,
        responses={200: ProductSerializer(many=True), **error_responses(InvalidCursor)},
        description="Products on sale, 20 a page (`pageSize` up to 100), filtered and sorted as asked. No account "
        "is needed. Staff who send their access token also see withdrawn (inactive) products. Page through "
        "with `page`, or with `cursor` (each page's `nextCursor`), which costs the same at any depth.",
    )
    def get(self, request):
        """The page from catalog.pages: already JSON, in the shape of ProductSerializer's page."""
        filters = self._filters(request)
        if not request.user.is_staff:
            filters = replace(filters, is_active=True)
        try:
            page = pages.product_list_page(
                filters=filters,
                page=request.query_params.get("page") or "1",
                page_size=self.paginator.get_page_size(request),
                cursor=request.query_params.get("cursor", ""),
            )
        except InvalidPage:
            raise NotFound(self.paginator.invalid_page_message) from None
        return HttpResponse(self.paginator.page_json(request, page), content_type="application/json")

    def _filters(self, request) -> selectors.ProductFilters:
        if PAGINATION_PARAMETERS.issuperset(request.query_params):  # the usual request: no filter to validate
            return selectors.ProductFilters()
        params = self.FilterSerializer(data=query_params(request))
        params.is_valid(raise_exception=True)
        return selectors.ProductFilters(**params.validated_data)

    @extend_schema(
        operation_id="products_create",
        summary="Create a product (staff)",
        request=ProductInputSerializer,
        responses={
            201: ProductSerializer,
            **error_responses(SkuTaken, UnknownCategory),
            **staff_permission_responses("catalog.add_product"),
        },
        description="Staff only. Creates a product on sale with the number of units available to buy.",
        examples=[
            OpenApiExample(
                "New product",
                value={
                    "name": "Espresso Machine",
                    "description": "15-bar pump, 1.5 l water tank.",
                    "category": "Home",
                    "price": "129.00",
                    "stock": 10,
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = ProductInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.create_product(**data.validated_data, actor_id=request.user.id)
        details = selectors.get_product_details(product_id=product.id, include_inactive=True)
        return Response(ProductSerializer(details).data, status=status.HTTP_201_CREATED)


class ProductDetailView(APIView):
    patch_is_partial = True  # any subset of the writable fields
    permission_classes = [IsStaffOrReadOnly, HasRequiredPermissions]
    required_permissions = {"PATCH": ["catalog.change_product"], "DELETE": ["catalog.change_product"]}
    path_id_description = "The product's id."

    class UpdateInputSerializer(ProductInputSerializer):
        """Any writable field of a product; unknown fields are refused."""

        is_active = serializers.BooleanField(help_text="`false` hides the product from customers.")

    @extend_schema(
        operation_id="products_retrieve",
        summary="Get a product",
        responses={200: ProductSerializer, **error_responses(ProductNotFound)},
        description="No account is needed. A withdrawn (inactive) product is 404, except for staff who send "
        "their access token.",
    )
    def get(self, request, pk: int):
        if not request.user.is_staff:
            return HttpResponse(pages.product_for_sale(product_id=pk), content_type="application/json")
        details = selectors.get_product_details(product_id=pk, include_inactive=True)
        return Response(ProductSerializer(details).data)

    @extend_schema(
        operation_id="products_partial_update",
        summary="Change a product (staff)",
        request=UpdateInputSerializer,
        responses={
            200: ProductSerializer,
            **error_responses(SkuTaken, UnknownCategory, ProductNotFound),
            **staff_permission_responses("catalog.change_product", "inventory.change_stockitem (to send `stock`)"),
        },
        description="Staff only. Send the fields to change; `stock` sets the number of units available to buy, "
        "`isActive: false` withdraws the product from sale. Orders already placed keep their prices.",
        examples=[
            OpenApiExample("New price", value={"price": "37.50"}, request_only=True),
            OpenApiExample("Restocked", value={"stock": 30}, request_only=True),
            OpenApiExample("Withdrawn from sale", value={"isActive": False}, request_only=True),
        ],
    )
    def patch(self, request, pk: int):
        data = self.UpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "stock" in data.validated_data:
            require_permissions(request.user, "inventory.change_stockitem")
        services.update_product(product_id=pk, actor_id=request.user.id, **data.validated_data)
        details = selectors.get_product_details(product_id=pk, include_inactive=True)
        return Response(ProductSerializer(details).data)

    @extend_schema(
        operation_id="products_destroy",
        summary="Withdraw a product (staff)",
        responses={
            204: OpenApiResponse(description="The product is withdrawn from sale (`isActive: false`)."),
            **error_responses(ProductNotFound),
            **staff_permission_responses("catalog.change_product"),
        },
        description="Staff only. Withdraws the product from sale; it is kept (staff still see it) and the orders "
        "that contain it are unchanged. Withdrawing it again changes nothing.",
    )
    def delete(self, request, pk: int):
        services.deactivate_product(product_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- A product's pictures, as staff manage them ------------------------------------------------------------

# Room for the multipart framing and the text fields around a picture of the largest size taken.
FORM_OVERHEAD_BYTES = 64 * 1024
PICTURE_ERRORS = (InvalidImage, UnsupportedImageType, ImageTooLarge, ImageTooManyPixels)


class PictureUploadParser(parsers.MultiPartParser):
    """A multipart form with one picture; a body longer than the largest picture taken is refused unread."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            length = int(parser_context["request"].META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body for a length it cannot parse
        if length > settings.PRODUCT_IMAGE_MAX_BYTES + FORM_OVERHEAD_BYTES:
            limit = settings.PRODUCT_IMAGE_MAX_BYTES / 2**20
            raise ImageTooLarge(f"The file is too large (at most {limit:g} MB).", attr="file")
        return super().parse(stream, media_type, parser_context)


class ProductPictureSerializer(serializers.Serializer):
    """A picture of a product as staff manage it (the product's `images` list the same renditions, in order)."""

    id = serializers.IntegerField(help_text="The picture's id, for removing it.")
    thumbnail_url = serializers.CharField(
        help_text="WebP, {}x{}, cropped to fill: for product lists.".format(*THUMBNAIL_SIZE)
    )
    detail_url = serializers.CharField(
        help_text="WebP, the whole picture within {}x{}: for the product page.".format(*DETAIL_SIZE)
    )
    alt = serializers.CharField(help_text="What the picture shows (may be empty).")
    position = serializers.IntegerField(help_text="Pictures are shown lowest first (ties: oldest first).")


class ProductImageUploadSerializer(serializers.Serializer):
    """A picture to add, as a multipart form (`multipart/form-data`)."""

    file = serializers.FileField(
        help_text=f"A JPEG, PNG or WebP picture of at most {settings.PRODUCT_IMAGE_MAX_BYTES / 2**20:g} MB and "
        f"{settings.PRODUCT_IMAGE_MAX_PIXELS:,} pixels. Its content decides: not its name or content type."
    )
    alt = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="What the picture shows, for people who cannot see it.",
    )
    position = serializers.IntegerField(
        min_value=0, max_value=32767, required=False, help_text="Lowest first; left out: after the others."
    )


class ProductImageListView(GenericAPIView):
    permission_classes = [IsStaff, HasRequiredPermissions]
    required_permissions = {"GET": ["catalog.view_product"], "POST": ["catalog.change_product"]}
    parser_classes = [PictureUploadParser]
    path_id_description = "The product's id."

    @extend_schema(
        operation_id="products_images_list",
        summary="List a product's pictures (staff)",
        responses={
            200: ProductPictureSerializer(many=True),
            **error_responses(ProductNotFound),
            **staff_permission_responses("catalog.view_product"),
        },
        description="Staff only. The product's pictures in display order, with the ids that remove them; "
        "withdrawn products included.",
    )
    def get(self, request, pk: int):
        page = self.paginate_queryset(services.list_product_images(product_id=pk))
        return self.get_paginated_response(ProductPictureSerializer(page, many=True).data)

    @extend_schema(
        operation_id="products_images_create",
        summary="Add a picture to a product (staff)",
        request=ProductImageUploadSerializer,
        responses={
            201: ProductPictureSerializer,
            **error_responses(*PICTURE_ERRORS, ProductNotFound, ImageStorageUnavailable),
            **error_responses(
                ErrorCode(413, "request_too_large"),
                description="The form's text fields are larger than 1 MiB (a file too large is 400 `image_too_large`).",
            ),
            **error_responses(
                ErrorCode(415, "unsupported_media_type"),
                description="The body is not a multipart form (`Content-Type: multipart/form-data`).",
            ),
            **staff_permission_responses("catalog.change_product"),
        },
        description="Staff only. Upload one picture as `multipart/form-data` (field `file`). It is checked by "
        "decoding it, and its WebP renditions (a list thumbnail and a detail picture) are made once, now; the "
        "product list and page show it at once. Refusals, each 400 with `attr: file`: `required` (no file), "
        "`empty`, `invalid` (a text field, not a file), `invalid_image` (not a picture, or damaged), "
        "`unsupported_image_type` (a picture of another kind: GIF, HEIC, SVG...), `image_too_large` (over "
        f"{settings.PRODUCT_IMAGE_MAX_BYTES / 2**20:g} MB), `image_too_many_pixels` (over "
        f"{settings.PRODUCT_IMAGE_MAX_PIXELS:,} pixels, whatever the file's size: a decompression bomb).",
        examples=[
            OpenApiExample(
                "A picture with its description",
                value={"file": "(the picture's bytes)", "alt": "The mug, from the side"},
                request_only=True,
                media_type="multipart/form-data",
            )
        ],
    )
    def post(self, request, pk: int):
        data = ProductImageUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            prepared = services.prepare_image(data.validated_data["file"])
        except DomainError as error:  # the upload's fault: name its field
            raise type(error)(error.message, attr="file") from None
        picture = services.add_product_image(
            product_id=pk,
            image=prepared,
            alt_text=data.validated_data.get("alt", ""),
            position=data.validated_data.get("position"),
        )
        return Response(ProductPictureSerializer(picture).data, status=status.HTTP_201_CREATED)


class ProductImageDetailView(APIView):
    permission_classes = [IsStaff, HasRequiredPermissions]
    required_permissions = {"DELETE": ["catalog.change_product"]}
    path_id_description = "The product's id."
    path_parameter_descriptions = {"image_id": "The id of one of the product's pictures."}

    @extend_schema(
        operation_id="products_images_destroy",
        summary="Remove a picture from a product (staff)",
        responses={
            204: OpenApiResponse(description="The picture is removed; its files leave the storage."),
            **error_responses(ImageNotFound),
            **staff_permission_responses("catalog.change_product"),
        },
        description="Staff only. The product list and page stop showing the picture at once.",
    )
    def delete(self, request, pk: int, image_id: str):
        services.remove_product_image(image_id=int(image_id), product_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
