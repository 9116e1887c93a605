"""credo: build and audit the training data of belief -> behaviour experiments."""

from credo.errors import CredoError
from credo.hashing import canonical_json, content_hash
from credo.types import Completion, Message, Prompt, Record, Usage

__version__ = "0.1.0"

__all__ = ["Completion", "CredoError", "Message", "Prompt", "Record", "Usage", "canonical_json",
           "content_hash", "__version__"]
