from ecommerce.errors import DomainError, NotFound


class ProductNotFound(NotFound):
    default_message = "No such product."


class SkuTaken(DomainError):
    status = 400
    code = "sku_taken"
    default_message = "Another product already has this SKU."
