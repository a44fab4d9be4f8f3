"""Two staff roles on Django's model permissions: the admin and the API check the same ones.

- Catalog managers: products and stock (and the ledger, read-only); categories from accounts 0005.
- Order managers: orders (ship, deliver, cancel, refund), their payments (read-only) and customers (read-only).
Superusers keep every permission. The permissions themselves are made here, as ``migrate`` would
make them only after the last migration.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

STAFF_GROUPS = {
    "Catalog managers": [
        "catalog.view_product",
        "catalog.add_product",
        "catalog.change_product",
        "inventory.view_stockitem",
        "inventory.change_stockitem",
        "inventory.view_stockmovement",
        "inventory.view_reservation",
    ],
    "Order managers": [
        "orders.view_order",
        "orders.change_order",
        "orders.view_orderline",
        "payments.view_payment",
        "accounts.view_user",
    ],
}


def _permissions(apps, alias, names):
    Permission = apps.get_model("auth", "Permission").objects.using(alias)
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.get(content_type__app_label=app_label, codename=codename))
    return found


def create_all_permissions(apps, alias):
    """The model permissions of every app as of this migration (``migrate`` makes them only at the end)."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, using=alias, apps=apps)
        app_config.models_module = None


def create_staff_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    alias = schema_editor.connection.alias
    create_all_permissions(apps, alias)
    for name, permissions in STAFF_GROUPS.items():
        group, _ = Group.objects.using(alias).get_or_create(name=name)
        group.permissions.add(*_permissions(apps, alias, permissions))


def remove_staff_groups(apps, schema_editor):
    alias = schema_editor.connection.alias
    apps.get_model("auth", "Group").objects.using(alias).filter(name__in=STAFF_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0001_initial"),
        ("inventory", "0001_initial"),
        ("orders", "0001_initial"),
        ("payments", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_staff_groups, remove_staff_groups)]
