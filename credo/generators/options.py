"""The one call both the CLI and ``credo.generate`` make: question-answer corpora or
synthetic documents, online or batched, as :class:`GenerateOptions` say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from credo.errors import ConfigError
from credo.generators.corpus_run import GenerationResult, generate_corpus
from credo.generators.documents import DocumentsResult, generate_documents
from credo.generators.run_options import QA_ONLY, DocumentOptions, GenerateOptions

__all__ = ["QA_ONLY", "DocumentOptions", "GenerateOptions", "run_generate"]


def run_generate(
    source: str | Path,
    out: str | Path,
    *,
    options: GenerateOptions | None = None,
    progress: bool = True,
    report: Callable[[str], None] = print,
) -> GenerationResult | DocumentsResult:
    """Generate (or resume) a corpus for ``source`` into ``out``; ``report`` hears batch news."""
    o = options or GenerateOptions()
    polling = o.batch_polling(report)
    if o.kind == "documents":
        return generate_documents(source, out, options=o, batch_options=polling)
    if o.kind != "qa":
        raise ConfigError(f"--kind {o.kind}: use qa or documents")
    return generate_corpus(source, out, options=o, progress=progress, batch_options=polling)
