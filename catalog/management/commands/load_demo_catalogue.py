"""Fill an empty catalogue with demo products and their stock (used by ``make run``)."""

from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from catalog import services
from catalog.models import Product

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


class Command(BaseCommand):
    help = "Create about twenty demo products in four categories, with stock, if there are no products yet."

    def handle(self, *args, **options):
        if Product.objects.exists():
            self.stdout.write("Products exist already; no demo products created.")
            return
        with transaction.atomic():
            for number, (category, name, price, stock) in enumerate(DEMO_PRODUCTS, start=1):
                services.create_product(
                    name=name,
                    price=Decimal(price),
                    stock=stock,
                    category=category,
                    sku=f"DEMO-{number:03d}",
                    description=f"Demo product in {category}.",
                )
        self.stdout.write(self.style.SUCCESS(f"Created {len(DEMO_PRODUCTS)} demo products in 4 categories."))
