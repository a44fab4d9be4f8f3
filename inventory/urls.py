from ecommerce.urlpatterns import ID, route
from inventory import api

urlpatterns = [
    route(ID, api.StockLevelView.as_view(), "inventory-detail"),
    route(rf"{ID}/movements", api.StockMovementListView.as_view(), "inventory-movements"),
]
