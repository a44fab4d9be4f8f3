from ecommerce.errors import Conflict, NotFound


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_message = "Not enough stock available."


class StockItemNotFound(NotFound):
    default_message = "No stock is kept for this product."
