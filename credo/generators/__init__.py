"""Teacher generation: backends behind one interface, and the engine that drives them.

Heavy SDKs (openai, anthropic, transformers) are imported only when their backend is built.
"""

from credo.generators.base import Backend, MalformedResponseError, RetryDecision, SamplingParams
from credo.generators.corpus_run import GenerationResult, generate_corpus
from credo.generators.engine import Generation, Generator
from credo.generators.registry import default_model, default_registry, load_backend, parse_model
from credo.generators.retry import RetryPolicy

__all__ = [
    "Backend",
    "Generation",
    "GenerationResult",
    "Generator",
    "MalformedResponseError",
    "RetryDecision",
    "RetryPolicy",
    "SamplingParams",
    "default_model",
    "default_registry",
    "generate_corpus",
    "load_backend",
    "parse_model",
]
