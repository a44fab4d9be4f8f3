"""Forget the responses kept for Idempotency-Key replays once their 24 hours are over (cron)."""

from django.core.management.base import BaseCommand

from ecommerce.idempotency import purge_expired_records


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than their lifetime."

    def handle(self, *args, **options):
        self.stdout.write(f"Idempotency records deleted: {purge_expired_records()}")
