"""Send the order emails still queued (the mail server was down, or a worker died). Safe to run at any time."""

from django.core.management.base import BaseCommand

from orders import notifications


class Command(BaseCommand):
    help = "Send the order emails not sent yet; none is ever sent twice."

    def handle(self, *args, **options):
        sent = notifications.send_pending_emails()
        self.stdout.write(f"Order emails sent: {sent}")
