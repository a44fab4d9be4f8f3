"""``createsuperuser`` on the database that holds the users (``accounts``'s, with APP_DATABASES).

It overrides Django's own because ``ecommerce`` comes before ``django.contrib.auth`` in INSTALLED_APPS.
"""

from django.contrib.auth.management.commands import createsuperuser

from ecommerce.routers import database_for


class Command(createsuperuser.Command):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(database=database_for("accounts"))
