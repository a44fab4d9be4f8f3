"""Create a demo staff user when no staff user exists yet (used by ``make run``)."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a staff user (DEMO_STAFF_EMAIL / DEMO_STAFF_PASSWORD, or a generated password) if none exists."

    def handle(self, *args, **options):
        users = get_user_model().objects
        if users.filter(is_staff=True).exists():
            self.stdout.write("A staff user exists already; none created.")
            return
        email = os.environ.get("DEMO_STAFF_EMAIL", "staff@example.com")
        password = os.environ.get("DEMO_STAFF_PASSWORD") or secrets.token_urlsafe(12)
        users.create_superuser(email=email, password=password, name="Demo Staff")
        self.stdout.write(self.style.SUCCESS(f"Demo staff user created: {email} / {password} (shown once)"))
