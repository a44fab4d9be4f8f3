"""The e2e purchase flow, unchanged, through the gateway of the split shop (tests/split/conftest.py)."""

from tests.e2e.test_purchase_flow import test_the_whole_purchase_flow  # noqa: F401  (run here against the gateway)
