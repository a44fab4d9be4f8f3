"""``migrate`` that sets up every database: with APP_DATABASES, each app's own as well as ``default``."""

from django.core.management.commands import migrate
from django.db import connections


class Command(migrate.Command):
    help = "Migrate every database (each app's own, with APP_DATABASES), or only the one named by --database."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(database=None)

    def get_check_kwargs(self, options):
        kwargs = super().get_check_kwargs(options)
        return {**kwargs, "databases": list(connections)} if options["database"] is None else kwargs

    def handle(self, *args, **options):
        if options["database"] is not None:
            return super().handle(*args, **options)
        for alias in connections:
            super().handle(*args, **{**options, "database": alias})
        return None
