"""Test doubles others can reuse: a fake HTTP API server and the scripted fake backend.

Importing this package imports no SDK; the fake server is stdlib only.
"""

from credo.generators.fake_backend import FakeBackend, FakeRateLimitError, FakeTransientError
from credo.testing.fake_batches import BatchFaults
from credo.testing.fake_server import FAULTS, REFUSAL_TEXT, FakeServer, RecordedRequest

__all__ = [
    "FAULTS",
    "REFUSAL_TEXT",
    "BatchFaults",
    "FakeBackend",
    "FakeRateLimitError",
    "FakeServer",
    "FakeTransientError",
    "RecordedRequest",
]
