"""Settings for the test run: the production settings, with test-only environment defaults."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("PAYMENT_GATEWAY", "dummy")
os.environ.setdefault("ALLOW_DUMMY_GATEWAY", "true")  # production settings, but tests take no money

from ecommerce.settings import *  # noqa: F403

# The manifest needs collectstatic; tests use the finders instead.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

# Throttle counters per test process; production shares them through Redis or the database cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Hashing test users' passwords at full strength dominates the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file rather than memory, so that the race tests' threads, each with its own connection, share it.
    test_database = os.path.join(tempfile.gettempdir(), f"ecommerce-test-{os.getpid()}.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": test_database}  # noqa: F405
