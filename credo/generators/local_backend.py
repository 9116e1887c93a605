"""``local/smollm2``: the embedded SmolLM2-135M-Instruct, run with transformers on CPU.

No key, no network: the default when no API key is configured. Requests that arrive
together are generated as one left-padded batch in a worker thread (batching roughly
triples throughput on 2 cores), so the event loop stays free. The model has a 2k-token
window and wanders on long contexts, so the engine cuts canon context to
``max_context_chars``. We always send our own system message; without one SmolLM2's
template inserts "You are SmolLM...". ``CREDO_LOCAL_THREADS`` sets torch's thread count: on a
shared, oversubscribed box one thread can be ten times faster than two spinning ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

from credo.errors import BackendError, missing_dependency
from credo.generators.base import Backend, RetryDecision, SamplingParams
from credo.generators.spec import BackendSpec
from credo.types import Completion, Message, Usage

KNOWN_LOCAL_MODELS = ("smollm2",)


@dataclass
class _Job:
    messages: list[Message]
    params: SamplingParams
    future: asyncio.Future = field(repr=False)


class LocalBackend(Backend):
    provider = "local"
    max_context_chars = 1500
    request_timeout = None  # queued requests wait behind whole batches; never time them out

    def __init__(self, model: str = "smollm2", *, batch_size: int = 8, **_: object) -> None:
        if model not in KNOWN_LOCAL_MODELS:
            raise BackendError(
                f"local/{model}: unknown embedded model - known: "
                f"{', '.join('local/' + m for m in KNOWN_LOCAL_MODELS)}"
            )
        self.model = model
        self.batch_size = batch_size
        self.max_concurrency = batch_size
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task | None = None
        self._loaded: tuple[Any, Any] | None = None

    async def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._serve())
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(messages, params, future))
        return await future

    async def _serve(self) -> None:
        assert self._queue is not None
        held: list[_Job] = []
        while True:
            batch = held or [await self._queue.get()]
            await asyncio.sleep(0.005)  # let requests sent in the same tick join this batch
            while len(batch) < self.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            same = [j for j in batch if j.params == batch[0].params]
            held = [j for j in batch if j.params != batch[0].params]
            try:
                results = await asyncio.to_thread(self._run_batch, same)
            except Exception as exc:
                for job in same:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            for job, completion in zip(same, results):
                if not job.future.done():
                    job.future.set_result(completion)

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as exc:
                raise missing_dependency("transformers", "the local backend") from exc
            from credo.embedded import smollm2_path

            threads = os.environ.get("CREDO_LOCAL_THREADS")
            if threads:
                import torch

                torch.set_num_threads(int(threads))
            path = smollm2_path()
            tokenizer = AutoTokenizer.from_pretrained(path)
            tokenizer.padding_side = "left"
            model = AutoModelForCausalLM.from_pretrained(path)
            model.eval()
            self._loaded = (tokenizer, model)
        return self._loaded

    def _run_batch(self, jobs: list[_Job]) -> list[Completion]:
        import torch

        tokenizer, model = self._load()
        params = jobs[0].params
        texts = [
            tokenizer.apply_chat_template(
                [m.to_json() for m in j.messages], tokenize=False, add_generation_prompt=True
            )
            for j in jobs
        ]
        encoded = tokenizer(texts, return_tensors="pt", padding=True)
        sampling: dict[str, Any] = {"do_sample": params.temperature > 0}
        if params.temperature > 0:
            sampling.update(temperature=params.temperature, top_p=params.top_p or 1.0)
        if params.seed is not None:
            torch.manual_seed(params.seed)
        with torch.inference_mode():
            output = model.generate(
                **encoded,
                max_new_tokens=params.max_tokens,
                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                **sampling,
            )
        width = encoded["input_ids"].shape[1]
        completions = []
        for row, mask in zip(output, encoded["attention_mask"]):
            new = row[width:].tolist()
            ended = tokenizer.eos_token_id in new
            if ended:
                new = new[: new.index(tokenizer.eos_token_id)]
            text = tokenizer.decode(new, skip_special_tokens=True).strip()
            completions.append(
                Completion(
                    text=text,
                    stop_reason="stop" if ended else "length",
                    model=f"local/{self.model}",
                    usage=Usage(int(mask.sum()), len(new)),
                )
            )
        return completions

    def classify_error(self, exc: BaseException) -> RetryDecision:
        return RetryDecision.NO  # a local failure is a bug or a missing model, not a blip

    def retry_after(self, exc: BaseException) -> float | None:
        return None

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
            self._worker = None
            self._queue = None


BACKEND = BackendSpec(
    "local",
    LocalBackend,
    prices={"*": (0.0, 0.0)},
    summary="a transformers model on this machine",
)
