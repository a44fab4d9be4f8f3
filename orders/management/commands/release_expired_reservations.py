"""Cancel pending orders past their expiry and release their stock. Safe to run at any time (cron)."""

from django.core.management.base import BaseCommand

from orders import services


class Command(BaseCommand):
    help = "Cancel pending orders whose reservation expired and give their stock back."

    def handle(self, *args, **options):
        cancelled = services.expire_due_orders()
        self.stdout.write(f"Expired orders cancelled: {cancelled}")
