"""Product pictures: an upload checked by decoding it with Pillow, and its renditions, made once at upload.

Nothing about an upload is trusted but its decoded pixels: not its name, not its content type. It must be
at most ``PRODUCT_IMAGE_MAX_BYTES`` long (``image_too_large``), a JPEG, PNG or WebP by its content (another
kind of picture, recognised by its signature: ``unsupported_image_type``; anything else: ``invalid_image``),
at most ``PRODUCT_IMAGE_MAX_PIXELS`` pixels by its header (``image_too_many_pixels``, checked before any pixel
is decoded: a small file can claim a picture of billions of pixels), and decode completely (``invalid_image``).
Its renditions are WebP files: a thumbnail for lists (cropped to ``THUMBNAIL_SIZE``) and a detail picture
(whole, within ``DETAIL_SIZE``).
"""

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

from catalog.errors import ImageTooLarge, ImageTooManyPixels, InvalidImage, UnsupportedImageType

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}  # Pillow's name -> file extension of the original
# Pictures staff may try that the shop does not take, named in the refusal. Pillow reads only their header.
OTHER_FORMATS = ("GIF", "BMP", "TIFF", "ICO", "AVIF", "PSD", "JPEG2000")
# ISO media files (HEIC from phones, AVIF) by the brand of their "ftyp" box; Pillow cannot read HEIC.
ISO_MEDIA_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"hevc": "HEIC", b"mif1": "HEIF", b"avif": "AVIF"}
THUMBNAIL_SIZE = (480, 360)
DETAIL_SIZE = (1200, 1200)
WEBP_QUALITY = 82


@dataclass(frozen=True)
class PreparedImage:
    """An upload that passed every check: its bytes, its format's extension, and its renditions (WebP bytes)."""

    original: bytes
    extension: str
    thumbnail: bytes
    detail: bytes


@dataclass(frozen=True)
class ImageLinks:
    """Where clients fetch a product picture's renditions, and its text alternative."""

    thumbnail_url: str
    detail_url: str
    alt: str


def _too_many_pixels() -> ImageTooManyPixels:
    return ImageTooManyPixels(f"The picture has too many pixels (at most {settings.PRODUCT_IMAGE_MAX_PIXELS:,}).")


def _other_kind(data: bytes) -> str | None:
    """The name of the kind of picture ``data`` holds if it is one the shop does not take, else None."""
    if data[4:8] == b"ftyp" and data[8:12] in ISO_MEDIA_BRANDS:
        return ISO_MEDIA_BRANDS[data[8:12]]
    if b"<svg" in data[:4096].lower():
        return "SVG"
    try:
        with Image.open(io.BytesIO(data), formats=OTHER_FORMATS) as image:
            return image.format
    except Exception:  # not a picture Pillow recognises at all
        return None


def _not_taken(data: bytes) -> InvalidImage | UnsupportedImageType:
    kind = _other_kind(data)
    if kind is None:
        return InvalidImage()
    return UnsupportedImageType(f"The file is a {kind} picture, not a JPEG, PNG or WebP.")


def _decode(data: bytes) -> tuple[Image.Image, str]:
    """The picture in ``data``, fully decoded and turned upright, and its format.

    Raises InvalidImage, UnsupportedImageType, ImageTooManyPixels.

    A JPEG is decoded at the smallest scale that still covers the detail rendition, which saves memory.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except Exception:  # Pillow raises many kinds of error on hostile input; none may become a 500
            raise _not_taken(data) from None
        if image.width * image.height > settings.PRODUCT_IMAGE_MAX_PIXELS:
            raise _too_many_pixels()
        image_format = image.format
        try:
            image.draft(None, DETAIL_SIZE)
            image.load()
            return ImageOps.exif_transpose(image), image_format
        except Exception:  # a truncated or corrupt file fails here, while decoding
            raise InvalidImage("The file is damaged: it could not be decoded as a whole picture.") from None


def _within(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The whole picture, made smaller if it does not fit ``size`` (never larger)."""
    fitted = image.copy()
    fitted.thumbnail(size, Image.Resampling.LANCZOS)
    return fitted


def _webp(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()


def prepare_image(upload) -> PreparedImage:
    """Check an uploaded file (any Django ``File``) and make its renditions.

    Raises ImageTooLarge, InvalidImage, UnsupportedImageType, ImageTooManyPixels.
    """
    if upload.size > settings.PRODUCT_IMAGE_MAX_BYTES:
        raise ImageTooLarge(f"The file is too large (at most {settings.PRODUCT_IMAGE_MAX_BYTES / 2**20:g} MB).")
    upload.seek(0)
    data = upload.read()
    image, image_format = _decode(data)
    image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    return PreparedImage(
        original=data,
        extension=FORMATS[image_format],
        thumbnail=_webp(ImageOps.fit(image, THUMBNAIL_SIZE, Image.Resampling.LANCZOS)),
        detail=_webp(_within(image, DETAIL_SIZE)),
    )


def links(stored: list[dict]) -> tuple[ImageLinks, ...]:
    """The pictures kept on a product (``Product.images``) as URLs from the storage, in their order."""
    return tuple(
        ImageLinks(
            thumbnail_url=default_storage.url(image["thumbnail"]),
            detail_url=default_storage.url(image["detail"]),
            alt=image["alt"],
        )
        for image in stored
    )
