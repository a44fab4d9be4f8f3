from catalog import api
from ecommerce.urlpatterns import ID, route

urlpatterns = [
    route("", api.ProductListView.as_view(), "product-list"),
    route(ID, api.ProductDetailView.as_view(), "product-detail"),
]
