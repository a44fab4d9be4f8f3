"""Delete the events between apps delivered more than OUTBOX_KEEP_DAYS ago (cron, e.g. hourly)."""

from django.core.management.base import BaseCommand

from outbox import services as outbox


class Command(BaseCommand):
    help = "Delete delivered outbox events (and the records of their handling) older than OUTBOX_KEEP_DAYS."

    def handle(self, *args, **options):
        self.stdout.write(f"Delivered events deleted: {outbox.purge_delivered()}")
