"""The e2e purchase flow, unchanged, through the gateway of the split shop (tests/split/conftest.py); then
where its rows are: each app's in its own database, which only the processes serving that app are given."""

import dj_database_url
import psycopg
import requests
from django.apps import apps

from deploy import topology
from ecommerce.routers import APP_GROUPS, EVERYWHERE, app_databases
from tests.e2e.test_purchase_flow import test_the_whole_purchase_flow  # noqa: F401  (run here against the gateway)


def tables_with_rows(url: str) -> dict[str, bool]:
    """Every table of the database at ``url`` -> whether it holds a row."""
    params = dj_database_url.parse(url)
    with psycopg.connect(host=params["HOST"], port=params["PORT"], user=params["USER"], dbname=params["NAME"]) as db:
        tables = [name for (name,) in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {table: db.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")').fetchone()[0] for table in tables}


def owners() -> dict[str, str]:
    """Table -> the database alias that must hold it: its app group's (APP_GROUPS), or ``default`` (the kernel)."""
    group_of = {label: group for group, labels in APP_GROUPS.items() for label in labels}
    return {
        model._meta.db_table: group_of.get(model._meta.app_label, "default")
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label != EVERYWHERE
    }


def test_each_apps_rows_are_only_in_its_own_database(e2e_server):
    databases = {"default": e2e_server.env["DATABASE_URL"]} | app_databases(e2e_server.env["APP_DATABASES"])
    assert set(databases) == {"default", *APP_GROUPS}
    owner = owners()
    for alias, url in databases.items():
        tables = tables_with_rows(url)
        strangers = sorted(table for table in tables if owner.get(table, alias) != alias)
        assert strangers == [], f"{alias}'s database holds other apps' tables"
        if alias != "default":  # after the purchase flow, every app has rows, in its own database
            assert any(filled for table, filled in tables.items() if owner.get(table) == alias), alias


def test_each_process_has_only_the_databases_of_the_apps_it_serves(e2e_server):
    environments = topology.service_environments(dict.fromkeys(e2e_server.split.urls, 1), e2e_server.env)
    databases = {name: set(app_databases(env["APP_DATABASES"])) for name, env in environments.items()}
    assert databases == {
        "catalog": {"accounts", "catalog", "inventory"},
        "orders": {"cart", "orders"},
        "payments": {"payments"},
        "admin": set(APP_GROUPS),  # the staff admin lists every app's rows
    }


def test_the_staff_admin_answers_through_the_gateway(e2e_server):
    response = requests.get(f"{e2e_server.url}/admin/login/", timeout=10)
    assert response.status_code == 200
    assert 'name="password"' in response.text
