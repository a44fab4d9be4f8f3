from datetime import timedelta

from django.core.management.base import BaseCommand

from payments import services


class Command(BaseCommand):
    help = (
        "Settle payments left 'processing' (a provider timeout, a crashed worker): ask the provider what became "
        "of each and record it. Safe to run at any time, e.g. every minute from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-seconds",
            type=int,
            default=60,
            help="Only payments processing for at least this long (default 60), so as not to race live requests.",
        )

    def handle(self, *args, older_than_seconds: int, **options):
        counts = services.reconcile_processing_payments(older_than=timedelta(seconds=max(older_than_seconds, 0)))
        self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
