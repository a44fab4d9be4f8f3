from django.core.management.base import BaseCommand

from outbox import services as outbox


class Command(BaseCommand):
    help = (
        "Deliver the events that were not delivered when their transaction committed (the process died, or a "
        "handler failed). Safe to run at any time, repeatedly and concurrently, e.g. every minute from cron."
    )

    def handle(self, *args, **options):
        counts = outbox.deliver_pending()
        self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
