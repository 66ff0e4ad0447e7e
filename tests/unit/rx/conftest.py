"""The store tests' fixtures: a fresh store, a settable clock, a software order signer."""

from tests.unit.store.conftest import clock, signer, software_signing, store

__all__ = ["clock", "signer", "software_signing", "store"]
