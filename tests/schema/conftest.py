from tests.e2e.harness import e2e_server  # noqa: F401  (a server of its own: these tests change its data)
