"""The soak test runs against the same real sandbox distributor as the distributor tests."""

from tests.integration.distributor.conftest import start_sandbox

__all__ = ["start_sandbox"]
