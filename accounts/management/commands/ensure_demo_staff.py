"""Create a demo staff user when no staff user exists yet (used by ``make run``, a demo).

With DEBUG off it does nothing unless ALLOW_DEMO_STAFF=true: a production shop gets its staff from
``createsuperuser``, not from a well-known email with a password printed on a terminal.
"""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create a staff user (DEMO_STAFF_EMAIL / DEMO_STAFF_PASSWORD, or a generated password) if none exists. "
        "With DEBUG off, only when ALLOW_DEMO_STAFF=true."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG and not settings.ALLOW_DEMO_STAFF:
            self.stdout.write("DEBUG is off and ALLOW_DEMO_STAFF is not set: no demo staff user created.")
            return
        users = get_user_model().objects
        if users.filter(is_staff=True).exists():
            self.stdout.write("A staff user exists already; none created.")
            return
        email = os.environ.get("DEMO_STAFF_EMAIL", "staff@example.com")
        password = os.environ.get("DEMO_STAFF_PASSWORD") or secrets.token_urlsafe(16)
        user = users.model(email=email, name="Demo Staff")
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("DEMO_STAFF_PASSWORD is refused: " + " ".join(exc.messages)) from exc
        users.create_superuser(email=email, password=password, name="Demo Staff")
        self.stdout.write(self.style.SUCCESS(f"Demo staff user created: {email} / {password} (shown once)"))
