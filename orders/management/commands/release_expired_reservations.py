"""Cancel pending orders past their expiry and release their stock, and settle checkouts that stopped
between their steps. Safe to run at any time (cron)."""

from django.core.management.base import BaseCommand

from orders import services


class Command(BaseCommand):
    help = "Cancel pending orders whose reservation expired and give their stock back; settle stopped checkouts."

    def handle(self, *args, **options):
        cancelled = services.expire_due_orders()
        self.stdout.write(f"Expired orders cancelled: {cancelled}")
        undone = sum(services.settle_checkout(token=token) for token in services.find_unfinished_checkouts())
        self.stdout.write(f"Stopped checkouts undone: {undone}")
