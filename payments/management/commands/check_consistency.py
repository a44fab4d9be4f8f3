from django.core.management.base import BaseCommand, CommandError

from payments import services


class Command(BaseCommand):
    help = (
        "Check the invariants that span apps: payments succeeded on orders not paid, payments refunded on orders "
        "still paid, paid orders whose stock is not sold, cancelled or refunded orders still holding stock, "
        "refunded orders whose stock was not returned, and stock-ledger drift. Exits 1 when any is found. "
        "--repair delivers the pending events, then redoes each missing step."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Fix what can be fixed, then report what is left.")

    def handle(self, *args, repair: bool, **options):
        problems = services.repair_inconsistencies() if repair else services.find_inconsistencies()
        for problem in problems:
            self.stdout.write(f"{problem.kind}: {problem.subject}: {problem.detail}")
        self.stdout.write(f"{len(problems)} problem(s)")
        if problems:
            raise CommandError("The data is not consistent.")
