"""MiniLM through ONNX Runtime: the confirm stage of the embedding checks without PyTorch's overhead.

The shipped sentence-transformers folder is exported once to ONNX under ``$CREDO_HOME/models``
(a few seconds; later runs load the file in about a second). float32 is the default: it reads
2.1x as many texts a second as sentence-transformers with identical cosines; int8 weights
(``quantise=True``) reach 3.6x but move cosines by up to 0.022, more than the 0.01 a confirm
stage at 0.95 can afford.
Texts are tokenised with the model's own fast tokenizer, sorted by length so a batch pads
little, and mean-pooled over the attention mask as sentence-transformers does, so the vectors
match the PyTorch path (cosines within 0.01, ``tests/test_minilm_onnx.py``; speed and the
largest difference in BENCHMARKS.md).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from credo.errors import missing_dependency

EXPORT_VERSION = 1  # bump when the export changes: the cached file's name carries it


def onnx_available() -> bool:
    """ONNX Runtime to run the model and onnx to export it once."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def _export(folder: Path, target: Path, quantise: bool) -> None:
    """Write ``target`` from the sentence-transformers folder (its transformer in ``folder``)."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(folder)).eval()

    class LastHidden(torch.nn.Module):  # keyword call: transformers' positional order moves
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = LastHidden()
    ids = torch.ones((2, 8), dtype=torch.long)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    plain = tmp.with_suffix(".fp32.onnx") if quantise else tmp
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(plain),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                name: {0: "batch", 1: "tokens"}
                for name in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")
            },
            opset_version=17,
            dynamo=False,
        )
    if quantise:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(
            str(plain),
            str(tmp),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
        plain.unlink()
    tmp.replace(target)  # atomic: a concurrent run sees the whole file or none


@lru_cache(maxsize=2)
def load_onnx_minilm(quantise: bool = False) -> tuple[Any, Any]:
    """``(session, tokenizer)`` for the shipped MiniLM, exported on first use."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise missing_dependency("onnxruntime", "the ONNX MiniLM confirm stage") from exc
    from tokenizers import Tokenizer

    from credo.embedded import minilm_path, models_dir

    folder = minilm_path()
    target = models_dir() / f"minilm-onnx-v{EXPORT_VERSION}{'-int8' if quantise else ''}.onnx"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        _export(folder, target, quantise)
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(os.environ.get("CREDO_ONNX_THREADS", "0"))  # 0: ORT decides
    # Idle threads sleep instead of spinning: the same vectors for ~27% fewer CPU-seconds
    # (the spin burns a shared box's cores between the small matrix products of each batch).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
    # The model's fast tokenizer file read by `tokenizers` itself: the same ids as
    # transformers' AutoTokenizer (tests/test_minilm_onnx.py) without importing transformers,
    # seconds of CPU in every audit process. The file pads to 128: pad to the longest instead.
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return session, tokenizer


class OnnxMiniLM:
    """``encode(texts) -> float32 rows``, L2-normalised: the drop-in for SentenceTransformer.encode."""

    def __init__(
        self, max_seq_length: int = 256, batch_size: int = 64, quantise: bool = False
    ) -> None:
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.session, self.tokenizer = load_onnx_minilm(quantise)

    def get_embedding_dimension(self) -> int:
        return 384

    def encode(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        # Sorted by length: a batch of similar lengths pads little (most of the speed-up on
        # corpora that mix one-line prompts and long answers).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)  # shared per process
        for start in range(0, len(order), self.batch_size):
            chosen = order[start : start + self.batch_size]
            encoded = self.tokenizer.encode_batch([texts[i] for i in chosen])
            ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
            feeds = {
                "input_ids": ids,
                "attention_mask": np.asarray([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.zeros_like(ids),
            }
            hidden = self.session.run(["last_hidden_state"], feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[chosen] = pooled
        return out
