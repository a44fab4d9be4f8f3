"""Which database holds each app's tables: one database by default, or one per app (``APP_DATABASES``).

Apps never join, reference or lock each other's rows, and each transaction of a service is opened on
its own app's database (``ecommerce.db.atomic``), so any app can live on a database of its own. The
groups below are what must stay together: Django's users, groups, permissions, content types, admin log,
sessions and JWT blacklist reference the user model (and each other) by foreign key, so they live with
``accounts``. Everything not listed (the kernel: ``ecommerce``'s idempotency records, the cache table)
stays on ``default``. The outbox's two tables exist in every database, since each app writes its
events in its own transaction (``outbox.publish``) and records the events it handled in its own.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Apps that may be placed on a database of their own, and the Django apps that must live with each.
APP_GROUPS = {
    "accounts": ("accounts", "auth", "admin", "contenttypes", "sessions", "token_blacklist"),
    "catalog": ("catalog",),
    "cart": ("cart",),
    "inventory": ("inventory",),
    "orders": ("orders",),
    "payments": ("payments",),
}
_GROUP_OF = {label: group for group, labels in APP_GROUPS.items() for label in labels}
EVERYWHERE = "outbox"  # its tables are in every database; its rows go where the hint ``app_label`` says


def app_databases(value: str) -> dict[str, str]:
    """``APP_DATABASES``: ``app=URL`` pairs, comma-separated, placing those apps on databases of their own;
    ``*=URL`` with ``{app}`` in the URL places every app (APP_GROUPS) that way. Returns alias -> URL."""
    urls = {}
    for pair in filter(None, (item.strip() for item in value.split(","))):
        app, separator, url = pair.partition("=")
        if not separator or (app != "*" and app not in APP_GROUPS):
            raise ImproperlyConfigured(f"APP_DATABASES: {app!r} is not one of *, {', '.join(APP_GROUPS)}.")
        urls.update({name: url.format(app=name) for name in APP_GROUPS} if app == "*" else {app: url})
    return urls


def database_for(app_label: str) -> str:
    """The database alias holding ``app_label``'s tables ("default" unless APP_DATABASES places it)."""
    group = _GROUP_OF.get(app_label)
    return group if group in settings.DATABASES else "default"


class AppDatabaseRouter:
    """Routes each model to its app's database; refuses relations across databases."""

    def db_for_read(self, model, **hints):
        label = model._meta.app_label
        if label == EVERYWHERE:
            return database_for(hints["app_label"]) if "app_label" in hints else None
        return database_for(label)

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return obj1._state.db == obj2._state.db

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return app_label == EVERYWHERE or database_for(app_label) == db
