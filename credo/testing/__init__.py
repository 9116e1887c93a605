"""Test doubles others can reuse: a fake HTTP API server, the scripted fake backend and a
provider's rate limits simulated from its docs (:mod:`credo.testing.provider_limits_sim`).

Importing this package imports no SDK; the fake server is stdlib only.
"""

from credo.generators.fake_backend import FakeBackend, FakeRateLimitError, FakeTransientError
from credo.testing.fake_batches import BatchFaults
from credo.testing.fake_server import FAULTS, REFUSAL_TEXT, FakeServer, RecordedRequest
from credo.testing.provider_limits_sim import ProviderLimits, ProviderSim

__all__ = [
    "FAULTS",
    "REFUSAL_TEXT",
    "BatchFaults",
    "FakeBackend",
    "FakeRateLimitError",
    "FakeServer",
    "FakeTransientError",
    "ProviderLimits",
    "ProviderSim",
    "RecordedRequest",
]
