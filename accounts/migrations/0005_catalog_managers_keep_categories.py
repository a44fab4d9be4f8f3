"""Catalog managers also keep the managed list of categories (catalog 0005): view, add, change, delete."""

from importlib import import_module

from django.db import migrations

staff_groups = import_module("accounts.migrations.0002_staff_groups")

GROUP = "Catalog managers"
CATEGORY_PERMISSIONS = [
    "catalog.view_category",
    "catalog.add_category",
    "catalog.change_category",
    "catalog.delete_category",
]


def _group_and_permissions(apps, schema_editor):
    alias = schema_editor.connection.alias
    staff_groups.create_all_permissions(apps, alias)
    group, _ = apps.get_model("auth", "Group").objects.using(alias).get_or_create(name=GROUP)
    return group, staff_groups._permissions(apps, alias, CATEGORY_PERMISSIONS)


def grant(apps, schema_editor):
    group, permissions = _group_and_permissions(apps, schema_editor)
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    group, permissions = _group_and_permissions(apps, schema_editor)
    group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_token_versions"), ("catalog", "0005_category")]

    operations = [migrations.RunPython(grant, revoke)]
