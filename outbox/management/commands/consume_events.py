from django.core.management.base import BaseCommand

from outbox import services as outbox


class Command(BaseCommand):
    help = (
        "Apply the events the broker (EVENT_BROKER_URL) holds for this process's apps, each once, until stopped. "
        "Run one per process of a split shop; events wait on their queues while it is down."
    )

    def add_arguments(self, parser):
        parser.add_argument("--idle-seconds", type=float, help="Stop once no event came for this long.")

    def handle(self, *args, idle_seconds=None, **options):
        applied = outbox.consume_events(idle_seconds=idle_seconds)
        self.stdout.write(f"applied={applied}")
