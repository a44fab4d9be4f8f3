from catalog import api
from ecommerce.urlpatterns import ID, route

urlpatterns = [
    route("", api.ProductListView.as_view(), "product-list"),
    route(ID, api.ProductDetailView.as_view(), "product-detail"),
    route(rf"{ID}/images", api.ProductImageListView.as_view(), "product-images"),
    route(rf"{ID}/images/(?P<image_id>[0-9]{{1,18}})", api.ProductImageDetailView.as_view(), "product-image"),
]
