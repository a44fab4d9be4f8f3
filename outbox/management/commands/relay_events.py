import time
from datetime import timedelta

from django.core.management.base import BaseCommand

from outbox import services as outbox


class Command(BaseCommand):
    help = (
        "Deliver the events that were not delivered when their transaction committed (the process died, or a "
        "handler failed). Safe to run at any time, repeatedly and concurrently, e.g. every minute from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, help="Run again every this many seconds, until stopped.")
        parser.add_argument("--older-than", type=float, default=0, help="Leave events younger than this (seconds).")

    def handle(self, *args, every=None, older_than=0, **options):
        while True:
            counts = outbox.deliver_pending(older_than=timedelta(seconds=older_than))
            self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()), ending="\n")
            self.stdout.flush()
            if every is None:
                return
            time.sleep(every)
