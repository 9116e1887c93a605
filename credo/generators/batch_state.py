"""What a batch run has sent, kept in the corpus folder so any later run resumes it.

``OUT/batches.json`` lists the chunks (batch id, state, counts) and the requests the provider
rejected; ``OUT/batches/<chunk>.ids`` holds each chunk's custom_ids in line order (a chunk
of 100,000 ids would make the JSON slow to rewrite after every poll). Both are written
before the provider is asked to act on them and replaced atomically, so ``kill -9`` or a
reboot at any point leaves a state from which rerunning the same command polls the
batches already submitted instead of paying for them twice.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from credo.corpora.io import write_json, write_text
from credo.errors import CorpusError
from credo.schema import Strict, read_json, validate

STATE_FILE = "batches.json"
IDS_DIR = "batches"
#: Chunk states that need no more polling.
CLOSED = frozenset({"collected", "lost", "rejected"})


@dataclass
class Chunk:
    name: str
    requests: int
    bytes: int
    batch_id: str | None = None
    state: str = "submitting"  # then the provider's word, then collected / lost / rejected
    submitted_at: float | None = None
    provider_counts: dict[str, int] = field(default_factory=dict)
    collected: dict[str, int] = field(default_factory=dict)  # counted from the result files

    @property
    def open(self) -> bool:
        return self.state not in CLOSED


@dataclass
class BatchState:
    out: Path
    provider: str
    model: str
    chunks: list[Chunk] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)  # custom_id -> provider's reason

    @classmethod
    def load(cls, out: Path, provider: str, model: str) -> BatchState:
        path = out / STATE_FILE
        if not path.exists():
            return cls(out, provider, model)
        saved = _read(path)
        if saved.model != model:
            raise CorpusError(
                f"{path}: batches were sent for {saved.model}, not {model} "
                "- rerun with the original --model"
            )
        chunks = [Chunk(**c.model_dump()) for c in saved.chunks]
        return cls(
            out=out,
            provider=provider,
            model=model,
            chunks=chunks,
            invalid=dict(saved.invalid),
        )

    def save(self) -> None:
        write_json(
            {
                "provider": self.provider,
                "model": self.model,
                "chunks": [asdict(c) for c in self.chunks],
                "invalid": self.invalid,
            },
            self.out / STATE_FILE,
        )

    def new_chunk(self, ids: list[str], size: int) -> Chunk:
        chunk = Chunk(f"chunk-{len(self.chunks) + 1:04d}", len(ids), size)
        write_text("".join(i + "\n" for i in ids), self.ids_path(chunk))
        self.chunks.append(chunk)
        self.save()
        return chunk

    def ids_path(self, chunk: Chunk) -> Path:
        return self.out / IDS_DIR / f"{chunk.name}.ids"

    def ids(self, chunk: Chunk) -> list[str]:
        path = self.ids_path(chunk)
        try:
            return path.read_text(encoding="utf-8").split()
        except (OSError, UnicodeDecodeError):
            raise CorpusError(
                f"{path}: missing or unreadable, so the requests of {chunk.name} (batch "
                f"{chunk.batch_id or 'not sent'}) cannot be matched - to recover, run `credo batches "
                f"{self.out} --cancel`, move {self.out / STATE_FILE} aside and rerun the same "
                "generate: records already saved are kept, that chunk's requests are sent again"
            ) from None

    def mark(self, chunk: Chunk, state: str, **fields: Any) -> None:
        chunk.state = state
        for key, value in fields.items():
            setattr(chunk, key, value)
        if state != "submitting" and chunk.submitted_at is None:
            chunk.submitted_at = time.time()
        self.save()

    def open_chunks(self) -> list[Chunk]:
        return [c for c in self.chunks if c.open]

    def summary(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "chunks": [asdict(c) for c in self.chunks],
            "open": sum(c.open for c in self.chunks),
            "rejected_requests": len(self.invalid),
        }


def read_state(out: Path) -> BatchState | None:
    """The state of ``out`` as saved (None when no batch was ever sent from it)."""
    path = out / STATE_FILE
    if not path.exists():
        return None
    saved = _read(path)
    return BatchState.load(out, saved.provider, saved.model)


class _SavedChunk(Strict):
    name: Annotated[str, Field(pattern=r"^chunk-[0-9]{4,9}$")]
    requests: Annotated[int, Field(ge=0, le=10**9, strict=True)]
    bytes: Annotated[int, Field(ge=0, le=10**13, strict=True)]
    batch_id: Annotated[str, Field(max_length=500)] | None = None
    state: Annotated[str, Field(max_length=100)] = "submitting"
    submitted_at: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    provider_counts: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    collected: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)


class _SavedState(Strict):
    provider: str = ""
    model: Annotated[str, Field(min_length=1, max_length=500)]
    chunks: list[_SavedChunk]
    invalid: dict[str, str] = Field(default_factory=dict)


def _read(path: Path) -> _SavedState:
    recover = (
        f"move it aside (mv {path} {path}.bad) and rerun the same generate to resubmit every "
        "request not yet in records.jsonl (batches already sent are then paid twice)"
    )
    data = read_json(path, recover)
    if not isinstance(data, dict):
        raise CorpusError(
            f"{path}: not a batch state (a JSON object with model and chunks, got "
            f"{type(data).__name__}) - {recover}"
        )
    return validate(_SavedState, data, path, error=CorpusError, hint=recover)
