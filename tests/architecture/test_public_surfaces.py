"""The apps' public surfaces, checked by name (import-linter sees modules, not names).

Each app's public module is ``<app>.services``; its ``__all__`` lists what other apps may use: functions,
frozen dataclasses, domain errors and plain constants, never models, querysets or managers. Orders has a
second one, ``orders.serializers``: the order's wire shape, which every API answering with an order uses. Every module
of every app and of the tests is read, and any name taken from another app that is not in that app's
``__all__`` fails the test, whether it is imported (``from catalog.services import Product``) or read
as an attribute (``catalog.Product`` after ``from catalog import services as catalog``). The tests of
an app (``tests/<app>/``) belong to that app; the other tests belong to none.
"""

import ast
import dataclasses
import enum
import importlib
import inspect
import types
import typing
from pathlib import Path

import pytest
from django.db.models import Manager, Model, QuerySet
from rest_framework.serializers import Serializer

from ecommerce.errors import DomainError

ROOT = Path(__file__).resolve().parents[2]
APPS = ("outbox", "accounts", "inventory", "catalog", "cart", "orders", "payments", "privacy", "storefront")
PUBLIC = {app: f"{app}.services" for app in APPS if app != "storefront"}  # the shop's pages serve no other app
WIRE = {"orders": "orders.serializers"}  # public DRF serializers: one wire shape for every API that sends it
PUBLIC_MODULES = {*PUBLIC.values(), *WIRE.values()}
PLAIN_CONSTANTS = (int, str, float, frozenset, tuple, types.MappingProxyType)


def _app_of_module(dotted: str) -> str | None:
    top = dotted.split(".")[0]
    return top if top in APPS else None


def _owner(path: Path) -> str | None:
    """The app a source file belongs to: its package, or for ``tests/<app>/...`` that app; else None."""
    parts = path.relative_to(ROOT).parts
    if parts[0] == "tests":
        return parts[1] if len(parts) > 2 and parts[1] in APPS else None
    return parts[0] if parts[0] in APPS else None


def _source_files() -> list[Path]:
    files = [p for app in APPS for p in (ROOT / app).rglob("*.py")]
    return sorted(files + list((ROOT / "tests").rglob("*.py")))


def _surface(module: str) -> frozenset[str]:
    return frozenset(getattr(importlib.import_module(module), "__all__", ()))


def violations(source: str, *, owner: str | None, filename: str = "<source>") -> list[str]:
    """Every use, in ``source`` (a module of ``owner``), of another app's name outside that app's ``__all__``."""
    found = []

    def use(module: str, name: str | None, line: int) -> None:
        app = _app_of_module(module)
        if app is None or app == owner:
            return
        public = {PUBLIC.get(app), WIRE.get(app)} - {None}
        if name is None or module == app:
            imported = module if name is None else f"{module}.{name}"
            if imported != app and imported not in public:
                found.append(f"{filename}:{line}: uses {imported}, which is not {app}'s public module")
        elif module not in public:
            found.append(f"{filename}:{line}: uses {module}, which is not {app}'s public module")
        elif name not in _surface(module):
            found.append(f"{filename}:{line}: uses {module}.{name}, which is not in {module}.__all__")

    tree = ast.parse(source, filename)
    bound: dict[str, str] = {}  # local name -> the other app (package) or public module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                use(alias.name, None, node.lineno)
                if _app_of_module(alias.name) not in (None, owner):
                    bound[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                use(node.module, alias.name, node.lineno)
                target = f"{node.module}.{alias.name}"
                if _app_of_module(node.module) not in (None, owner) and target in PUBLIC_MODULES:
                    bound[alias.asname or alias.name] = target
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)):
            continue
        base = node.value
        if isinstance(base, ast.Name) and base.id in bound:
            module = bound[base.id]
            if not (module in APPS and f"{module}.{node.attr}" in PUBLIC_MODULES):
                use(module, node.attr, node.lineno)
        elif isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id in bound:
            module = f"{bound[base.value.id]}.{base.attr}"
            if module in PUBLIC_MODULES:  # ``catalog.services.find_products`` after ``import catalog.services``
                use(module, node.attr, node.lineno)
    return found


def test_no_module_uses_a_name_another_app_does_not_declare_public():
    found = []
    for path in _source_files():
        found += violations(path.read_text(), owner=_owner(path), filename=str(path.relative_to(ROOT)))
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("from catalog.services import Product", "not in catalog.services.__all__"),
        ("from inventory.services import StockItem", "not in inventory.services.__all__"),
        ("from catalog.models import Product", "not catalog's public module"),
        ("from catalog import services as catalog\ncatalog.Product.objects.all()", "not in catalog.services.__all__"),
        ("import catalog.services\ncatalog.services.Product", "not in catalog.services.__all__"),
        ("from payments.services import charging", "not in payments.services.__all__"),
        ("import payments.services.charging", "not payments's public module"),
        ("from orders.api import OrderSerializer", "not orders's public module"),
        ("from orders.serializers import OrderItemSerializer", "not in orders.serializers.__all__"),
    ],
)
def test_the_check_names_a_model_taken_through_another_apps_public_module(line, problem):
    found = violations(line, owner="cart")
    assert len(found) == 1 and problem in found[0], found


def test_the_check_lets_an_app_use_its_own_modules_and_others_public_names():
    source = "from catalog.models import Product\nfrom inventory import services as inventory\ninventory.reserve_stock"
    assert violations(source, owner="catalog") == []
    assert violations("from orders.serializers import OrderSerializer", owner="payments") == []


@pytest.mark.parametrize("module", sorted(WIRE.values()))
def test_a_wire_module_offers_serializers_only(module):
    for name in _surface(module):
        assert issubclass(getattr(importlib.import_module(module), name), Serializer), f"{module}.{name}"


@pytest.mark.parametrize("module", sorted(PUBLIC_MODULES))
def test_every_public_module_declares_its_surface(module):
    assert isinstance(getattr(importlib.import_module(module), "__all__", None), list | tuple)


def _contains_model(hint) -> bool:
    if inspect.isclass(hint) and issubclass(hint, Model | QuerySet | Manager):
        return True
    return any(_contains_model(arg) for arg in typing.get_args(hint))


def _public_names():
    for module in PUBLIC.values():
        public = importlib.import_module(module)
        for name in getattr(public, "__all__", ()):
            yield module, name, getattr(public, name)


@pytest.mark.parametrize(
    ("module", "name", "value"), list(_public_names()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_a_public_name_is_a_function_a_frozen_dataclass_a_domain_error_a_port_or_a_constant(module, name, value):
    if inspect.isclass(value):
        if issubclass(value, DomainError | enum.Enum) or getattr(value, "_is_protocol", False):
            return  # an error, a set of choices, or a port (a Protocol another app provides)
        assert dataclasses.is_dataclass(value), f"{module}.{name} is a class but not a dataclass"
        assert value.__dataclass_params__.frozen, f"{module}.{name} is not frozen"
        for field, hint in typing.get_type_hints(value).items():
            assert not _contains_model(hint), f"{module}.{name}.{field} holds a model"
    elif inspect.isfunction(value):
        hints = typing.get_type_hints(value)
        assert "return" in hints, f"{module}.{name} does not say what it returns"
        assert not _contains_model(hints["return"]), f"{module}.{name} returns a model or a queryset"
    else:
        assert isinstance(value, PLAIN_CONSTANTS), f"{module}.{name} is a {type(value).__name__}"
        if isinstance(value, frozenset | tuple):
            for item in value:
                is_error = inspect.isclass(item) and issubclass(item, DomainError)
                assert is_error or isinstance(item, PLAIN_CONSTANTS), f"{module}.{name} holds objects"
