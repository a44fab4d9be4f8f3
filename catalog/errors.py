from ecommerce.errors import DomainError, NotFound


class ProductNotFound(NotFound):
    default_message = "No such product."


class SkuTaken(DomainError):
    status = 400
    code = "sku_taken"
    default_message = "Another product already has this SKU."


class InvalidImage(DomainError):
    status = 400
    code = "invalid_image"
    default_message = "The file is not a JPEG, PNG or WebP picture."


class UnsupportedImageType(DomainError):
    status = 400
    code = "unsupported_image_type"
    default_message = "The file is a picture of a kind the shop does not take, not a JPEG, PNG or WebP."


class ImageTooLarge(DomainError):
    status = 400
    code = "image_too_large"
    default_message = "The file is too large."


class ImageTooManyPixels(DomainError):
    status = 400
    code = "image_too_many_pixels"
    default_message = "The picture has too many pixels."


class ImageNotFound(NotFound):
    default_message = "This product has no such picture."


class ImageStorageUnavailable(DomainError):
    status = 503
    code = "storage_unavailable"
    default_message = "The picture could not be stored; nothing was saved. Try again shortly."


class UnknownCategory(DomainError):
    status = 400
    code = "unknown_category"
    default_message = "No category has this name or slug; staff add categories in the admin (Catalog > Categories)."


class CategoryTaken(DomainError):
    status = 400
    code = "category_taken"
    default_message = "A category with this name or slug (in any case) exists already."


class InvalidCursor(DomainError):
    status = 400
    code = "invalid_cursor"
    default_message = "This cursor is not one the product list gave, or not for this ordering."
