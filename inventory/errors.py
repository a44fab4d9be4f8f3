from ecommerce.errors import Conflict, NotFound


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_message = "Not enough stock available."
    extra_fields = {
        "product_ids": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "The products that are short of stock or no longer on sale (cart and checkout).",
        },
        "available": {
            "type": "integer",
            "minimum": 0,
            "description": "Units of the product available now, when a single product was asked for (cart).",
        },
    }


class StockItemNotFound(NotFound):
    default_message = "No stock is kept for this product."
