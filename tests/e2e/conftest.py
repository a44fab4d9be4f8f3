from tests.e2e.harness import Server, e2e_server  # noqa: F401  (one server for this folder's tests)
