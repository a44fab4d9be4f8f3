from cart import api
from ecommerce.urlpatterns import ID, route

urlpatterns = [
    route("", api.CartView.as_view(), "cart"),
    route(ID, api.CartLineView.as_view(), "cart-line"),
]
