"""Fill an empty catalogue with demo products, their stock and a picture each (used by ``make run``).

The pictures are drawn here with Pillow (no downloads) and stored as staff uploads are: checked, with renditions.
"""

import io
import textwrap
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from PIL import Image, ImageDraw, ImageFont

from catalog import services
from catalog.models import Product
from ecommerce.db import atomic

# (category, name, price, stock)
DEMO_PRODUCTS = [
    ("Books", "The Pragmatic Programmer", "39.95", 25),
    ("Books", "Designing Data-Intensive Applications", "45.50", 18),
    ("Books", "Two Scoops of Django", "49.00", 12),
    ("Books", "Refactoring", "42.99", 0),
    ("Books", "Domain-Driven Design Distilled", "29.99", 30),
    ("Electronics", "Mechanical Keyboard", "89.00", 40),
    ("Electronics", "Wireless Mouse", "24.99", 75),
    ("Electronics", "27-inch Monitor", "249.00", 8),
    ("Electronics", "USB-C Hub", "34.90", 60),
    ("Electronics", "Noise-Cancelling Headphones", "199.99", 5),
    ("Home", "Espresso Cups (set of 4)", "19.99", 50),
    ("Home", "French Press", "27.50", 22),
    ("Home", "Desk Lamp", "39.00", 15),
    ("Home", "Cast-Iron Pan", "44.95", 0),
    ("Home", "Houseplant Pot", "12.49", 100),
    ("Outdoor", "Trail Backpack 30L", "79.00", 14),
    ("Outdoor", "Water Bottle", "15.99", 120),
    ("Outdoor", "Camping Lantern", "32.00", 20),
    ("Outdoor", "Hiking Socks", "9.99", 200),
    ("Outdoor", "Rain Jacket", "119.00", 9),
]


# Background and accent colour of each category's pictures.
COLOURS = {
    "Books": ("#f3e9d2", "#8c5e34"),
    "Electronics": ("#dde7f3", "#2f5d8a"),
    "Home": ("#e6f0e0", "#4f7a3a"),
    "Outdoor": ("#f6e3dc", "#a24b2a"),
}
PICTURE_SIZE = (800, 600)


def draw_picture(name: str, category: str) -> ContentFile:
    """A PNG of the product's name on its category's colours, as an upload would arrive."""
    background, accent = COLOURS[category]
    width, height = PICTURE_SIZE
    image = Image.new("RGB", PICTURE_SIZE, background)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((40, 40, width - 40, height - 40), radius=48, outline=accent, width=10)
    draw.ellipse((width - 230, 70, width - 80, 220), fill=accent)
    font = ImageFont.load_default(size=56)
    text = "\n".join(textwrap.wrap(name, width=18))
    draw.multiline_text((width / 2, height / 2 + 40), text, font=font, fill=accent, anchor="mm", align="center")
    draw.text((80, 80), category.upper(), font=ImageFont.load_default(size=32), fill=accent)
    out = io.BytesIO()
    image.save(out, "PNG")
    return ContentFile(out.getvalue(), name="demo.png")


class Command(BaseCommand):
    help = (
        "Create four demo categories and about twenty products in them, with stock and pictures, "
        "if there are no products yet."
    )

    def handle(self, *args, **options):
        if Product.objects.exists():
            self.stdout.write("Products exist already; no demo products created.")
            return
        categories = list(dict.fromkeys(category for category, *_ in DEMO_PRODUCTS))
        with atomic("catalog"):
            for category in categories:
                services.create_category(name=category)
            for number, (category, name, price, stock) in enumerate(DEMO_PRODUCTS, start=1):
                product = services.create_product(
                    name=name,
                    price=Decimal(price),
                    stock=stock,
                    category=category,
                    sku=f"DEMO-{number:03d}",
                    description=f"Demo product in {category}.",
                )
                picture = services.prepare_image(draw_picture(name, category))
                services.add_product_image(product_id=product.id, image=picture, alt_text=f"{name} (demo picture)")
        created = f"Created {len(DEMO_PRODUCTS)} demo products in {len(categories)} categories."
        self.stdout.write(self.style.SUCCESS(created))
